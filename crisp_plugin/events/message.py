"""Models of the ``message:*`` events (13 names).

``message:send`` is a message *from the visitor*; ``message:received`` one *from an
operator* (including the plugin's own replies, which the dispatcher drops as echoes).
``content`` is a string for ``text`` and ``note`` messages and an object for the other
types (picker, field, file...); it is kept as Crisp sent it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crisp_plugin.events.base import SessionEvent

__all__ = [
    "MessageAcknowledge",
    "MessageAcknowledgeDelivered",
    "MessageAcknowledgeIgnored",
    "MessageAcknowledgeReadReceived",
    "MessageAcknowledgeReadSend",
    "MessageAcknowledgeUnreadSend",
    "MessageComposeReceive",
    "MessageComposeSend",
    "MessageEvent",
    "MessageNotifyUnreadReceived",
    "MessageNotifyUnreadSend",
    "MessageReceived",
    "MessageRemoved",
    "MessageSend",
    "MessageUpdated",
    "MessageUser",
]

TEXT_TYPES = frozenset({"text", "note"})


class MessageUser(BaseModel):
    """The author of a message as Crisp describes it (fields vary; extras kept)."""

    model_config = ConfigDict(extra="allow")

    user_id: str | None = None
    nickname: str | None = None
    avatar: str | None = None
    type: str | None = None


class MessageEvent(SessionEvent):
    """A message sent in a conversation (``message:send`` and ``message:received``)."""

    type: str
    from_: str | None = Field(default=None, alias="from")
    origin: str | None = None
    content: Any = None
    fingerprint: int
    timestamp: int | None = None
    user: MessageUser | None = None
    mentions: list[str] | None = None
    stamped: bool | None = None
    automated: bool | None = None

    @property
    def text(self) -> str | None:
        """The text of a ``text`` or ``note`` message; ``None`` for other types."""
        content = self.content
        if isinstance(content, str) and self.type in TEXT_TYPES:
            return content
        return None


class MessageSend(MessageEvent):
    """``message:send``: the visitor wrote a message."""


class MessageReceived(MessageEvent):
    """``message:received``: an operator (or a plugin, or this plugin) wrote a message."""


class MessageUpdated(SessionEvent):
    """``message:updated``: a message changed (picker choice, field answer, edit)."""

    fingerprint: int
    content: Any = None
    type: str | None = None

    @property
    def text(self) -> str | None:
        """The new text when the content is a string, else ``None``."""
        return self.content if isinstance(self.content, str) else None


class MessageRemoved(SessionEvent):
    """``message:removed``."""

    fingerprint: int


class MessageComposeSend(SessionEvent):
    """``message:compose:send``: the visitor is typing (``type`` start or stop)."""

    type: str
    excerpt: str | None = None
    timestamp: int | None = None


class MessageComposeReceive(MessageComposeSend):
    """``message:compose:receive``: an operator is typing."""

    user: MessageUser | None = None


class MessageAcknowledge(SessionEvent):
    """Read / delivered / ignored acknowledgements of some messages."""

    origin: str | None = None
    fingerprints: list[int] = Field(default_factory=list)


class MessageAcknowledgeReadSend(MessageAcknowledge):
    """``message:acknowledge:read:send``."""


class MessageAcknowledgeReadReceived(MessageAcknowledge):
    """``message:acknowledge:read:received``."""


class MessageAcknowledgeUnreadSend(MessageAcknowledge):
    """``message:acknowledge:unread:send``."""


class MessageAcknowledgeDelivered(MessageAcknowledge):
    """``message:acknowledge:delivered``."""


class MessageAcknowledgeIgnored(MessageAcknowledge):
    """``message:acknowledge:ignored``."""

    details: Any = None


class MessageNotifyUnreadSend(SessionEvent):
    """``message:notify:unread:send``."""


class MessageNotifyUnreadReceived(SessionEvent):
    """``message:notify:unread:received``."""
