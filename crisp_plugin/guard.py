"""``Guard``: the built-in inner middleware, outermost around every handler run.

- Timeouts: one watchdog timer for all running handlers (not a timer per run): a
  handler (with the inner middleware around it) is cancelled between
  ``handler_timeout`` and ``handler_timeout`` plus a tick (a tenth of the timeout, at
  most 0.25 s) after it started, and reported as a ``TimeoutError``.
- Failures: a handler that raises or times out is logged with the event name, website
  and session, reported to the observers and to ``on_error(event, exc)``; the next
  handlers and events run as usual. An exception in ``on_error`` is logged only.
- One log line per handler run: name, website_id, session_id, handler, duration_ms,
  outcome (ok, error, timeout). Nothing is built for it when below the log level.

A cancellation of the worker itself (the drain deadline) and ``BaseException``s that
are not errors (``KeyboardInterrupt``) pass through.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog

from crisp_plugin.events.base import Event
from crisp_plugin.log import is_enabled
from crisp_plugin.middleware import Next, Unit
from crisp_plugin.observer import Observer
from crisp_plugin.stats import DispatchStats

__all__ = ["ErrorHook", "Guard"]

ErrorHook = Callable[[Event, BaseException], Awaitable[None]]

FAILED = "_crisp_failed"
"""Set in an event's ``__dict__`` when one of its handlers failed."""


class Guard:
    """Runs handlers under a deadline and reports how each run went."""

    def __init__(
        self,
        *,
        timeout: float,
        on_error: ErrorHook,
        observers: Sequence[Observer] = (),
        stats: DispatchStats | None = None,
        log: Any = None,
    ) -> None:
        self.timeout = timeout
        self.stats = stats if stats is not None else DispatchStats()
        self._on_error = on_error
        self.observers: tuple[Observer, ...] = tuple(observers)
        self.log: Any = log if log is not None else structlog.get_logger("crisp_plugin.dispatch")
        self._log_ok = is_enabled(logging.INFO)
        self._tick = min(0.25, max(0.001, timeout / 10))
        self._deadlines: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._watchdog: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add_observer(self, observer: Observer) -> None:
        """Report handler runs to ``observer`` too."""
        if observer not in self.observers:
            self.observers = (*self.observers, observer)

    # -- one run ---------------------------------------------------------------------

    async def run(self, event: Event, unit: Unit, task: asyncio.Task[Any] | None = None) -> None:
        """Run one handler (through its inner middleware) and report the outcome.
        ``task``: the task running it, when the caller knows (else looked up)."""
        if task is None:
            task = self._current_task()
        handler = unit.handler
        started = time.perf_counter()
        self._deadlines[task] = started + self.timeout
        if self._watchdog is None:
            self._arm()
        try:
            if unit.inner:
                await _inner_chain(unit)(event)
            else:
                await handler.call(event)
        except BaseException as exc:
            await self._run_failed(event, handler.name, exc, started, task)
            return
        del self._deadlines[task]
        if self._expired and task in self._expired:
            self._expired.discard(task)  # the handler swallowed its timeout: ok
            task.uncancel()
        if self._log_ok or self.observers:
            self._handled(event, handler.name, started)

    def _handled(self, event: Event, handler: str, started: float) -> None:
        seconds = time.perf_counter() - started
        if self._log_ok:
            self.log.info(
                "event handled",
                name=event.name,
                website_id=event.website_id,
                session_id=event.session_id,
                handler=handler,
                duration_ms=round(seconds * 1000, 3),
                outcome="ok",
            )
        name = event.__dict__.get("_crisp_name") or event.name  # (the property, inline)
        for observer in self.observers:
            try:
                observer.handler_ran(name, handler, seconds, "ok")
            except Exception:
                self.log.exception("observer failed", handler=handler)

    async def _run_failed(
        self,
        event: Event,
        handler: str,
        exc: BaseException,
        started: float,
        task: asyncio.Task[Any],
    ) -> None:
        self._deadlines.pop(task, None)
        outcome = "error"
        if task in self._expired:  # the watchdog cancelled this handler
            self._expired.discard(task)
            if task.uncancel() == 0 and isinstance(exc, asyncio.CancelledError):
                outcome = "timeout"
                self.stats.count("timeouts", event.name)
                exc = TimeoutError(
                    f"handler {handler} exceeded dispatch.handler_timeout = {self.timeout:g} s"
                )
        if isinstance(exc, asyncio.CancelledError):
            if task.cancelling():
                raise exc  # the dispatcher itself is being cancelled (drain deadline)
        elif not isinstance(exc, Exception):
            raise exc
        seconds = time.perf_counter() - started
        for observer in self.observers:
            try:
                observer.handler_ran(event.name, handler, seconds, outcome)
            except Exception:
                self.log.exception("observer failed", handler=handler)
        await self.failed(event, handler, exc, outcome, seconds)

    # -- failures ----------------------------------------------------------------------

    async def failed(
        self,
        event: Event,
        where: str,
        exc: BaseException,
        outcome: str = "error",
        seconds: float = 0.0,
    ) -> None:
        """Log a failure of ``where`` (a handler, a filter, a middleware), tell the
        observers and call ``on_error``; never raises but a cancellation of the worker."""
        event.__dict__[FAILED] = True
        self.log.error(
            "event handler failed",
            name=event.name,
            website_id=event.website_id,
            session_id=event.session_id,
            handler=where,
            duration_ms=round(seconds * 1000, 3),
            outcome=outcome,
            error=f"{type(exc).__name__}: {exc}",
            exc_info=exc if outcome != "timeout" else None,
        )
        for observer in self.observers:
            try:
                observer.handler_failed(event.name, where, exc)
            except Exception:
                self.log.exception("observer failed", handler=where)
        try:
            async with asyncio.timeout(self.timeout):
                await self._on_error(event, exc)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
        except BaseException as hook_exc:  # the hook must never propagate
            self.log.error(
                "on_error hook failed",
                name=event.name,
                website_id=event.website_id,
                session_id=event.session_id,
                handler=where,
                error=f"{type(hook_exc).__name__}: {hook_exc}",
                exc_info=hook_exc,
            )

    def _current_task(self) -> asyncio.Task[Any]:
        """The task running the handler. ``current_task(loop)`` with the loop known
        saves the ``getpid`` system call ``get_running_loop`` makes every time."""
        loop = self._loop
        task = asyncio.current_task(loop) if loop is not None else None
        if task is None:  # the first run, or a new loop
            loop = self._loop = asyncio.get_running_loop()
            task = asyncio.current_task(loop)
        assert task is not None
        return task

    # -- the watchdog --------------------------------------------------------------------

    def _arm(self) -> None:
        self._watchdog = asyncio.get_running_loop().call_later(self._tick, self._sweep)

    def _sweep(self) -> None:
        """Cancel handlers past their deadline; re-arm while any runs."""
        self._watchdog = None
        deadlines = self._deadlines
        if not deadlines:
            return
        now = time.perf_counter()
        for task, deadline in list(deadlines.items()):
            if deadline <= now and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        self._arm()

    def close(self) -> None:
        """Stop the watchdog (after the drain)."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None


def _inner_chain(unit: Unit) -> Next:
    handler = unit.handler
    call: Next = handler.call
    for middleware in reversed(unit.inner):
        call = _wrap(middleware, call, unit)
    return call


def _wrap(middleware: Any, call_next: Next, unit: Unit) -> Next:
    async def step(event: Event) -> None:
        await middleware(event, call_next, unit.handler)

    return step
