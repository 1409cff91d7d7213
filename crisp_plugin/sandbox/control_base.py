"""What the control API's handler modules share: errors, JSON in and out, lookups.

A handler raises ``Problem(status, message)``; the ``problems`` middleware answers it
as ``{"error": message}`` with that status. ``read_body`` takes a JSON object (or
nothing), ``site_of`` / ``conversation_of`` find the ``{w}`` / ``{s}`` of the path.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .envelope import dumps
from .store import JSON, Conversation, Store, Website

__all__ = [
    "Problem",
    "conversation_of",
    "json_response",
    "problems",
    "read_body",
    "site_of",
]


class Problem(Exception):
    """A control call refused: answered ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=dumps(data), status=status, content_type="application/json")


async def read_body(request: web.Request) -> JSON:
    """The request's JSON object ({} for no body); a 400 for anything else."""
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise Problem(400, "body should be JSON") from None
    if not isinstance(data, dict):
        raise Problem(400, "body should be a JSON object")
    return data


def site_of(store: Store, request: web.Request) -> Website:
    wid = request.match_info["w"]
    site = store.websites.get(wid)
    if site is None:
        raise Problem(404, f"website {wid} does not exist")
    return site


def conversation_of(store: Store, request: web.Request) -> tuple[Website, Conversation]:
    site = site_of(store, request)
    sid = request.match_info["s"]
    conv = site.conversations.get(sid)
    if conv is None:
        raise Problem(404, f"conversation {sid} does not exist")
    return site, conv


@web.middleware
async def problems(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except Problem as problem:
        return json_response({"error": problem.message}, status=problem.status)
