"""Crisp's response envelope: ``{"error": bool, "reason": str, "data": ...}``."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

__all__ = ["dumps", "fail", "ok"]

_JSON = "application/json"


def dumps(obj: Any) -> str:
    """Compact JSON text, UTF-8 kept as is."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def ok(data: Any = None, *, reason: str = "resolved", status: int = 200) -> web.Response:
    """A success envelope; ``data`` defaults to an empty object as Crisp answers."""
    body = dumps({"error": False, "reason": reason, "data": {} if data is None else data})
    return web.Response(text=body, status=status, content_type=_JSON)


def fail(
    status: int, reason: str, message: str = "", headers: dict[str, str] | None = None
) -> web.Response:
    """An error envelope; ``data.message`` says what went wrong in words."""
    body = dumps({"error": True, "reason": reason, "data": {"message": message}})
    return web.Response(text=body, status=status, content_type=_JSON, headers=headers)
