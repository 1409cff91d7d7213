"""The filters of ``@on``: which events of a name a handler takes.

Every filter takes a value or an iterable of values; all given filters must match.

- ``text=``: a regex (str or compiled), searched in the message text. Only on names
  that can carry text (``message:send``, ``message:received``, ``message:updated`` or a
  wildcard covering one of them); an event without text (a file, a picker) does not
  match.
- ``type=``: message type(s) (``"text"``, ``"file"``, ``"picker"``...): the event's
  ``type`` field. Only on names whose events have one; for messages a Crisp message
  type (text, note, file, animation, audio, picker, field, carousel, event), for
  ``message:compose:*`` ``start`` or ``stop``.
- ``origin=``: origin(s) (``"chat"``, ``"email"``, ``"urn:..."``...). Only on names
  whose events have an ``origin`` field.
- ``website=``: website id(s).
- ``step=``: the conversation's flow step(s) when the event arrived
  (:mod:`crisp_plugin.flows`; ``NO_STEP``, ``ANY_STEP``). Only on conversation events.
- ``id=`` / ``value=``: the picker or field id, the chosen value or typed answer; only
  on ``picker:choice`` and ``field:answer``.
- ``when=``: a predicate taking the event, plain or async, returning a bool.

:func:`compile_filters` refuses at declaration (``HandlerError``) an unknown keyword
(with a "did you mean"), a filter on names whose events cannot have it, and a value that
can never match (``type="txt"``): such a handler would be silently dead.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from crisp_plugin.errors import HandlerError
from crisp_plugin.events.base import Event, SessionEvent
from crisp_plugin.events.catalogue import EVENTS, TEXT_EVENTS, expand
from crisp_plugin.events.derived import DERIVED

__all__ = ["KEYWORDS", "Filters", "Predicate", "compile_filters", "covered_names"]

Predicate = Callable[[Any], bool | Awaitable[bool]]

KEYWORDS = ("text", "type", "origin", "website", "step", "id", "value", "when")

# Words people reach for that the spelling check cannot guess.
_MEANT = {
    "choice": "value",
    "answer": "value",
    "picker": "id",
    "field": "id",
    "regex": "text",
    "match": "text",
    "website_id": "website",
}

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
    steps: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    values: frozenset[str] | None = None
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
            and self.steps is None
            and self.ids is None
            and self.values is None
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
        if self.ids is not None and getattr(event, "id", None) not in self.ids:
            return False
        if self.values is not None and getattr(event, "value", None) not in self.values:
            return False
        if self.text is not None:
            text = event.text
            if text is None or self.text.search(text) is None:
                return False
        if self.steps is not None:
            if not isinstance(event, SessionEvent) or not event.flow.matches(self.steps):
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
        for label, values in (
            ("type", self.types),
            ("origin", self.origins),
            ("website", self.websites),
            ("step", self.steps),
            ("id", self.ids),
            ("value", self.values),
        ):
            if values is not None:
                shown = ("NO_STEP" if label == "step" and not v else v for v in sorted(values))
                parts.append(f"{label}={','.join(shown)}")
        if self.when is not None:
            parts.append(f"when={getattr(self.when, '__name__', 'predicate')}")
        return " ".join(parts)


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


def covered_names(pattern: str) -> list[str]:
    """Known names a pattern covers (an unknown exact name covers none). Derived names
    (``picker:choice``) are covered only by themselves."""
    if pattern in DERIVED:
        return [pattern]
    if pattern == "*":
        return list(EVENTS)
    if pattern.endswith(":*"):
        return [n for n in EVENTS if n.startswith(pattern[:-1])]
    return [pattern] if pattern in EVENTS else []


def compile_filters(pattern: str, filters: dict[str, Any]) -> Filters:
    """Validate ``@on`` keywords and compile them; ``HandlerError`` on misuse."""
    unknown = [k for k in filters if k not in KEYWORDS]
    if unknown:
        bad = unknown[0]
        close = difflib.get_close_matches(bad, KEYWORDS, n=1, cutoff=0.5)
        meant = _MEANT.get(bad) or (close[0] if close else None)
        hint = f": did you mean {meant}=?" if meant else ""
        raise HandlerError(
            f"@on({pattern!r}) got an unknown keyword {bad}={hint} "
            f"(filters: {', '.join(k + '=' for k in KEYWORDS)})"
        )
    compiled = _text(pattern, filters.get("text"))
    types = _values("type", filters.get("type"))
    origins = _values("origin", filters.get("origin"))
    _check_field_filters(pattern, types, origins)
    ids = _values("id", filters.get("id"))
    values = _values("value", filters.get("value"))
    if (ids is not None or values is not None) and pattern not in DERIVED:
        keyword = "id" if ids is not None else "value"
        raise HandlerError(
            f"@on({pattern!r}, {keyword}=...): {keyword}= works on "
            f"{' and '.join(sorted(DERIVED))} only (a picker's or field's id and answer)"
        )
    steps = _values("step", filters.get("step")) if "step" in filters else None
    if steps is not None:
        _check_step_filter(pattern)
    when = filters.get("when")
    if when is not None and not callable(when):
        raise HandlerError(f"@on({pattern!r}): when= takes a function of the event")
    return Filters(
        text=compiled,
        types=types,
        origins=origins,
        websites=_values("website", filters.get("website")),
        steps=steps,
        ids=ids,
        values=values,
        when=when,
        when_is_async=when is not None and inspect.iscoroutinefunction(when),
    )


def _text(pattern: str, text: object) -> re.Pattern[str] | None:
    if text is None:
        return None
    names = [pattern] if pattern in DERIVED else expand(pattern, "user")
    if pattern == "*":
        names = list(EVENTS)
    if not TEXT_EVENTS.intersection(names):
        raise HandlerError(
            f"@on({pattern!r}, text=...): {pattern} carries no text; text= works on "
            f"{', '.join(sorted(TEXT_EVENTS))} (or a wildcard covering them)"
        )
    if isinstance(text, re.Pattern):
        return text
    if isinstance(text, str):
        try:
            return re.compile(text)
        except re.error as exc:
            raise HandlerError(f"@on({pattern!r}): text={text!r} is not a regex: {exc}") from None
    raise HandlerError(f"@on({pattern!r}): text= takes a regex string or re.Pattern")


def _check_step_filter(pattern: str) -> None:
    from crisp_plugin.events.parse import MODELS

    names = covered_names(pattern)
    if pattern in DERIVED or not names:
        return
    if not any(issubclass(MODELS.get(n, Event), SessionEvent) for n in names):
        raise HandlerError(
            f"@on({pattern!r}, step=...): {pattern} events belong to no conversation, "
            "so they have no flow step"
        )


def _check_field_filters(
    pattern: str, types: frozenset[str] | None, origins: frozenset[str] | None
) -> None:
    """``type=`` / ``origin=`` only where events have the field, with values that can
    match: a filter that can never match is a bug to report at declaration."""
    if types is None and origins is None:
        return
    from crisp_plugin.events.parse import MODELS

    names = covered_names(pattern)
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
