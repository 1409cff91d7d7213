"""``Dispatcher``: the one entry point of transports, from ``(name, payload)`` to handlers.

    dispatcher = Dispatcher(plugin, settings.dispatch)
    accepted = dispatcher.feed("message:send", payload, source="webhook")

``feed`` never waits for handlers. It parses the payload (``EventError`` when it does
not fit the typed model: a webhook answers 400), drops duplicates and the plugin's own
echoes, and queues the event behind the others of its conversation. It returns True
when the event was accepted (a duplicate or an echo is accepted and dropped), False
when the dispatcher is full (``queue_limit`` events waiting) or draining, so a
transport can push back (a webhook answers 503 and Crisp delivers again later).

Semantics:

- Order: events of one conversation ``(website_id, session_id)`` run one after the
  other in arrival order, every matching handler in declaration order. Events without
  a session are ordered per website.
- Concurrency: at most ``concurrency`` conversations run at once, each in one worker
  task. A worker that empties its conversation takes the next waiting one, and hands
  over after each event while others wait, so a chatty conversation cannot starve the
  rest. Workers exit when nothing waits: tasks and queues are bounded by the traffic
  in flight, not by the number of conversations ever seen.
- Duplicates: ``message:send`` / ``message:received`` by website, session and
  fingerprint for ``dedupe_ttl`` seconds, whatever the source. Other events carry no
  id, and two equal payloads can be two real events (resolved, unresolved, resolved
  again), so a digest of the payload makes a duplicate only when the earlier copy came
  from another source (RTM and web hooks both on) or the delivery is a redelivery (a
  web hook's ``X-Delivery-Attempt-Count`` above 1), within ``dedupe_digest_ttl``
  seconds. Repeats from one source always run. At most ``dedupe_max`` keys are kept.
- Echoes (``drop_echoes``): a ``message:received`` whose origin is the plugin's URN,
  or whose fingerprint the plugin's REST client reported sending.
- Failures: a handler that raises or exceeds ``handler_timeout`` is logged with the
  event name, website and session, passed to ``plugin.on_error``, and the next
  handlers and events run as usual. An exception in ``on_error`` is logged only.
- Timeouts: one watchdog timer for all running handlers (not a timer per handler
  run): a handler is cancelled between ``handler_timeout`` and ``handler_timeout``
  plus a tick (a tenth of the timeout, at most 0.25 s) after it started.
- One log line per handler run: name, website_id, session_id, handler, duration_ms,
  outcome (ok, error, timeout). When the line is below the log level nothing is
  built for it.
- Drain: ``drain()`` stops accepting and waits for every accepted event up to the
  deadline; what is still running then is cancelled and logged with its count.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

import structlog

from crisp_plugin.config import DispatchSettings
from crisp_plugin.dedupe import CrossCopies, TTLSet
from crisp_plugin.errors import EventError
from crisp_plugin.events.base import Event
from crisp_plugin.events.parse import parse_event
from crisp_plugin.plugin import BoundHandler, Plugin
from crisp_plugin.stats import DispatchStats

__all__ = ["Dispatcher"]

ConversationKey = tuple[str | None, str | None]

# (event name, seconds, outcome, handler name), called after every handler run.
HandlerListener = Callable[[str, float, str, str], None]

_FINGERPRINTED = frozenset({"message:send", "message:received"})


class Dispatcher:
    """Feeds events to a plugin's handlers. See the module docstring."""

    def __init__(self, plugin: Plugin, settings: DispatchSettings | None = None) -> None:
        self.plugin = plugin
        self.settings = settings if settings is not None else plugin.config.dispatch
        self.stats = DispatchStats()
        # Bound once: a lazy proxy would rebuild the logger on every line (hot path).
        # Configure logging (crisp_plugin.log.configure_logging) before this point.
        self.log: Any = structlog.get_logger("crisp_plugin.dispatch").bind()
        s = self.settings
        self._dedupe = TTLSet(s.dedupe_ttl, s.dedupe_max)
        self._digests = CrossCopies(s.dedupe_digest_ttl, s.dedupe_max)
        self._sent = TTLSet(max(s.dedupe_ttl, 60.0), max(s.dedupe_max, 1000))
        self._queues: dict[ConversationKey, deque[Event]] = {}
        self._ready: deque[ConversationKey] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._accepting = True
        self._handler_listeners: list[HandlerListener] = []
        # Handler timeouts: deadline (perf_counter) of each worker's running handler,
        # checked by one timer; workers it cancelled are in _expired.
        self._timeout = s.handler_timeout
        self._tick = min(0.25, max(0.001, s.handler_timeout / 10))
        self._deadlines: dict[asyncio.Task[None], float] = {}
        self._expired: set[asyncio.Task[None]] = set()
        self._watchdog: asyncio.TimerHandle | None = None
        enabled = getattr(self.log, "is_enabled_for", None)
        self._log_ok = bool(enabled(logging.INFO)) if callable(enabled) else True
        self._attach()

    def _attach(self) -> None:
        if self.plugin.has_rest:
            add_listener = getattr(self.plugin.rest, "add_send_listener", None)
            if add_listener is not None:
                add_listener(self.note_sent)

    def _detach(self) -> None:
        if self.plugin.has_rest:
            remove = getattr(self.plugin.rest, "remove_send_listener", None)
            if remove is not None:
                remove(self.note_sent)

    def add_handler_listener(self, callback: HandlerListener) -> None:
        """Call ``callback(event_name, seconds, outcome, handler_name)`` after each
        handler run (metrics). Exceptions it raises are logged and ignored."""
        self._handler_listeners.append(callback)

    def _observe(self, name: str, seconds: float, outcome: str, handler: str) -> None:
        for callback in self._handler_listeners:
            try:
                callback(name, seconds, outcome, handler)
            except Exception:
                self.log.exception("handler listener failed", handler=handler)

    # ----------------------------------------------------------------- inspection

    @property
    def accepting(self) -> bool:
        """False once ``drain`` started."""
        return self._accepting

    @property
    def in_flight(self) -> int:
        """Events accepted and not finished (queued or running)."""
        return self._pending

    @property
    def active_conversations(self) -> int:
        """Conversations with events queued or running."""
        return len(self._queues)

    async def wait_idle(self) -> None:
        """Return when no event is queued or running."""
        await self._idle.wait()

    # --------------------------------------------------------------------- intake

    def note_sent(self, website_id: str, session_id: str, fingerprint: int) -> None:
        """Remember a message the plugin sent, to drop its ``message:received`` echo."""
        self._sent.add((website_id, session_id, int(fingerprint)))

    def feed(
        self, name: str, payload: Any, source: str = "direct", redelivery: bool = False
    ) -> bool:
        """Accept one event; see the module docstring for the return value. Never
        blocks: it only parses, checks and queues.

        ``redelivery`` is True when the transport knows this is a repeated delivery of
        an event it delivered before (a web hook's attempt 2 and later)."""
        stats = self.stats
        if not self._accepting or self._pending >= self.settings.queue_limit:
            stats.count("rejected", name)
            return False
        try:
            event = parse_event(name, payload)
        except EventError:
            stats.count("malformed", name)
            raise
        received = stats.received
        if name in received:
            received[name] += 1
        else:
            stats.count("received", name)
        if not self.plugin.handlers_for(name):
            stats.count("ignored", name)  # nothing would run: no dedupe key to keep
            return True
        if self._is_duplicate(name, event, payload, source, redelivery):
            stats.count("duplicates", name)
            return True
        if name == "message:received" and self.settings.drop_echoes and self._is_echo(event):
            stats.count("echoes", name)
            return True
        self._enqueue((event.website_id, event.session_id), event)
        return True

    def _is_duplicate(
        self, name: str, event: Event, payload: dict[str, Any], source: str, redelivery: bool
    ) -> bool:
        if name in _FINGERPRINTED:
            fingerprint = getattr(event, "fingerprint", None)
            key: Hashable = (name, event.website_id, event.session_id, fingerprint)
            return self._dedupe.add(key)
        if self._digests.ttl <= 0:
            return False
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
        return self._digests.arrive((name, digest), source, redelivery)

    def _is_echo(self, event: Event) -> bool:
        if getattr(event, "origin", None) == self.plugin.urn:
            return True
        key = (event.website_id, event.session_id, getattr(event, "fingerprint", None))
        return key in self._sent

    def _enqueue(self, conversation: ConversationKey, event: Event) -> None:
        self._pending += 1
        self._idle.clear()
        queue = self._queues.get(conversation)
        if queue is not None:
            queue.append(event)
            return
        self._queues[conversation] = deque((event,))
        if len(self._workers) < self.settings.concurrency:
            task = asyncio.get_running_loop().create_task(self._work(conversation))
            self._workers.add(task)
            task.add_done_callback(self._worker_done)
        else:
            self._ready.append(conversation)

    # -------------------------------------------------------------------- workers

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("dispatch worker crashed", exc_info=task.exception())

    async def _work(self, conversation: ConversationKey) -> None:
        task = asyncio.current_task()
        assert task is not None
        queues, ready = self._queues, self._ready
        while True:
            queue = queues[conversation]
            event = queue[0]  # stays queued while running: later events line up behind
            try:
                await self._handle(event, task)
            finally:
                queue.popleft()
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()
            if not queue:
                del queues[conversation]
                if not ready:
                    self._workers.discard(task)
                    return
                conversation = ready.popleft()
            elif ready:
                ready.append(conversation)
                conversation = ready.popleft()

    async def _handle(self, event: Event, task: asyncio.Task[None]) -> None:
        name = event.name
        failed = False
        deadlines = self._deadlines
        for handler in self.plugin.handlers_for(name):
            if not handler.filters.empty:
                try:
                    if not await handler.filters.matches(event):
                        continue
                except Exception as exc:
                    failed = True
                    await self._failed(event, handler, exc, "filter_error", 0.0)
                    continue
            started = time.perf_counter()
            deadlines[task] = started + self._timeout
            if self._watchdog is None:
                self._arm()
            try:
                await handler.call(event)
            except BaseException as exc:
                failed = True
                await self._run_failed(event, handler, exc, started, task)
                continue
            del deadlines[task]
            if self._expired and task in self._expired:
                self._expired.discard(task)  # the handler swallowed its timeout: ok
                task.uncancel()
            if self._log_ok or self._handler_listeners:
                self._handled(event, handler, started)
        stats = self.stats
        counter = stats.failed if failed else stats.handled
        if name in counter:
            counter[name] += 1
        else:
            stats.count("failed" if failed else "handled", name)

    def _handled(self, event: Event, handler: BoundHandler, started: float) -> None:
        seconds = time.perf_counter() - started
        if self._log_ok:
            self.log.info(
                "event handled",
                name=event.name,
                website_id=event.website_id,
                session_id=event.session_id,
                handler=handler.name,
                duration_ms=round(seconds * 1000, 3),
                outcome="ok",
            )
        if self._handler_listeners:
            self._observe(event.name, seconds, "ok", handler.name)

    async def _run_failed(
        self,
        event: Event,
        handler: BoundHandler,
        exc: BaseException,
        started: float,
        task: asyncio.Task[None],
    ) -> None:
        """After a handler raised: log it and call ``on_error`` (a timeout arrives as
        ``TimeoutError``). Re-raises a cancellation of the worker itself (the drain
        deadline) and ``BaseException``s that are not errors (``KeyboardInterrupt``)."""
        self._deadlines.pop(task, None)
        outcome = "error"
        if task in self._expired:  # the watchdog cancelled this handler
            self._expired.discard(task)
            if task.uncancel() == 0 and isinstance(exc, asyncio.CancelledError):
                outcome = "timeout"
                exc = TimeoutError()
        if isinstance(exc, asyncio.CancelledError):
            if task.cancelling():
                raise exc  # the dispatcher itself is being cancelled (drain deadline)
        elif not isinstance(exc, Exception):
            raise exc
        if outcome == "timeout":
            self.stats.count("timeouts", event.name)
        await self._failed(event, handler, exc, outcome, started)

    def _arm(self) -> None:
        self._watchdog = asyncio.get_running_loop().call_later(self._tick, self._sweep)

    def _sweep(self) -> None:
        """The watchdog: cancel handlers past their deadline; re-arm while any runs."""
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

    async def _failed(
        self,
        event: Event,
        handler: BoundHandler,
        exc: BaseException,
        outcome: str,
        started: float,
    ) -> None:
        seconds = time.perf_counter() - started if started else 0.0
        if self._handler_listeners and started:
            self._observe(event.name, seconds, outcome, handler.name)
        self.log.error(
            "event handler failed",
            name=event.name,
            website_id=event.website_id,
            session_id=event.session_id,
            handler=handler.name,
            duration_ms=round(seconds * 1000, 3),
            outcome=outcome,
            error=f"{type(exc).__name__}: {exc}",
            exc_info=exc if outcome != "timeout" else None,
        )
        if isinstance(exc, TimeoutError) and outcome == "timeout":
            exc = TimeoutError(
                f"handler {handler.name} exceeded dispatch.handler_timeout = "
                f"{self.settings.handler_timeout} s"
            )
        try:
            async with asyncio.timeout(self.settings.handler_timeout):
                await self.plugin.on_error(event, exc)
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
                handler=handler.name,
                error=f"{type(hook_exc).__name__}: {hook_exc}",
                exc_info=hook_exc,
            )

    # ---------------------------------------------------------------------- drain

    async def drain(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Stop accepting, wait for accepted events up to ``timeout`` (default
        ``drain_timeout``); True when all finished, False when some were cancelled."""
        self._accepting = False
        limit = self.settings.drain_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(limit):
                await self._idle.wait()
            return True
        except TimeoutError:
            pass
        abandoned = self._pending
        self.log.warning(
            "drain deadline passed: cancelling handlers",
            abandoned=abandoned,
            conversations=len(self._queues),
            drain_timeout=limit,
        )
        workers = list(self._workers)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._queues.clear()
        self._ready.clear()
        self._pending = 0
        self._idle.set()
        return False

    def close(self) -> None:
        """Stop following the REST client's sends (after ``drain``)."""
        self._detach()

    def resume(self) -> None:
        """Accept events again after a drain (tests, reloads)."""
        self._accepting = True
