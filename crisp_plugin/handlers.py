"""``@on(name, **filters)``: declare a handler, and the filters that select its events.

    class Bot(Plugin):
        @on("message:send", text=r"(?i)\\bhello\\b", website="my-website-id")
        async def greet(self, event: MessageSend) -> None: ...

Event names: an exact name (``"message:send"``), a group (``"message:*"``, also any
prefix ending in ``:*`` such as ``"message:acknowledge:*"``) or ``"*"``.

Filters (all must match; each takes a value or an iterable of values):

- ``text=``: a regex (str or compiled), searched in the message text. Only allowed on
  names that can carry text (``message:send``, ``message:received``,
  ``message:updated`` or a wildcard covering one of them); an event without text
  (a file, a picker) does not match.
- ``type=``: message type(s) (``"text"``, ``"file"``, ``"picker"``...); the event's
  ``type`` field. Only on names whose events have one; for messages the value must be
  a Crisp message type (text, note, file, animation, audio, picker, field, carousel,
  event), for ``message:compose:*`` ``start`` or ``stop``.
- ``origin=``: origin(s) (``"chat"``, ``"email"``, ``"urn:..."``...). Only on names
  whose events have an ``origin`` field.
- ``website=``: website id(s).
- ``when=``: a predicate taking the event, plain or async, returning a bool.

Refused at declaration with ``HandlerError``: a handler that is not ``async def``, an
unknown keyword (with a "did you mean"), ``text=`` on names that carry no text,
``type=`` / ``origin=`` on names without that field or with a type that can never
match (``type="txt"``), and a
misspelt event name or group. An exact name the catalogue does not know but that is not
close to a known one is allowed: Crisp adds events, and the plugin may know one first.

Methods declared with ``@on`` take ``(self, event)``; functions registered at run time
with ``plugin.on(...)`` take ``(event)``.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from crisp_plugin.errors import HandlerError
from crisp_plugin.events.base import Event
from crisp_plugin.events.catalogue import EVENTS, GROUPS, TEXT_EVENTS, expand

__all__ = ["HANDLERS_ATTR", "Filters", "HandlerSpec", "Predicate", "check_pattern", "on"]

HANDLERS_ATTR = "__crisp_handlers__"

Predicate = Callable[[Any], bool | Awaitable[bool]]
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

_KEYWORDS = ("text", "type", "origin", "website", "when")

MESSAGE_TYPES = frozenset(
    {"text", "note", "file", "animation", "audio", "picker", "field", "carousel", "event"}
)
COMPOSE_TYPES = frozenset({"start", "stop"})
# The values ``type=`` may take per event; events with a ``type`` field not listed here
# (session:error, plugin:channel) take any value.
_KNOWN_TYPES: dict[str, frozenset[str]] = {
    "message:send": MESSAGE_TYPES,
    "message:received": MESSAGE_TYPES,
    "message:updated": MESSAGE_TYPES,
    "message:compose:send": COMPOSE_TYPES,
    "message:compose:receive": COMPOSE_TYPES,
}


@dataclass(frozen=True, slots=True)
class Filters:
    """The compiled filters of one handler; ``matches`` runs the cheap ones first."""

    text: re.Pattern[str] | None = None
    types: frozenset[str] | None = None
    origins: frozenset[str] | None = None
    websites: frozenset[str] | None = None
    when: Predicate | None = None
    when_is_async: bool = False

    @property
    def empty(self) -> bool:
        """True when no filter is set (every event of the name matches)."""
        return (
            self.text is None
            and self.types is None
            and self.origins is None
            and self.websites is None
            and self.when is None
        )

    async def matches(self, event: Event) -> bool:
        """True when the event passes every filter (the predicate last)."""
        if self.websites is not None and event.website_id not in self.websites:
            return False
        if self.types is not None and getattr(event, "type", None) not in self.types:
            return False
        if self.origins is not None and getattr(event, "origin", None) not in self.origins:
            return False
        if self.text is not None:
            text = event.text
            if text is None or self.text.search(text) is None:
                return False
        if self.when is not None:
            result = self.when(event)
            if self.when_is_async or inspect.isawaitable(result):
                result = await result  # type: ignore[misc]
            return bool(result)
        return True

    def describe(self) -> str:
        """A short human form, e.g. ``text=/hello/ website=abc``."""
        parts = []
        if self.text is not None:
            parts.append(f"text=/{self.text.pattern}/")
        for label, values in (("type", self.types), ("origin", self.origins)):
            if values is not None:
                parts.append(f"{label}={','.join(sorted(values))}")
        if self.websites is not None:
            parts.append(f"website={','.join(sorted(self.websites))}")
        if self.when is not None:
            parts.append(f"when={getattr(self.when, '__name__', 'predicate')}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    """One ``@on`` declaration: the pattern, the filters and the function."""

    pattern: str
    func: Callable[..., Awaitable[Any]]
    filters: Filters = field(default_factory=Filters)
    qualname: str = ""

    def covers(self, name: str) -> bool:
        """True when the event name matches the pattern (filters aside)."""
        pattern = self.pattern
        if pattern == "*":
            return True
        if pattern.endswith(":*"):
            return name.startswith(pattern[:-1])
        return name == pattern


def _values(keyword: str, value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, Iterable):
        items = list(value)
        if not items or not all(isinstance(v, str) for v in items):
            raise HandlerError(f"{keyword}= takes a string or a non-empty list of strings")
        return frozenset(items)
    raise HandlerError(f"{keyword}= takes a string or a list of strings, not {value!r}")


def check_pattern(pattern: str) -> None:
    """Refuse a misspelt event name or group (``HandlerError`` with a suggestion)."""
    if not isinstance(pattern, str) or not pattern:
        raise HandlerError(f"event name must be a non-empty string, not {pattern!r}")
    if pattern == "*" or pattern in EVENTS:
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
    close = difflib.get_close_matches(pattern, list(EVENTS), n=1, cutoff=0.85)
    if close:
        raise HandlerError(f"{pattern!r} is not a Crisp event: did you mean {close[0]!r}?")


def compile_filters(pattern: str, filters: dict[str, Any]) -> Filters:
    """Validate ``@on`` keywords and compile them; ``HandlerError`` on misuse."""
    unknown = [k for k in filters if k not in _KEYWORDS]
    if unknown:
        bad = unknown[0]
        close = difflib.get_close_matches(bad, _KEYWORDS, n=1, cutoff=0.5)
        hint = f": did you mean {close[0]}=?" if close else ""
        raise HandlerError(
            f"@on({pattern!r}) got an unknown keyword {bad}={hint} "
            f"(filters: {', '.join(k + '=' for k in _KEYWORDS)})"
        )
    text = filters.get("text")
    compiled: re.Pattern[str] | None = None
    if text is not None:
        names = expand(pattern, "user") if pattern != "*" else list(EVENTS)
        if not TEXT_EVENTS.intersection(names):
            raise HandlerError(
                f"@on({pattern!r}, text=...): {pattern} carries no text; text= works on "
                f"{', '.join(sorted(TEXT_EVENTS))} (or a wildcard covering them)"
            )
        if isinstance(text, re.Pattern):
            compiled = text
        elif isinstance(text, str):
            try:
                compiled = re.compile(text)
            except re.error as exc:
                raise HandlerError(
                    f"@on({pattern!r}): text={text!r} is not a regex: {exc}"
                ) from None
        else:
            raise HandlerError(f"@on({pattern!r}): text= takes a regex string or re.Pattern")
    types = _values("type", filters.get("type"))
    origins = _values("origin", filters.get("origin"))
    _check_field_filters(pattern, types, origins)
    when = filters.get("when")
    if when is not None and not callable(when):
        raise HandlerError(f"@on({pattern!r}): when= takes a function of the event")
    return Filters(
        text=compiled,
        types=types,
        origins=origins,
        websites=_values("website", filters.get("website")),
        when=when,
        when_is_async=when is not None and inspect.iscoroutinefunction(when),
    )


def _covered(pattern: str) -> list[str]:
    """Catalogue names the pattern covers (an unknown exact name covers none)."""
    if pattern == "*":
        return list(EVENTS)
    if pattern.endswith(":*"):
        return [n for n in EVENTS if n.startswith(pattern[:-1])]
    return [pattern] if pattern in EVENTS else []


def _check_field_filters(
    pattern: str, types: frozenset[str] | None, origins: frozenset[str] | None
) -> None:
    """``type=`` / ``origin=`` only where events have the field, with values that can
    match: a filter that can never match is a bug to report at declaration."""
    if types is None and origins is None:
        return
    from crisp_plugin.events.parse import MODELS

    names = _covered(pattern)
    if not names:
        return  # an event the catalogue does not know yet: nothing to check against
    for keyword, values in (("type", types), ("origin", origins)):
        if values is None:
            continue
        having = [n for n in names if n in MODELS and keyword in MODELS[n].model_fields]
        if not having:
            raise HandlerError(
                f"@on({pattern!r}, {keyword}=...): {pattern} events have no {keyword} "
                f"field, so the filter could never match"
            )
        if keyword != "type" or any(n not in _KNOWN_TYPES for n in having):
            continue
        allowed = frozenset().union(*(_KNOWN_TYPES[n] for n in having))
        unknown = sorted(values - allowed)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(allowed), n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise HandlerError(
                f"@on({pattern!r}, type={unknown[0]!r}): not a type of {pattern} "
                f"events{hint}; known types: {', '.join(sorted(allowed))}"
            )


def make_spec(pattern: str, func: Callable[..., Any], filters: dict[str, Any]) -> HandlerSpec:
    """Check a handler function and its filters; return its spec."""
    check_pattern(pattern)
    name = getattr(func, "__qualname__", repr(func)).rsplit("<locals>.", 1)[-1]
    if not inspect.iscoroutinefunction(func):
        raise HandlerError(
            f"handler {name} for {pattern!r} is not async: declare it with 'async def'"
        )
    return HandlerSpec(pattern, func, compile_filters(pattern, filters), name)


def on(
    name: str,
    *,
    text: str | re.Pattern[str] | None = None,
    type: str | Iterable[str] | None = None,  # the filter is named after the field
    origin: str | Iterable[str] | None = None,
    website: str | Iterable[str] | None = None,
    when: Predicate | None = None,
    **unknown: Any,
) -> Callable[[F], F]:
    """Mark an ``async def`` method of a ``Plugin`` as the handler of ``name``.

    Stack several ``@on`` to handle several names with one method. See the module
    docstring for the name patterns and filters.
    """
    filters: dict[str, Any] = {
        k: v
        for k, v in (
            ("text", text),
            ("type", type),
            ("origin", origin),
            ("website", website),
            ("when", when),
        )
        if v is not None
    }
    filters.update(unknown)
    # Validate eagerly so a typo fails at import time, before any function is seen.
    check_pattern(name)
    compile_filters(name, filters)

    def decorate(func: F) -> F:
        spec = make_spec(name, func, filters)
        specs: list[HandlerSpec] = list(getattr(func, HANDLERS_ATTR, ()))
        specs.append(spec)
        setattr(func, HANDLERS_ATTR, specs)
        return func

    return decorate
