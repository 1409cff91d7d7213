"""What happens in the sandbox's world, and the events Crisp emits for it.

The REST API and the control API both act through these functions, so an operator
message sent over REST and a visitor message played from the control API produce
the same store changes and the same events:

- a message ``from: "user"`` -> ``message:send``; ``from: "operator"`` ->
  ``message:received`` (the plugin's own included);
- an edit (picker choice, field answer, content change) -> ``message:updated``;
  a removal -> ``message:removed``;
- typing: operator -> ``message:compose:receive``, visitor -> ``message:compose:send``;
- read: operator -> ``message:acknowledge:read:received``, visitor ->
  ``message:acknowledge:read:send``; delivered -> ``message:acknowledge:delivered``;
- state -> ``session:set_state``; meta fields -> ``session:set_<field>``;
  assignment -> ``session:set_routing``;
- settings saved -> ``plugin:settings:saved``; install / uninstall ->
  ``plugin:subscription:updated``.
"""

from __future__ import annotations

from typing import Any

from .bus import EventBus
from .store import JSON, Conversation, Website, new_fingerprint, now_ms

__all__ = [
    "assign",
    "compose",
    "edit_message",
    "mark",
    "post_message",
    "remove_message",
    "save_settings",
    "set_meta",
    "set_state",
    "set_subscription",
]

META_EVENTS = {
    "email": "session:set_email",
    "phone": "session:set_phone",
    "nickname": "session:set_nickname",
    "address": "session:set_address",
    "subject": "session:set_subject",
    "avatar": "session:set_avatar",
    "data": "session:set_data",
    "segments": "session:set_segments",
}


def _base(conv: Conversation) -> JSON:
    return {"website_id": conv.website_id, "session_id": conv.session_id, "inbox_id": None}


def _default_user(site: Website, conv: Conversation, sender: str, plugin_id: str) -> JSON:
    if sender == "user":
        return {
            "type": "participant",
            "user_id": conv.session_id,
            "nickname": conv.meta.get("nickname") or "visitor",
        }
    return {"type": "website", "user_id": plugin_id, "nickname": site.name}


async def post_message(
    bus: EventBus, site: Website, conv: Conversation, body: JSON, plugin_id: str
) -> JSON:
    """Store a validated new message and emit its event; returns the stored message.

    The message keeps the ``fingerprint`` its sender chose, if any: the REST and control
    handlers refuse one the conversation already has before calling this."""
    sender = body["from"]
    user = _default_user(site, conv, sender, plugin_id)
    if isinstance(body.get("user"), dict):
        user.update(body["user"])
    fingerprint = body.get("fingerprint")  # the sender's choice (the caller refused a taken one)
    if fingerprint is None:
        fingerprint = new_fingerprint()
        while fingerprint in conv.by_fingerprint:  # one a sender chose earlier
            fingerprint = new_fingerprint()
    timestamp = body.get("timestamp") or now_ms()
    message: JSON = {
        "session_id": conv.session_id,
        "website_id": conv.website_id,
        "type": body["type"],
        "from": sender,
        "origin": body["origin"],
        "content": body["content"],
        "mentions": body.get("mentions") or [],
        "preview": [],
        "read": "",
        "delivered": "",
        "edited": False,
        "translated": bool(body.get("translated", False)),
        "automated": bool(body.get("automated", False)),
        "stamped": True,
        "fingerprint": fingerprint,
        "timestamp": timestamp,
        "user": user,
    }
    for extra in ("references", "original", "properties"):
        if extra in body:
            message[extra] = body[extra]
    conv.add(message)
    if sender == "user":
        conv.unread_operator += 1
        if conv.state == "resolved":
            conv.state = "unresolved"
    else:
        conv.unread_visitor += 1
        if conv.state == "pending" and body["type"] != "note":
            conv.state = "unresolved"
    if body.get("stealth"):
        return message
    payload = _base(conv)
    for key in (
        "type",
        "from",
        "origin",
        "content",
        "fingerprint",
        "timestamp",
        "user",
        "mentions",
        "stamped",
        "automated",
    ):
        payload[key] = message[key]
    name = "message:send" if sender == "user" else "message:received"
    await bus.emit(name, payload)
    return message


async def edit_message(bus: EventBus, conv: Conversation, message: JSON, content: Any) -> None:
    """Change a message's content (picker choice, field answer, edit) -> message:updated."""
    message["content"] = content
    message["edited"] = True
    payload = _base(conv)
    payload["fingerprint"] = message["fingerprint"]
    payload["content"] = content
    await bus.emit("message:updated", payload)


async def remove_message(bus: EventBus, conv: Conversation, fingerprint: int) -> bool:
    if not conv.remove(fingerprint):
        return False
    payload = _base(conv)
    payload["fingerprint"] = fingerprint
    await bus.emit("message:removed", payload)
    return True


async def compose(
    bus: EventBus, site: Website, conv: Conversation, body: JSON, plugin_id: str
) -> None:
    payload = _base(conv)
    payload["type"] = body["type"]
    if body.get("excerpt"):
        payload["excerpt"] = body["excerpt"]
    payload["timestamp"] = now_ms()
    if body.get("stealth"):
        return
    if body["from"] == "operator":
        payload["user"] = _default_user(site, conv, "operator", plugin_id)
        await bus.emit("message:compose:receive", payload)
    else:
        await bus.emit("message:compose:send", payload)


async def mark(bus: EventBus, conv: Conversation, what: str, body: JSON) -> None:
    """Mark messages read or delivered."""
    sender = body["from"]
    fingerprints = body.get("fingerprints")
    if fingerprints is None:
        other = "user" if sender == "operator" else "operator"
        fingerprints = [m["fingerprint"] for m in conv.messages if m["from"] == other]
    for fp in fingerprints:
        message = conv.by_fingerprint.get(fp)
        if message is not None:
            message[what] = body.get("origin") or "chat"
    if what == "read":
        if sender == "operator":
            conv.unread_operator = 0
        else:
            conv.unread_visitor = 0
        name = (
            "message:acknowledge:read:received"
            if sender == "operator"
            else "message:acknowledge:read:send"
        )
    else:
        name = "message:acknowledge:delivered"
    payload = _base(conv)
    payload["origin"] = body.get("origin") or "chat"
    payload["fingerprints"] = list(fingerprints)
    await bus.emit(name, payload)


async def set_state(bus: EventBus, conv: Conversation, state: str) -> None:
    conv.state = state
    conv.updated_at = now_ms()
    payload = _base(conv)
    payload["state"] = state
    await bus.emit("session:set_state", payload)


async def set_meta(bus: EventBus, conv: Conversation, changes: JSON) -> None:
    for key, value in changes.items():
        if key == "data" and isinstance(value, dict):
            merged = dict(conv.meta.get("data") or {})
            merged.update(value)
            conv.meta["data"] = merged
        else:
            conv.meta[key] = value
        event = META_EVENTS.get(key)
        if event is not None:
            payload = _base(conv)
            payload[key] = conv.meta[key]
            await bus.emit(event, payload)
    conv.updated_at = now_ms()


async def assign(bus: EventBus, conv: Conversation, user_id: str | None) -> None:
    previous = conv.assigned
    conv.assigned = user_id
    payload = _base(conv)
    payload["routing_id"] = user_id
    payload["previous_routing_id"] = previous
    await bus.emit("session:set_routing", payload)


async def save_settings(bus: EventBus, site: Website, settings: JSON, plugin_id: str) -> None:
    site.settings = settings
    site.configured = True
    site.changed_at = now_ms()
    await bus.emit(
        "plugin:settings:saved",
        {"website_id": site.website_id, "plugin_id": plugin_id, "settings": settings},
    )


async def set_subscription(bus: EventBus, site: Website, bound: bool, plugin_id: str) -> None:
    """Install (bound=True) or uninstall the plugin on a website."""
    site.subscribed = bound
    site.changed_at = now_ms()
    if bound:
        site.installed_at = site.changed_at
    await bus.emit(
        "plugin:subscription:updated",
        {
            "website_id": site.website_id,
            "plugin_id": plugin_id,
            "bound": bound,
            "target": "website",
        },
    )
