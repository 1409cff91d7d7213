"""Body validation with Crisp's schema-validator wording.

Each check returns ``None`` when the body is valid, else the message Crisp would put
in ``data.message`` of a 400 ``invalid_data`` answer, naming the field, e.g.
``"data.type should be equal to one of the allowed values"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "MESSAGE_TYPES",
    "check_compose",
    "check_message",
    "check_message_edit",
    "check_meta",
    "check_people_profile",
    "check_read",
    "check_routing",
    "check_settings",
    "check_state",
]

MESSAGE_TYPES = (
    "text",
    "note",
    "file",
    "animation",
    "audio",
    "picker",
    "field",
    "carousel",
    "event",
)
FROM_VALUES = ("operator", "user")

Check = Callable[[Any, str], str | None]


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _object(fields: dict[str, tuple[str, bool]]) -> Check:
    """A check for an object whose fields are ``name: (kind, required)``."""

    def check(value: Any, where: str) -> str | None:
        if not isinstance(value, dict):
            return f"{where} should be object"
        for name, (kind, required) in fields.items():
            if name not in value:
                if required:
                    return f"{where} should have required property '{name}'"
                continue
            problem = _kind(kind, value[name], f"{where}.{name}")
            if problem:
                return problem
        return None

    return check


def _kind(kind: str, value: Any, where: str) -> str | None:
    if kind == "string":
        return None if _is_str(value) else f"{where} should be string"
    if kind == "number":
        return None if _is_num(value) else f"{where} should be number"
    if kind == "boolean":
        return None if isinstance(value, bool) else f"{where} should be boolean"
    if kind == "object":
        return None if isinstance(value, dict) else f"{where} should be object"
    if kind == "array":
        return None if isinstance(value, list) else f"{where} should be array"
    raise ValueError(kind)


def _array_of(item: Check, *, min_items: int = 0) -> Check:
    def check(value: Any, where: str) -> str | None:
        if not isinstance(value, list):
            return f"{where} should be array"
        if len(value) < min_items:
            return f"{where} should NOT have fewer than {min_items} items"
        for i, v in enumerate(value):
            problem = item(v, f"{where}[{i}]")
            if problem:
                return problem
        return None

    return check


def _text(value: Any, where: str) -> str | None:
    if not _is_str(value):
        return f"{where} should be string"
    if not value:
        return f"{where} should NOT be shorter than 1 characters"
    return None


_choice = _object(
    {
        "value": ("string", True),
        "label": ("string", True),
        "selected": ("boolean", True),
        "icon": ("string", False),
        "action": ("object", False),
    }
)
_picker_base = _object(
    {"id": ("string", True), "text": ("string", True), "required": ("boolean", False)}
)
_choices = _array_of(_choice, min_items=1)


def _picker(value: Any, where: str) -> str | None:
    problem = _picker_base(value, where)
    if problem:
        return problem
    if "choices" not in value:
        return f"{where} should have required property 'choices'"
    return _choices(value["choices"], f"{where}.choices")


_action = _object({"label": ("string", True), "url": ("string", True)})
_target_base = _object(
    {"title": ("string", True), "description": ("string", True), "image": ("string", False)}
)
_actions = _array_of(_action)


def _target(value: Any, where: str) -> str | None:
    problem = _target_base(value, where)
    if problem:
        return problem
    if "actions" in value:
        return _actions(value["actions"], f"{where}.actions")
    return None


_targets = _array_of(_target, min_items=1)
_carousel_base = _object({"text": ("string", True)})


def _carousel(value: Any, where: str) -> str | None:
    problem = _carousel_base(value, where)
    if problem:
        return problem
    if "targets" not in value:
        return f"{where} should have required property 'targets'"
    return _targets(value["targets"], f"{where}.targets")


CONTENT_CHECKS: dict[str, Check] = {
    "text": _text,
    "note": _text,
    "file": _object({"name": ("string", True), "url": ("string", True), "type": ("string", True)}),
    "animation": _object({"url": ("string", True), "type": ("string", True)}),
    "audio": _object(
        {"url": ("string", True), "type": ("string", True), "duration": ("number", True)}
    ),
    "picker": _picker,
    "field": _object(
        {
            "id": ("string", True),
            "text": ("string", True),
            "explain": ("string", True),
            "value": ("string", False),
            "required": ("boolean", False),
        }
    ),
    "carousel": _carousel,
    "event": _object({"namespace": ("string", True), "text": ("string", False)}),
}

_user = _object(
    {
        "type": ("string", False),
        "user_id": ("string", False),
        "nickname": ("string", False),
        "avatar": ("string", False),
    }
)

_OPTIONAL_MESSAGE_FIELDS: dict[str, str] = {
    "fingerprint": "number",
    "timestamp": "number",
    "stealth": "boolean",
    "translated": "boolean",
    "automated": "boolean",
    "mentions": "array",
    "references": "array",
    "original": "object",
    "properties": "object",
}


def check_message(body: Any) -> str | None:
    """A new message (POST .../conversation/{session_id}/message)."""
    if not isinstance(body, dict):
        return "data should be object"
    for name in ("type", "from", "origin", "content"):
        if name not in body:
            return f"data should have required property '{name}'"
    mtype = body["type"]
    if mtype not in MESSAGE_TYPES:
        return "data.type should be equal to one of the allowed values: " + ", ".join(MESSAGE_TYPES)
    if body["from"] not in FROM_VALUES:
        return "data.from should be equal to one of the allowed values: operator, user"
    if not _is_str(body["origin"]) or not body["origin"]:
        return 'data.origin should be string ("chat" or the plugin URN)'
    problem = CONTENT_CHECKS[mtype](body["content"], "data.content")
    if problem:
        return problem
    if "user" in body:
        problem = _user(body["user"], "data.user")
        if problem:
            return problem
    for name, kind in _OPTIONAL_MESSAGE_FIELDS.items():
        if name in body:
            problem = _kind(kind, body[name], f"data.{name}")
            if problem:
                return problem
    fp = body.get("fingerprint")
    if fp is not None and (not isinstance(fp, int) or fp <= 0):
        return "data.fingerprint should be integer"
    return None


def check_message_edit(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "data should be object"
    if "content" not in body:
        return "data should have required property 'content'"
    return None


def _enum(body: Any, name: str, allowed: tuple[str, ...], required: bool = True) -> str | None:
    if not isinstance(body, dict):
        return "data should be object"
    if name not in body:
        return f"data should have required property '{name}'" if required else None
    if body[name] not in allowed:
        return f"data.{name} should be equal to one of the allowed values: " + ", ".join(allowed)
    return None


def check_compose(body: Any) -> str | None:
    problem = _enum(body, "type", ("start", "stop")) or _enum(body, "from", FROM_VALUES)
    if problem:
        return problem
    if "excerpt" in body and not _is_str(body["excerpt"]):
        return "data.excerpt should be string"
    return None


_fingerprints = _array_of(lambda v, w: None if isinstance(v, int) else f"{w} should be integer")


def check_read(body: Any) -> str | None:
    problem = _enum(body, "from", FROM_VALUES)
    if problem:
        return problem
    if "origin" in body and not _is_str(body["origin"]):
        return "data.origin should be string"
    if "fingerprints" in body:
        return _fingerprints(body["fingerprints"], "data.fingerprints")
    return None


def check_state(body: Any) -> str | None:
    return _enum(body, "state", ("pending", "unresolved", "resolved"))


_META_STRINGS = ("nickname", "email", "phone", "address", "subject", "avatar", "ip")


def check_meta(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "data should be object"
    for name in _META_STRINGS:
        if name in body and not _is_str(body[name]):
            return f"data.{name} should be string"
    if "segments" in body:
        problem = _array_of(lambda v, w: None if _is_str(v) else f"{w} should be string")(
            body["segments"], "data.segments"
        )
        if problem:
            return problem
    if "data" in body:
        data = body["data"]
        if not isinstance(data, dict):
            return "data.data should be object"
        for k, v in data.items():
            if not (_is_str(v) or _is_num(v) or isinstance(v, bool)):
                return f"data.data['{k}'] should be string,number,boolean"
    return None


def check_routing(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "data should be object"
    if "assigned" not in body:
        return "data should have required property 'assigned'"
    assigned = body["assigned"]
    if assigned is None:
        return None
    if not isinstance(assigned, dict):
        return "data.assigned should be object,null"
    if not _is_str(assigned.get("user_id")):
        return "data.assigned should have required property 'user_id'"
    return None


def check_people_profile(body: Any, *, require_email: bool) -> str | None:
    if not isinstance(body, dict):
        return "data should be object"
    if require_email and "email" not in body:
        return "data should have required property 'email'"
    if "email" in body and (not _is_str(body["email"]) or "@" not in body["email"]):
        return 'data.email should match format "email"'
    if "person" in body:
        if not isinstance(body["person"], dict):
            return "data.person should be object"
        if require_email and not _is_str(body["person"].get("nickname")):
            return "data.person should have required property 'nickname'"
    if "segments" in body and not isinstance(body["segments"], list):
        return "data.segments should be array"
    return None


def check_settings(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "data should be object"
    if "settings" in body and not isinstance(body["settings"], dict):
        return "data.settings should be object"
    return None
