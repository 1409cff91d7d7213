"""``PluginBinding``: what ``event.reply``, ``event.note``, ``event.flow``... do.

The implementation of :class:`crisp_plugin.events.binding.EventBinding` for one running
plugin: each action is one REST call through the plugin's client (so its retries,
limits, quota and echo registration apply) for the event's website and session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from crisp_plugin.events.base import SessionEvent
from crisp_plugin.events.binding import ChoiceSpec
from crisp_plugin.flows import Flow
from crisp_plugin.state.base import StateStore, conversation_scope

if TYPE_CHECKING:
    from crisp_plugin.rest import RestClient
    from crisp_plugin.rest.models import SentMessage

__all__ = ["FLOW_SLOT", "PluginBinding"]

FLOW_SLOT = "_crisp_flow"
"""An event's ``__dict__`` key for its conversation's :class:`Flow` (one per event)."""


class PluginBinding:
    """The actions of every conversation event of one plugin."""

    __slots__ = ("_rest", "_store", "_ttl")

    def __init__(
        self, rest: Callable[[], RestClient], store: StateStore, flow_ttl: float | None
    ) -> None:
        self._rest = rest  # the plugin's property: a clear error when it has none
        self._store = store
        self._ttl = flow_ttl

    async def send(
        self,
        event: SessionEvent,
        content: Any,
        *,
        type: str,
        fields: Mapping[str, Any] | None = None,
    ) -> SentMessage:
        return await self._rest().send_message(
            event.website_id, event.session_id, content, type=type, extra=fields
        )

    async def picker(
        self,
        event: SessionEvent,
        text: str,
        choices: Sequence[ChoiceSpec],
        *,
        id: str,
        required: bool | None,
    ) -> SentMessage:
        return await self._rest().send_picker(
            event.website_id, event.session_id, text, choices, picker_id=id, required=required
        )

    async def typing(self, event: SessionEvent, on: bool, excerpt: str | None) -> None:
        await self._rest().compose(event.website_id, event.session_id, on, excerpt=excerpt)

    async def set_state(
        self, event: SessionEvent, state: Literal["pending", "unresolved", "resolved"]
    ) -> None:
        await self._rest().set_state(event.website_id, event.session_id, state)

    async def assign(self, event: SessionEvent, user_id: str | None, silent: bool) -> None:
        await self._rest().assign(event.website_id, event.session_id, user_id, silent=silent)

    async def set_meta(self, event: SessionEvent, meta: Mapping[str, Any]) -> None:
        await self._rest().update_meta(event.website_id, event.session_id, meta)

    def flow(self, event: SessionEvent) -> Flow:
        found: Flow | None = event.__dict__.get(FLOW_SLOT)
        if found is None:
            scope = conversation_scope(event.website_id, event.session_id)
            found = Flow(self._store, scope, self._ttl)
            event.__dict__[FLOW_SLOT] = found
        return found
