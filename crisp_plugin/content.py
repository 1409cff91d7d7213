"""The shapes of a Crisp message: its author and the content of each message type.

One definition, used by the events (``event.picker``, ``event.user``...) and by the
REST client (``Message.user``), so a message read from an event and the same message
read over REST have the same types.

A message's ``content`` depends on its ``type`` (PROTOCOL.md):

============  ==============================================================
type          content
============  ==============================================================
text, note    a string
file          :class:`FileContent` ``{name, url, type}``
animation     :class:`AnimationContent` ``{url, type}``
audio         :class:`AudioContent` ``{url, type, duration}``
picker        :class:`PickerContent` ``{id, text, choices: [{value, label, selected}]}``
field         :class:`FieldContent` ``{id, text, explain, value?}``
carousel      :class:`CarouselContent` ``{text, targets: [...]}``
event         :class:`EventContent` ``{namespace, text?}``
============  ==============================================================

Every model keeps fields Crisp adds that it does not know (``extra="allow"``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AnimationContent",
    "AudioContent",
    "CarouselContent",
    "Choice",
    "EventContent",
    "FieldContent",
    "FileContent",
    "MessageUser",
    "PickerContent",
    "content_model",
]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class MessageUser(_Shape):
    """Who a message is attributed to (``user`` of a message): fields vary by sender."""

    type: str | None = None
    user_id: str | None = None
    nickname: str | None = None
    avatar: str | None = None


class FileContent(_Shape):
    """``file``: a file already hosted at ``url`` (``type`` is its MIME type)."""

    name: str = ""
    url: str
    type: str = ""


class AnimationContent(_Shape):
    """``animation``: an animated image (a GIF)."""

    url: str
    type: str = ""


class AudioContent(_Shape):
    """``audio``: a voice message, ``duration`` in seconds."""

    url: str
    type: str = ""
    duration: float | None = None


class Choice(_Shape):
    """One button of a picker; ``selected`` is true on the visitor's choice."""

    value: str
    label: str = ""
    selected: bool = False
    icon: str | None = None
    action: Any = None


class PickerContent(_Shape):
    """``picker``: buttons for the visitor; the choice comes back as ``message:updated``
    with that choice ``selected`` (the framework turns it into ``picker:choice``)."""

    id: str
    text: str = ""
    choices: list[Choice] = Field(default_factory=list)
    required: bool | None = None

    @property
    def chosen(self) -> Choice | None:
        """The selected choice, if the visitor picked one."""
        return next((c for c in self.choices if c.selected), None)


class FieldContent(_Shape):
    """``field``: an input box; the answer comes back as ``message:updated`` with
    ``value`` set (the framework turns it into ``field:answer``)."""

    id: str
    text: str = ""
    explain: str = ""
    value: str | None = None
    required: bool | None = None


class CarouselContent(_Shape):
    """``carousel``: cards with links (``targets: [{title, description, actions}]``)."""

    text: str = ""
    targets: list[dict[str, Any]] = Field(default_factory=list)


class EventContent(_Shape):
    """``event``: a line in the conversation such as "conversation resolved"."""

    namespace: str = ""
    text: str | None = None


_BY_TYPE: dict[str, type[_Shape]] = {
    "file": FileContent,
    "animation": AnimationContent,
    "audio": AudioContent,
    "picker": PickerContent,
    "field": FieldContent,
    "carousel": CarouselContent,
    "event": EventContent,
}


def content_model(message_type: str | None) -> type[BaseModel] | None:
    """The model of a message type's object content (``None`` for text and note)."""
    if message_type is None:
        return None
    return _BY_TYPE.get(message_type)
