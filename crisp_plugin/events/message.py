"""Models of the ``message:*`` events (13 names).

``message:send`` is a message *from the visitor*; ``message:received`` one *from an
operator* (including the plugin's own replies, which the dispatcher drops as echoes).
``content`` is a string for ``text`` and ``note`` messages and an object for the other
types (picker, field, file...); it is kept as Crisp sent it, and read typed through
``event.picker``, ``event.field``, ``event.file`` (:mod:`crisp_plugin.content`).

``message:updated`` carries the changed content: a picker with the visitor's choice
``selected``, a field with its ``value`` filled in, or an edited text. The dispatcher
also hands those first two to handlers of ``picker:choice`` and ``field:answer``
(:mod:`crisp_plugin.events.derived`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from crisp_plugin.content import FieldContent, FileContent, MessageUser, PickerContent
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


M = TypeVar("M", bound=BaseModel)


def typed_content(content: Any, model: type[M], required: str) -> M | None:
    """``content`` as ``model`` when it is an object with the ``required`` key and fits;
    ``None`` otherwise (another type of message, or a malformed one)."""
    if not isinstance(content, dict) or required not in content:
        return None
    try:
        return model.model_validate(content)
    except ValidationError:
        return None


class _TypedContent:
    """``picker`` / ``field`` / ``file`` views of a message event's ``content``."""

    content: Any
    type: str | None

    @property
    def picker(self) -> PickerContent | None:
        """The content as a picker (``None`` for other messages)."""
        if self.type not in (None, "picker"):
            return None
        return typed_content(self.content, PickerContent, "choices")

    @property
    def field(self) -> FieldContent | None:
        """The content as a field (``None`` for other messages)."""
        if self.type not in (None, "field") or self.picker is not None:
            return None
        return typed_content(self.content, FieldContent, "id")

    @property
    def file(self) -> FileContent | None:
        """The content as a file (``None`` for other messages)."""
        if self.type != "file":
            return None
        return typed_content(self.content, FileContent, "url")


class MessageEvent(_TypedContent, SessionEvent):
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


class MessageUpdated(_TypedContent, SessionEvent):
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
