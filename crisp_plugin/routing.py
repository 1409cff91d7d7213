"""Handlers and routers: ``@on`` on a plugin's methods, ``Router`` for handlers in modules.

    class Bot(Plugin):
        @on("message:send", text=r"(?i)\\bhello\\b")
        async def greet(self, event: MessageSend) -> None: ...

    router = Router()                                   # billing.py

    @router.on("picker:choice", id="topic", value="billing")
    async def billing(event: PickerChoice, plugin: Plugin) -> None:
        await event.reply("Billing it is.")

    Bot.include_router(router)                          # or bot.include_router(router)

Names: an exact Crisp event (``"message:send"``), a group (``"message:*"``, or any prefix
ending in ``:*``), ``"*"``, or a derived name (``"picker:choice"``, ``"field:answer"``:
:mod:`crisp_plugin.events.derived`). Filters: :mod:`crisp_plugin.filters`.

Refused at declaration with ``HandlerError``: a handler that is not ``async def``, a
function taking other than ``(event)`` or ``(event, plugin)``, an unknown keyword (with
a "did you mean"), a filter that can never match, a misspelt event name or group, a
router included in itself or twice. An exact name the catalogue does not know but that
is not close to a known one is allowed (Crisp adds events).

Methods take ``(self, event)``. Router functions and functions registered at run time
with ``plugin.on(...)`` take ``(event)`` or ``(event, plugin)``: the plugin gives them
everything a method has (``plugin.rest``, ``plugin.state``, ``plugin.settings``,
``plugin.log``). Routers include routers; each may carry middleware
(:mod:`crisp_plugin.middleware`) that applies to its handlers and those of the routers it
includes.

Order: a plugin's own handlers (its methods, in declaration order, then functions added
with ``plugin.on``), then each included router's, in inclusion order, depth first. Every
handler whose name and filters match runs.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import re
import typing
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from crisp_plugin.errors import HandlerError
from crisp_plugin.events.catalogue import EVENTS, GROUPS
from crisp_plugin.events.derived import DERIVED
from crisp_plugin.filters import Filters, Predicate, compile_filters

if TYPE_CHECKING:
    from crisp_plugin.middleware import InnerMiddleware, OuterMiddleware

__all__ = [
    "HANDLERS_ATTR",
    "MIDDLEWARE_ATTR",
    "Handler",
    "HandlerSpec",
    "Router",
    "check_pattern",
    "inner_middleware",
    "on",
    "outer_middleware",
]

HANDLERS_ATTR = "__crisp_handlers__"
MIDDLEWARE_ATTR = "__crisp_middleware__"

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
M = TypeVar("M", bound=Callable[..., Awaitable[None]])

_generation = itertools.count(1)
GENERATION = [0]
"""Bumped on every change to any router: cached plans compare it (one int per event)."""


def _bump() -> None:
    GENERATION[0] = next(_generation)


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    """One declaration: the name pattern, the filters and the function."""

    pattern: str
    func: Callable[..., Awaitable[Any]]
    filters: Filters = field(default_factory=Filters)
    qualname: str = ""
    takes_plugin: bool = False

    def covers(self, name: str) -> bool:
        """True when the event name matches the pattern (filters aside). Derived names
        (``picker:choice``) are covered by their exact pattern only."""
        pattern = self.pattern
        if pattern == name:
            return True
        if name in DERIVED:
            return False
        if pattern == "*":
            return True
        if pattern.endswith(":*"):
            return name.startswith(pattern[:-1])
        return False


class Handler:
    """A handler ready to run: its spec, the call taking the event, and where it was
    declared (``router``: the path of routers, ``"desk > refund"``; empty for the
    plugin's own). What inner middleware receives as ``handler`` (``handler.name``,
    ``.pattern``, ``.router``)."""

    __slots__ = ("call", "filters", "name", "router", "spec")

    def __init__(
        self, spec: HandlerSpec, call: Callable[[Any], Awaitable[Any]], router: str = ""
    ) -> None:
        self.spec = spec
        self.call = call
        self.filters = spec.filters
        self.name = spec.qualname
        self.router = router

    @property
    def pattern(self) -> str:
        """The event name or pattern it was declared for."""
        return self.spec.pattern

    def __repr__(self) -> str:
        extra = self.filters.describe()
        return f"<handler {self.name} on {self.spec.pattern}{' ' + extra if extra else ''}>"


def check_pattern(pattern: str) -> None:
    """Refuse a misspelt event name or group (``HandlerError`` with a suggestion)."""
    if not isinstance(pattern, str) or not pattern:
        raise HandlerError(f"event name must be a non-empty string, not {pattern!r}")
    if pattern == "*" or pattern in EVENTS or pattern in DERIVED:
        return
    if pattern.endswith(":*"):
        if any(name.startswith(pattern[:-1]) for name in EVENTS):
            return
        groups = [f"{g}:*" for g in sorted(GROUPS)]
        close = difflib.get_close_matches(pattern, groups, n=1, cutoff=0.6)
        hint = f": did you mean {close[0]!r}?" if close else f" (groups: {', '.join(groups)})"
        raise HandlerError(f"{pattern!r} matches no Crisp event{hint}")
    if "*" in pattern:
        raise HandlerError(
            f"{pattern!r}: wildcards are '*' or a prefix ending in ':*', e.g. 'message:*'"
        )
    close = difflib.get_close_matches(pattern, [*EVENTS, *DERIVED], n=1, cutoff=0.85)
    if close:
        raise HandlerError(f"{pattern!r} is not a Crisp event: did you mean {close[0]!r}?")


def _positional(func: Callable[..., Any]) -> int | None:
    """How many positional parameters ``func`` takes (``None``: any number)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    count = 0
    for param in params:
        if param.kind is param.VAR_POSITIONAL:
            return None
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def _qualname(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", repr(func)).rsplit("<locals>.", 1)[-1]


_LIFECYCLE = frozenset({"on_startup", "on_shutdown", "on_error"})


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _first_parameter(func: Callable[..., Any]) -> str | None:
    try:
        params = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return None
    return params[0] if params else None


def make_spec(
    pattern: str, func: Callable[..., Any], filters: dict[str, Any], *, method: bool
) -> HandlerSpec:
    """Check a handler function and its filters; return its spec.

    ``method``: declared in a class body with ``@on`` (takes ``self, event``); else a
    function taking ``(event)`` or ``(event, plugin)``."""
    check_pattern(pattern)
    name = _qualname(func)
    if method and getattr(func, "__name__", "") in _LIFECYCLE:
        raise HandlerError(
            f"handler {name} hides the lifecycle hook Plugin.{func.__name__}: rename the method"
        )
    if not inspect.iscoroutinefunction(func):
        raise HandlerError(
            f"handler {name} for {pattern!r} is not async: declare it with 'async def'"
        )
    count = _positional(func)
    takes_plugin = False
    if method:
        if count == 1:
            raise HandlerError(
                f"handler {name} takes one parameter: @on marks Plugin methods (self, event); "
                "for a function, use a Router (router.on) or plugin.on(...)"
            )
        if count is not None and count != 2:
            raise HandlerError(f"handler method {name} must take (self, event), not {count}")
    else:
        if _first_parameter(func) == "self":
            raise HandlerError(
                f"handler {name} takes self: in a Plugin class, declare methods with @on; "
                "router.on and plugin.on take functions (event) or (event, plugin)"
            )
        if count is not None and count not in (1, 2):
            raise HandlerError(
                f"handler {name} for {pattern!r} must take (event) or (event, plugin), "
                f"not {_plural(count, 'positional parameter')}"
            )
        takes_plugin = count == 2
    _check_event_annotation(pattern, func, name, 1 if method else 0)
    return HandlerSpec(pattern, func, compile_filters(pattern, filters), name, takes_plugin)


def _check_event_annotation(pattern: str, func: Callable[..., Any], name: str, at: int) -> None:
    """A handler annotated with an event model no event of ``pattern`` can be is a bug
    (``@on("picker:choice")`` taking ``MessageSend``): refuse it at declaration."""
    from crisp_plugin.events.base import Event, GenericEvent
    from crisp_plugin.events.derived import FieldAnswer, PickerChoice
    from crisp_plugin.events.parse import MODELS
    from crisp_plugin.filters import covered_names

    try:
        params = list(inspect.signature(func).parameters)
        wanted = typing.get_type_hints(func).get(params[at]) if len(params) > at else None
    except Exception:
        return  # an annotation that does not resolve here: nothing to check
    if not (isinstance(wanted, type) and issubclass(wanted, Event)):
        return
    derived: dict[str, type[Event]] = {"picker:choice": PickerChoice, "field:answer": FieldAnswer}
    names = covered_names(pattern)
    if not names:
        return  # an event the catalogue does not know: it arrives as a GenericEvent
    models = {derived.get(n) or MODELS.get(n, GenericEvent) for n in names}
    if not any(issubclass(model, wanted) for model in models):
        shown = ", ".join(sorted(m.__name__ for m in models)[:3])
        raise HandlerError(
            f"handler {name} takes {wanted.__name__}, but {pattern} events are {shown}: "
            "annotate the event with the model of the name it handles"
        )


def _filters(**given: Any) -> dict[str, Any]:
    """The filter keywords actually given (``None`` means not given, except for step:
    ``step=NO_STEP`` is the empty string, which is a value)."""
    unknown = given.pop("unknown")
    out = {k: v for k, v in given.items() if v is not None}
    out.update(unknown)
    return out


def on(
    name: str,
    *,
    text: str | re.Pattern[str] | None = None,
    type: str | Iterable[str] | None = None,  # the filter is named after the field
    origin: str | Iterable[str] | None = None,
    website: str | Iterable[str] | None = None,
    step: str | Iterable[str] | None = None,
    id: str | Iterable[str] | None = None,
    value: str | Iterable[str] | None = None,
    when: Predicate | None = None,
    **unknown: Any,
) -> Callable[[F], F]:
    """Mark an ``async def`` method of a ``Plugin`` as the handler of ``name``.

    Stack several ``@on`` to handle several names with one method. See the module
    docstring for names, and :mod:`crisp_plugin.filters` for the filters.
    """
    filters = _filters(
        text=text,
        type=type,
        origin=origin,
        website=website,
        step=step,
        id=id,
        value=value,
        when=when,
        unknown=unknown,
    )
    # Validate eagerly so a typo fails at import time, before any function is seen.
    check_pattern(name)
    compile_filters(name, filters)

    def decorate(func: F) -> F:
        spec = make_spec(name, func, filters, method=True)
        specs: list[HandlerSpec] = list(getattr(func, HANDLERS_ATTR, ()))
        specs.append(spec)
        setattr(func, HANDLERS_ATTR, specs)
        return func

    return decorate


def _check_middleware(func: Callable[..., Any], arity: int, kind: str) -> None:
    name = _qualname(func)
    if not inspect.iscoroutinefunction(func) and not inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 (an async __call__ object)
    ):
        raise HandlerError(f"{kind} middleware {name} is not async: declare it with 'async def'")
    count = _positional(func)
    if count is not None and count != arity:
        shape = {
            2: "(event, call_next)",
            3: "(self, event, call_next)",
            4: "(self, event, call_next, handler)",
        }[arity]
        if kind == "inner" and arity == 3:
            shape = "(event, call_next, handler)"
        raise HandlerError(
            f"{kind} middleware {name} must take {shape}, not {_plural(count, 'parameter')}"
        )


def outer_middleware(func: M) -> M:
    """Mark a Plugin method ``async def mw(self, event, call_next)`` as outer middleware
    of the plugin: every event, before the filters, with ``self`` at hand."""
    _check_middleware(func, 3, "outer")
    setattr(func, MIDDLEWARE_ATTR, "outer")
    return func


def inner_middleware(func: M) -> M:
    """Mark a Plugin method ``async def mw(self, event, call_next, handler)`` as inner
    middleware of the plugin: around every handler run."""
    _check_middleware(func, 4, "inner")
    setattr(func, MIDDLEWARE_ATTR, "inner")
    return func


class Router:
    """Handlers (and middleware) declared apart from a plugin class; see the module
    docstring. ``name`` shows in logs and in ``check``."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"router-{id(self):x}"
        self._specs: list[HandlerSpec] = []
        self._routers: list[Router] = []
        self._outer: list[OuterMiddleware] = []
        self._inner: list[InnerMiddleware] = []
        self._parents: weakref.WeakSet[Router] = weakref.WeakSet()
        self._watchers: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"<Router {self.name}: {len(self._specs)} handlers, {len(self._routers)} routers>"

    # -- declaring -------------------------------------------------------------------

    def on(
        self,
        name: str,
        *,
        text: str | re.Pattern[str] | None = None,
        type: str | Iterable[str] | None = None,
        origin: str | Iterable[str] | None = None,
        website: str | Iterable[str] | None = None,
        step: str | Iterable[str] | None = None,
        id: str | Iterable[str] | None = None,
        value: str | Iterable[str] | None = None,
        when: Predicate | None = None,
        **unknown: Any,
    ) -> Callable[[F], F]:
        """Register an ``async def`` function taking ``(event)`` or ``(event, plugin)``;
        same names, filters and errors as ``@on``."""
        filters = _filters(
            text=text,
            type=type,
            origin=origin,
            website=website,
            step=step,
            id=id,
            value=value,
            when=when,
            unknown=unknown,
        )
        check_pattern(name)
        compile_filters(name, filters)

        def decorate(func: F) -> F:
            self.add(make_spec(name, func, filters, method=False))
            return func

        return decorate

    def add(self, spec: HandlerSpec) -> None:
        """Add a handler declared elsewhere (what ``on`` does)."""
        self._specs.append(spec)
        self._changed()

    def include_router(self, router: Router) -> Router:
        """Run ``router``'s handlers after this one's; returns ``router``."""
        if not isinstance(router, Router):
            raise HandlerError(f"include_router takes a Router, not {router!r}")
        if router is self or self in set(router._descendants()):
            raise HandlerError(f"router {router.name} cannot include itself, even indirectly")
        if router in self._routers:
            raise HandlerError(f"router {router.name} is already included in {self.name}")
        self._routers.append(router)
        router._parents.add(self)
        self._changed()
        return router

    def middleware(self, func: M) -> M:
        """Add an outer middleware ``async def mw(event, call_next)``: it runs for every
        event reaching this router, before its filters. Usable as a decorator."""
        _check_middleware(func, 2, "outer")
        self._outer.append(func)
        self._changed()
        return func

    def inner_middleware(self, func: M) -> M:
        """Add an inner middleware ``async def mw(event, call_next, handler)``: it runs
        around each handler of this router (and of the routers it includes) whose
        filters matched. Usable as a decorator."""
        _check_middleware(func, 3, "inner")
        self._inner.append(func)
        self._changed()
        return func

    # -- reading ---------------------------------------------------------------------

    @property
    def specs(self) -> list[HandlerSpec]:
        """This router's own handlers, in declaration order."""
        return list(self._specs)

    @property
    def routers(self) -> list[Router]:
        """The routers included here, in inclusion order."""
        return list(self._routers)

    @property
    def outer(self) -> tuple[OuterMiddleware, ...]:
        return tuple(self._outer)

    @property
    def inner(self) -> tuple[InnerMiddleware, ...]:
        return tuple(self._inner)

    def _descendants(self) -> Iterator[Router]:
        for router in self._routers:
            yield router
            yield from router._descendants()

    def all_specs(self) -> Iterator[HandlerSpec]:
        """Every handler here and in included routers, in running order."""
        yield from self._specs
        for router in self._routers:
            yield from router.all_specs()

    # -- change notification -----------------------------------------------------------

    def watch(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after any change here or in an included router."""
        self._watchers.append(callback)

    def _changed(self) -> None:
        _bump()
        for callback in tuple(self._watchers):
            callback()
        for parent in list(self._parents):
            parent._changed()
