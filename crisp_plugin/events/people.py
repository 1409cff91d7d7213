"""Models of the ``people:*`` events (7 names): contact profiles and their imports."""

from __future__ import annotations

from typing import Any

from crisp_plugin.events.base import SessionEvent, WebsiteEvent

__all__ = [
    "PeopleBindSession",
    "PeopleImportDone",
    "PeopleImportProgress",
    "PeopleProfileCreated",
    "PeopleProfileRemoved",
    "PeopleProfileUpdated",
    "PeopleSyncProfile",
]


class PeopleProfileCreated(WebsiteEvent):
    """``people:profile:created``."""

    people_id: str
    email: str | None = None


class PeopleProfileUpdated(WebsiteEvent):
    """``people:profile:updated``."""

    people_id: str
    email: str | None = None
    update: dict[str, Any] | None = None


class PeopleProfileRemoved(WebsiteEvent):
    """``people:profile:removed``."""

    people_id: str


class PeopleBindSession(SessionEvent):
    """``people:bind:session``: a conversation is linked to a contact profile."""

    people_id: str


class PeopleSyncProfile(SessionEvent):
    """``people:sync:profile``."""

    people_id: str
    identity: dict[str, Any] | None = None


class PeopleImportProgress(WebsiteEvent):
    """``people:import:progress`` (user tier)."""

    people_id: str | None = None
    progress: float
    count: dict[str, Any] | None = None
    items: dict[str, Any] | None = None


class PeopleImportDone(WebsiteEvent):
    """``people:import:done`` (user tier)."""

    people_id: str | None = None
    error: bool
