"""The catalogue of Crisp's 82 real-time event names and their groups.

One source for the names: the dispatcher matches handlers against it, the RTM
transport expands wildcards from it, and ``python -m crisp_plugin events`` prints it.
"""

from __future__ import annotations

__all__ = [
    "EVENTS",
    "GROUPS",
    "PLUGIN_ONLY",
    "TEXT_EVENTS",
    "USER_ONLY",
    "events_for_tier",
    "expand",
    "is_known",
]

EVENTS: dict[str, str] = {
    "session:update_availability": "session",
    "session:update_verify": "session",
    "session:request:initiated": "session",
    "session:set_email": "session",
    "session:set_phone": "session",
    "session:set_address": "session",
    "session:set_subject": "session",
    "session:set_avatar": "session",
    "session:set_nickname": "session",
    "session:set_origin": "session",
    "session:set_data": "session",
    "session:set_segments": "session",
    "session:set_block": "session",
    "session:set_opened": "session",
    "session:set_closed": "session",
    "session:set_participants": "session",
    "session:set_mentions": "session",
    "session:set_routing": "session",
    "session:set_inbox": "session",
    "session:set_state": "session",
    "session:sync:capabilities": "session",
    "session:sync:geolocation": "session",
    "session:sync:system": "session",
    "session:sync:network": "session",
    "session:sync:timezone": "session",
    "session:sync:locales": "session",
    "session:sync:pages": "session",
    "session:sync:events": "session",
    "session:sync:rating": "session",
    "session:sync:topic": "session",
    "session:removed": "session",
    "session:error": "session",
    "message:updated": "message",
    "message:send": "message",
    "message:received": "message",
    "message:removed": "message",
    "message:compose:send": "message",
    "message:compose:receive": "message",
    "message:acknowledge:read:send": "message",
    "message:acknowledge:read:received": "message",
    "message:acknowledge:unread:send": "message",
    "message:acknowledge:delivered": "message",
    "message:acknowledge:ignored": "message",
    "message:notify:unread:send": "message",
    "message:notify:unread:received": "message",
    "spam:message": "spam",
    "spam:decision": "spam",
    "people:profile:created": "people",
    "people:profile:updated": "people",
    "people:profile:removed": "people",
    "people:bind:session": "people",
    "people:sync:profile": "people",
    "people:import:progress": "people",
    "people:import:done": "people",
    "campaign:progress": "campaign",
    "campaign:dispatched": "campaign",
    "campaign:running": "campaign",
    "browsing:request:initiated": "browsing",
    "browsing:request:rejected": "browsing",
    "call:request:initiated": "call",
    "call:request:rejected": "call",
    "identity:verify:request": "identity",
    "widget:action:processed": "widget",
    "status:health:changed": "status",
    "website:update_visitors_count": "website",
    "website:update_operators_availability": "website",
    "website:users:available": "website",
    "bucket:url:upload:generated": "bucket",
    "bucket:url:avatar:generated": "bucket",
    "bucket:url:website:generated": "bucket",
    "bucket:url:campaign:generated": "bucket",
    "bucket:url:helpdesk:generated": "bucket",
    "bucket:url:status:generated": "bucket",
    "bucket:url:processing:generated": "bucket",
    "media:animation:listed": "media",
    "email:subscribe": "email",
    "email:track:view": "email",
    "plugin:channel": "plugin",
    "plugin:event": "plugin",
    "plugin:subscription:updated": "plugin",
    "plugin:settings:saved": "plugin",
    "plan:subscription:updated": "plan",
}

GROUPS: frozenset[str] = frozenset(EVENTS.values())

# Delivered to user-tier tokens only (spam, people import, campaign, widget, status, media).
USER_ONLY: frozenset[str] = frozenset(
    {
        "campaign:dispatched",
        "campaign:progress",
        "campaign:running",
        "media:animation:listed",
        "people:import:done",
        "people:import:progress",
        "spam:decision",
        "spam:message",
        "status:health:changed",
        "widget:action:processed",
    }
)

# Delivered to plugin-tier tokens only.
PLUGIN_ONLY: frozenset[str] = frozenset({"identity:verify:request"})

# Events whose payload can carry message text (``content`` of a text or note message).
TEXT_EVENTS: frozenset[str] = frozenset({"message:send", "message:received", "message:updated"})


def is_known(name: str) -> bool:
    """True for one of the 82 names Crisp documents."""
    return name in EVENTS


def events_for_tier(tier: str) -> list[str]:
    """Every event name a token of ``tier`` ("plugin", "website", "user") can receive."""
    if tier == "user":
        return [n for n in EVENTS if n not in PLUGIN_ONLY]
    if tier == "plugin":
        return [n for n in EVENTS if n not in USER_ONLY]
    return [n for n in EVENTS if n not in USER_ONLY and n not in PLUGIN_ONLY]


def expand(pattern: str, tier: str = "plugin") -> list[str]:
    """Names a pattern covers for a tier: an exact name, ``"group:*"`` or ``"*"``.

    An exact name that is not in the catalogue is returned as is (Crisp adds events;
    the plugin may know one we do not).
    """
    names = events_for_tier(tier)
    if pattern == "*":
        return names
    if pattern.endswith(":*"):
        prefix = pattern[:-1]
        return [n for n in names if n.startswith(prefix)]
    return [pattern]
