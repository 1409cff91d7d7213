"""Pydantic models for the answers of the bot-critical REST routes.

Only the fields a bot commonly reads are declared; every model keeps unknown fields
(``extra="allow"``), so nothing Crisp adds is lost (``model.model_extra``). Field names
follow the wire, except ``from`` which is ``from_`` in Python (alias ``from``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crisp_plugin.content import MessageUser

__all__ = [
    "ConnectAccount",
    "ConnectEndpoints",
    "ConnectWebsite",
    "Conversation",
    "ConversationMeta",
    "ConversationState",
    "CreatedConversation",
    "Message",
    "MessageUser",
    "PeopleProfile",
    "SentMessage",
    "SocketEndpoint",
    "SubscriptionSettings",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class SentMessage(_Model):
    """Answer to a sent message: its ``fingerprint`` (the message id)."""

    fingerprint: int


class CreatedConversation(_Model):
    """Answer to creating a conversation."""

    session_id: str


class Message(_Model):
    """One conversation message."""

    fingerprint: int
    type: str = "text"
    from_: str | None = Field(default=None, alias="from")
    origin: str | None = None
    content: Any = None
    timestamp: int | None = None
    session_id: str | None = None
    website_id: str | None = None
    user: MessageUser | None = None
    mentions: list[str] | None = None
    read: str | None = None
    delivered: str | None = None
    stamped: bool | None = None
    automated: bool | None = None

    @property
    def text(self) -> str | None:
        """The content when it is a string (text and note messages), else None."""
        return self.content if isinstance(self.content, str) else None


class ConversationMeta(_Model):
    """A conversation's metas (visitor details)."""

    nickname: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    subject: str | None = None
    avatar: str | None = None
    ip: str | None = None
    segments: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)


class Conversation(_Model):
    """One conversation."""

    session_id: str
    website_id: str | None = None
    inbox_id: str | None = None
    people_id: str | None = None
    state: str | None = None
    status: int | None = None
    is_verified: bool | None = None
    is_blocked: bool | None = None
    availability: str | None = None
    active: Any = None
    last_message: str | None = None
    topic: str | None = None
    unread: Any = None
    assigned: Any = None
    participants: list[Any] | None = None
    mentions: list[str] | None = None
    meta: ConversationMeta | None = None
    created_at: int | None = None
    updated_at: int | None = None
    waiting_since: int | None = None


class ConversationState(_Model):
    """A conversation's state: pending, unresolved or resolved."""

    state: str


class PeopleProfile(_Model):
    """A contact (people) profile."""

    people_id: str | None = None
    email: str | None = None
    person: dict[str, Any] = Field(default_factory=dict)
    company: dict[str, Any] | None = None
    segments: list[str] = Field(default_factory=list)
    notepad: str | None = None
    active: Any = None
    created_at: int | None = None
    updated_at: int | None = None

    @property
    def nickname(self) -> str | None:
        value = self.person.get("nickname")
        return value if isinstance(value, str) else None


class SubscriptionSettings(_Model):
    """A website's settings for this plugin (validated by Crisp against its schema)."""

    plugin_id: str | None = None
    website_id: str | None = None
    token: str | None = Field(default=None, repr=False)
    settings: dict[str, Any] = Field(default_factory=dict)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")


class ConnectWebsite(_Model):
    """A website that installed the plugin (``difference`` only in the ``since`` list)."""

    website_id: str
    token: str | None = Field(default=None, repr=False)
    settings: dict[str, Any] = Field(default_factory=dict)
    plan: dict[str, Any] | None = None
    difference: str | None = None


class ConnectAccount(_Model):
    """The plugin token's account."""

    plugin_id: str


class SocketEndpoint(_Model):
    app: str | None = None


class ConnectEndpoints(_Model):
    """RTM endpoints: ``socket.app`` is the relay URL, ``rescue`` a fallback."""

    socket: SocketEndpoint = Field(default_factory=SocketEndpoint)
    rescue: dict[str, Any] | None = None

    @property
    def url(self) -> str | None:
        return self.socket.app
