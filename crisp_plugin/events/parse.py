"""``parse_event(name, payload)``: a Crisp payload -> its typed model.

One ``model_validate`` per event and no copy of the payload: this is the hot path.
A payload that does not fit its typed model raises ``EventError`` naming the event and
the field; a name without a model (or unknown to this version) becomes a
``GenericEvent`` that keeps every field, never an error.
"""

from __future__ import annotations

import reprlib
from typing import Any

from pydantic import ValidationError

from crisp_plugin.errors import EventError
from crisp_plugin.events import message as m
from crisp_plugin.events import people as p
from crisp_plugin.events import plugin as pl
from crisp_plugin.events import session as s
from crisp_plugin.events.base import Event, GenericEvent

__all__ = ["MODELS", "model_for", "parse_event"]

MODELS: dict[str, type[Event]] = {
    "message:send": m.MessageSend,
    "message:received": m.MessageReceived,
    "message:updated": m.MessageUpdated,
    "message:removed": m.MessageRemoved,
    "message:compose:send": m.MessageComposeSend,
    "message:compose:receive": m.MessageComposeReceive,
    "message:acknowledge:read:send": m.MessageAcknowledgeReadSend,
    "message:acknowledge:read:received": m.MessageAcknowledgeReadReceived,
    "message:acknowledge:unread:send": m.MessageAcknowledgeUnreadSend,
    "message:acknowledge:delivered": m.MessageAcknowledgeDelivered,
    "message:acknowledge:ignored": m.MessageAcknowledgeIgnored,
    "message:notify:unread:send": m.MessageNotifyUnreadSend,
    "message:notify:unread:received": m.MessageNotifyUnreadReceived,
    "session:update_availability": s.SessionUpdateAvailability,
    "session:update_verify": s.SessionUpdateVerify,
    "session:request:initiated": s.SessionRequestInitiated,
    "session:set_email": s.SessionSetEmail,
    "session:set_phone": s.SessionSetPhone,
    "session:set_address": s.SessionSetAddress,
    "session:set_subject": s.SessionSetSubject,
    "session:set_avatar": s.SessionSetAvatar,
    "session:set_nickname": s.SessionSetNickname,
    "session:set_origin": s.SessionSetOrigin,
    "session:set_data": s.SessionSetData,
    "session:set_segments": s.SessionSetSegments,
    "session:set_block": s.SessionSetBlock,
    "session:set_opened": s.SessionSetOpened,
    "session:set_closed": s.SessionSetClosed,
    "session:set_participants": s.SessionSetParticipants,
    "session:set_mentions": s.SessionSetMentions,
    "session:set_routing": s.SessionSetRouting,
    "session:set_inbox": s.SessionSetInbox,
    "session:set_state": s.SessionSetState,
    "session:sync:capabilities": s.SessionSyncCapabilities,
    "session:sync:geolocation": s.SessionSyncGeolocation,
    "session:sync:system": s.SessionSyncSystem,
    "session:sync:network": s.SessionSyncNetwork,
    "session:sync:timezone": s.SessionSyncTimezone,
    "session:sync:locales": s.SessionSyncLocales,
    "session:sync:pages": s.SessionSyncPages,
    "session:sync:events": s.SessionSyncEvents,
    "session:sync:rating": s.SessionSyncRating,
    "session:sync:topic": s.SessionSyncTopic,
    "session:removed": s.SessionRemoved,
    "session:error": s.SessionError,
    "people:profile:created": p.PeopleProfileCreated,
    "people:profile:updated": p.PeopleProfileUpdated,
    "people:profile:removed": p.PeopleProfileRemoved,
    "people:bind:session": p.PeopleBindSession,
    "people:sync:profile": p.PeopleSyncProfile,
    "people:import:progress": p.PeopleImportProgress,
    "people:import:done": p.PeopleImportDone,
    "plugin:channel": pl.PluginChannel,
    "plugin:event": pl.PluginEvent,
    "plugin:subscription:updated": pl.PluginSubscriptionUpdated,
    "plugin:settings:saved": pl.PluginSettingsSaved,
}


for _name, _model in MODELS.items():
    _model.event_name = _name


def model_for(name: str) -> type[Event]:
    """The model class an event name parses into (``GenericEvent`` when untyped)."""
    return MODELS.get(name, GenericEvent)


def parse_event(name: str, payload: Any) -> Event:
    """Parse one payload; ``EventError`` names the event and the first bad field."""
    if not isinstance(payload, dict):
        raise EventError(f"{name}: payload is {type(payload).__name__}, not a JSON object")
    model = MODELS.get(name)
    if model is None:
        event: Event = _generic(payload)
    else:
        try:
            # what model_validate does, without its frame: this runs for every event
            event = model.__pydantic_validator__.validate_python(payload)
        except ValidationError as exc:
            raise EventError(_describe(name, exc)) from None
        except RecursionError:
            raise EventError(f"{name}: payload nested too deep to read") from None
    data = event.__dict__  # what Event._bind sets, written directly (hot path)
    data["_crisp_name"] = name
    data["_crisp_raw"] = payload
    return event


def _generic(payload: dict[str, Any]) -> Event:
    try:
        return GenericEvent.model_validate(payload)
    except ValidationError:
        # website_id / session_id of an unexpected type: keep everything as given.
        return GenericEvent.model_construct(**payload)


_short = reprlib.Repr()
_short.maxlevel = 3
_short.maxstring = 40
_short.maxother = 40


def _describe(name: str, exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    parts = []
    for err in errors[:3]:
        field = ".".join(str(x) for x in err["loc"]) or "(payload)"
        if err["type"] == "missing":
            parts.append(f"field {field!r} is missing")
        else:
            value = _short.repr(err.get("input"))  # bounded: inputs come from the network
            if len(value) > 40:
                value = value[:37] + "..."
            parts.append(f"field {field!r} = {value}: {err['msg']}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return f"{name}: " + "; ".join(parts) + more
