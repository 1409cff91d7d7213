"""What a conversation event is bound to while a plugin handles it.

Events are data; the methods that act on their conversation (``event.reply``,
``event.note``, ``event.flow``...) delegate to an :class:`EventBinding`, which the
dispatcher attaches to each event before its handlers run (one binding per plugin,
shared by every event). An event built in code, outside a running plugin, has none:
its actions raise :class:`Unbound` with a sentence saying so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from crisp_plugin.events.base import SessionEvent
    from crisp_plugin.flows import Flow
    from crisp_plugin.rest.models import SentMessage

__all__ = ["ChoiceSpec", "EventBinding", "Unbound"]

ChoiceSpec = str | tuple[str, str] | Mapping[str, Any]
"""A picker choice to send: ``(value, label)``, a plain string (value and label), or a
full choice object."""


class Unbound(RuntimeError):
    """An event's action was used outside a running plugin."""


class EventBinding(Protocol):
    """The actions of a conversation event, implemented by the framework."""

    async def send(
        self,
        event: SessionEvent,
        content: Any,
        *,
        type: str,
        fields: Mapping[str, Any] | None = None,
    ) -> SentMessage: ...

    async def picker(
        self,
        event: SessionEvent,
        text: str,
        choices: Sequence[ChoiceSpec],
        *,
        id: str,
        required: bool | None,
    ) -> SentMessage: ...

    async def typing(self, event: SessionEvent, on: bool, excerpt: str | None) -> None: ...

    async def set_state(
        self, event: SessionEvent, state: Literal["pending", "unresolved", "resolved"]
    ) -> None: ...

    async def assign(self, event: SessionEvent, user_id: str | None, silent: bool) -> None: ...

    async def set_meta(self, event: SessionEvent, meta: Mapping[str, Any]) -> None: ...

    def flow(self, event: SessionEvent) -> Flow: ...
