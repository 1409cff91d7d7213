"""The base of every event model: name, raw payload, conversation ids.

Every event keeps the payload it was parsed from (``.raw``, the same dict, not a copy)
and its Crisp name (``.name``). Fields Crisp adds that the model does not know are kept
(``extra="allow"``) and read as attributes or through ``.raw``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = ["Event", "GenericEvent", "SessionEvent", "WebsiteEvent"]


class Event(BaseModel):
    """A Crisp real-time event. ``name`` is the Crisp event name, ``raw`` the payload."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)

    # The Crisp name a typed model stands for (set by events.parse for each model).
    event_name: ClassVar[str] = ""

    website_id: str | None = None
    session_id: str | None = None

    # ``name`` and ``raw`` live in the instance __dict__ under keys that are not fields,
    # set by ``parse_event``: cheaper on the hot path than pydantic private attributes,
    # and invisible to model_dump / repr / equality.

    @property
    def name(self) -> str:
        """The Crisp event name, e.g. ``"message:send"``."""
        return self.__dict__.get("_crisp_name") or type(self).event_name

    @property
    def raw(self) -> dict[str, Any]:
        """The payload exactly as received (the same dict object).

        For an event built in code rather than parsed, the fields as Crisp names them.
        """
        raw = self.__dict__.get("_crisp_raw")
        if raw is None:
            raw = self.model_dump(by_alias=True, exclude_unset=True)
            object.__setattr__(self, "_crisp_raw", raw)
        return raw

    def _bind(self, name: str, raw: dict[str, Any]) -> None:
        object.__setattr__(self, "_crisp_name", name)
        object.__setattr__(self, "_crisp_raw", raw)

    @property
    def text(self) -> str | None:
        """Text content, for message events carrying text; ``None`` otherwise."""
        return None

    @property
    def conversation(self) -> tuple[str, str] | None:
        """``(website_id, session_id)`` when the event belongs to a conversation."""
        if self.website_id and self.session_id:
            return (self.website_id, self.session_id)
        return None

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.name} website_id={self.website_id!r} "
            f"session_id={self.session_id!r}>"
        )


class GenericEvent(Event):
    """An event without a typed model (or unknown to this version): fields as given."""


class WebsiteEvent(Event):
    """An event that always belongs to a website."""

    website_id: str


class SessionEvent(WebsiteEvent):
    """An event of one conversation: ``website_id``, ``session_id``, ``inbox_id``."""

    session_id: str
    inbox_id: str | None = None
