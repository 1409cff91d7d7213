"""Middleware: one explicit pipeline for every event.

    intake: parse, dedupe (built in, before the event takes a place in the queue)
    event -> outer: echo drop (built in) -> the plugin's outer middleware
          -> match handlers (names, filters, flow step) -> for each handler that matched:
             inner: timeout, error hook, log line, metrics (built in) -> the inner
             middleware of its routers, outermost first -> the handler

Write your own with a typed signature and add it to a plugin or a router:

    @router.middleware                                   # outer: before the filters
    async def only_business_hours(event: Event, call_next: Next) -> None:
        if is_open():
            await call_next(event)                       # not calling it drops the event

    @router.inner_middleware                             # inner: around each handler
    async def timed(event: Event, call_next: Next, handler: Handler) -> None:
        started = time.monotonic()
        await call_next(event)
        print(handler.name, time.monotonic() - started)

``plugin.middleware(...)`` / ``plugin.inner_middleware(...)`` add them at the plugin's
level (every event, every handler). A router's outer middleware runs for the events
some handler of that router (or of the routers it includes) is declared for, before
their filters; its inner middleware wraps each of those handlers. An exception in an
outer middleware is logged and reported like a handler's (``on_error``); it stops that
event, not the plugin. An exception in an inner middleware counts as its handler's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from crisp_plugin.events.base import Event
from crisp_plugin.routing import Handler

__all__ = [
    "Group",
    "HandlerRunner",
    "InnerMiddleware",
    "Next",
    "OuterMiddleware",
    "Plan",
    "Unit",
    "chain",
    "run_steps",
]

Next = Callable[[Event], Awaitable[None]]
"""Passes the event on to the rest of the pipeline."""

OuterMiddleware = Callable[[Event, Next], Awaitable[None]]
"""``async def mw(event, call_next) -> None``: before the filters."""

InnerMiddleware = Callable[[Event, Next, Handler], Awaitable[None]]
"""``async def mw(event, call_next, handler) -> None``: around one handler run."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One handler and the inner middleware of its routers, outermost first."""

    handler: Handler
    inner: tuple[InnerMiddleware, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    """A router with outer middleware: its middleware runs around its handlers."""

    name: str
    outer: tuple[OuterMiddleware, ...]
    steps: tuple[Unit | Group, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """What runs for one event name: the plugin's outer middleware, then the steps."""

    outer: tuple[OuterMiddleware, ...]
    steps: tuple[Unit | Group, ...]
    needs_flow: bool
    # The one step when it is a single handler without filters (the common plan): run
    # directly, without the general loop of run_steps.
    single: Unit | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        step = self.steps[0] if len(self.steps) == 1 else None
        if isinstance(step, Unit) and step.handler.filters.empty:
            object.__setattr__(self, "single", step)

    @property
    def empty(self) -> bool:
        """True when no handler is declared for the name."""
        return not self.steps

    def units(self) -> list[Unit]:
        """Every handler of the plan, in running order."""
        out: list[Unit] = []
        for step in self.steps:
            out.extend(_units(step))
        return out


def _units(step: Unit | Group) -> list[Unit]:
    if isinstance(step, Unit):
        return [step]
    out: list[Unit] = []
    for inner in step.steps:
        out.extend(_units(inner))
    return out


class HandlerRunner(Protocol):
    """What runs one handler (the built-in inner middleware: timeout, errors, logs)."""

    async def run(self, event: Event, unit: Unit) -> None: ...

    async def failed(
        self, event: Event, where: str, exc: BaseException, outcome: str = "error"
    ) -> None:
        """Report a failure outside a handler run (a filter, an outer middleware)."""
        ...


def chain(middlewares: Sequence[OuterMiddleware], last: Next) -> Next:
    """``last`` wrapped in ``middlewares``, the first outermost."""
    call = last
    for middleware in reversed(middlewares):
        call = _link(middleware, call)
    return call


def _link(middleware: OuterMiddleware, call_next: Next) -> Next:
    async def step(event: Event) -> None:
        await middleware(event, call_next)

    return step


async def run_steps(steps: Sequence[Unit | Group], event: Event, runner: HandlerRunner) -> None:
    """Run each step whose filters match, in order, until one calls ``event.stop()``;
    failures stop only their step."""
    for step in steps:
        if event.stopped:
            return
        if isinstance(step, Unit):
            filters = step.handler.filters
            if not filters.empty:
                try:
                    if not await filters.matches(event):
                        continue
                except Exception as exc:
                    await runner.failed(event, step.handler.name, exc, "filter_error")
                    continue
            await runner.run(event, step)
            continue

        async def rest(e: Event, group: Group = step) -> None:
            await run_steps(group.steps, e, runner)

        try:
            await chain(step.outer, rest)(event)
        except Exception as exc:
            await runner.failed(event, f"middleware of {step.name}", exc)
