"""Models of the ``session:*`` events (32 names): one changed field of a conversation.

Nested objects (geolocation, system, operator...) are kept as plain dicts: Crisp's
shapes for them vary and handlers rarely need more than a key or two.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from crisp_plugin.events.base import SessionEvent

__all__ = [
    "SessionError",
    "SessionRemoved",
    "SessionRequestInitiated",
    "SessionSetAddress",
    "SessionSetAvatar",
    "SessionSetBlock",
    "SessionSetClosed",
    "SessionSetData",
    "SessionSetEmail",
    "SessionSetInbox",
    "SessionSetMentions",
    "SessionSetNickname",
    "SessionSetOpened",
    "SessionSetOrigin",
    "SessionSetParticipants",
    "SessionSetPhone",
    "SessionSetRouting",
    "SessionSetSegments",
    "SessionSetState",
    "SessionSetSubject",
    "SessionSyncCapabilities",
    "SessionSyncEvents",
    "SessionSyncGeolocation",
    "SessionSyncLocales",
    "SessionSyncNetwork",
    "SessionSyncPages",
    "SessionSyncRating",
    "SessionSyncSystem",
    "SessionSyncTimezone",
    "SessionSyncTopic",
    "SessionUpdateAvailability",
    "SessionUpdateVerify",
]


class SessionUpdateAvailability(SessionEvent):
    """``session:update_availability``."""

    availability: Any = None


class SessionUpdateVerify(SessionEvent):
    """``session:update_verify``."""

    is_verified: bool
    verifications: list[Any] = Field(default_factory=list)
    routing_ids: list[str] | None = None
    error: str | None = None


class SessionRequestInitiated(SessionEvent):
    """``session:request:initiated`` (operator-initiated chat requests only)."""


class SessionSetEmail(SessionEvent):
    """``session:set_email``."""

    email: str


class SessionSetPhone(SessionEvent):
    """``session:set_phone``."""

    phone: str


class SessionSetAddress(SessionEvent):
    """``session:set_address``."""

    address: str


class SessionSetSubject(SessionEvent):
    """``session:set_subject``."""

    subject: str


class SessionSetAvatar(SessionEvent):
    """``session:set_avatar``."""

    avatar: str


class SessionSetNickname(SessionEvent):
    """``session:set_nickname``."""

    nickname: str


class SessionSetOrigin(SessionEvent):
    """``session:set_origin``."""

    origin: str


class SessionSetData(SessionEvent):
    """``session:set_data``."""

    data: dict[str, Any]


class SessionSetSegments(SessionEvent):
    """``session:set_segments``."""

    segments: list[str]


class SessionSetBlock(SessionEvent):
    """``session:set_block``."""

    is_blocked: bool


class SessionSetOpened(SessionEvent):
    """``session:set_opened``."""

    operator: dict[str, Any] | None = None


class SessionSetClosed(SessionEvent):
    """``session:set_closed``."""

    operator: dict[str, Any] | None = None


class SessionSetParticipants(SessionEvent):
    """``session:set_participants``."""

    participants: list[Any]


class SessionSetMentions(SessionEvent):
    """``session:set_mentions``."""

    mentions: list[str]


class SessionSetRouting(SessionEvent):
    """``session:set_routing``."""

    routing_id: str | None = None
    previous_routing_id: str | None = None


class SessionSetInbox(SessionEvent):
    """``session:set_inbox``."""

    previous_inbox_id: str | None = None


class SessionSetState(SessionEvent):
    """``session:set_state``: ``state`` is pending, unresolved or resolved."""

    state: str


class SessionSyncCapabilities(SessionEvent):
    """``session:sync:capabilities``."""

    capabilities: list[str]


class SessionSyncGeolocation(SessionEvent):
    """``session:sync:geolocation``."""

    geolocation: dict[str, Any]


class SessionSyncSystem(SessionEvent):
    """``session:sync:system``."""

    system: dict[str, Any]


class SessionSyncNetwork(SessionEvent):
    """``session:sync:network``."""

    network: dict[str, Any]


class SessionSyncTimezone(SessionEvent):
    """``session:sync:timezone``."""

    timezone: dict[str, Any]


class SessionSyncLocales(SessionEvent):
    """``session:sync:locales``."""

    locales: dict[str, Any]


class SessionSyncPages(SessionEvent):
    """``session:sync:pages``."""

    pages: list[Any]


class SessionSyncEvents(SessionEvent):
    """``session:sync:events``."""

    events: list[Any]


class SessionSyncRating(SessionEvent):
    """``session:sync:rating``."""

    rating: dict[str, Any]


class SessionSyncTopic(SessionEvent):
    """``session:sync:topic``."""

    topic: str


class SessionRemoved(SessionEvent):
    """``session:removed``."""


class SessionError(SessionEvent):
    """``session:error``."""

    type: str
    value: Any = None
    previous_value: Any = None
