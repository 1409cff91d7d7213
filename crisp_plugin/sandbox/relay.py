"""The RTM relay: a Socket.IO server speaking Crisp's ``authentication`` handshake.

A client connects to the URL given by ``/v1/plugin/connect/endpoints`` (its path is
the Socket.IO path: ``/relay/``), emits ``authentication`` with ``{username, password,
tier, events, rooms?, inboxes?}`` and gets ``authenticated`` (``true``), or
``unauthorized`` (``{message}``) followed by a disconnect. Only the events it listed
are sent to it, only for the websites in ``rooms`` when given. ``socket:bind:push`` /
``socket:bind:pop`` (``{events}``) change the list on a live socket; ``socket:bind``
is accepted (new installs are picked up without it here).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

import socketio
from aiohttp import web

from .store import JSON

__all__ = ["RELAY_PATH", "Relay", "Subscription"]

RELAY_PATH = "/relay/"


@dataclass
class Subscription:
    """What an authenticated socket asked for."""

    events: set[str]
    rooms: set[str] | None = None
    inboxes: set[str] | None = None
    tier: str = "plugin"
    sent: int = 0
    """Events emitted to this socket (a test waits until its client received as many)."""

    def wants(self, name: str, payload: JSON) -> bool:
        if name not in self.events:
            return False
        if self.rooms is not None and payload.get("website_id") not in self.rooms:
            return False
        return self.inboxes is None or payload.get("inbox_id") in self.inboxes

    def to_json(self) -> JSON:
        return {
            "events": sorted(self.events),
            "rooms": sorted(self.rooms) if self.rooms is not None else None,
            "inboxes": sorted(self.inboxes) if self.inboxes is not None else None,
            "tier": self.tier,
            "sent": self.sent,
        }


def _names(value: Any) -> set[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return set(value)
    return None


class Relay:
    """Socket.IO server attached to the sandbox's aiohttp app."""

    def __init__(self, identifier: str, key: str) -> None:
        self.identifier = identifier
        self._key = key
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            cors_allowed_origins="*",
            logger=False,
            engineio_logger=False,
        )
        self.connected: set[str] = set()
        self.subscriptions: dict[str, Subscription] = {}
        self.refused = 0
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("authentication", self._on_authentication)
        self.sio.on("socket:bind", self._on_bind)
        self.sio.on("socket:bind:push", self._on_bind_push)
        self.sio.on("socket:bind:pop", self._on_bind_pop)

    def attach(self, app: web.Application) -> None:
        self.sio.attach(app, socketio_path=RELAY_PATH.strip("/"))

    async def _on_connect(self, sid: str, environ: Any, auth: Any = None) -> None:
        self.connected.add(sid)

    async def _on_disconnect(self, sid: str, *args: Any) -> None:
        self.connected.discard(sid)
        self.subscriptions.pop(sid, None)

    async def _on_authentication(self, sid: str, data: Any = None) -> None:
        problem = self._check(data)
        if problem:
            self.refused += 1
            self.subscriptions.pop(sid, None)
            await self.sio.emit("unauthorized", {"message": problem}, to=sid)
            await self.sio.disconnect(sid)
            return
        assert isinstance(data, dict)
        subscription = Subscription(
            events=_names(data.get("events")) or set(),
            rooms=_names(data.get("rooms")) if data.get("rooms") else None,
            inboxes=_names(data.get("inboxes")) if data.get("inboxes") else None,
            tier=str(data.get("tier")),
        )
        # The answer goes out before the first event: a client never sees an event of
        # its subscription ahead of the word that it is subscribed.
        await self.sio.emit("authenticated", True, to=sid)
        if sid in self.connected:
            self.subscriptions[sid] = subscription

    def _check(self, data: Any) -> str | None:
        if not isinstance(data, dict):
            return "authentication payload should be an object"
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return "invalid_session: username and password should be strings"
        try:
            given_user, given_key = username.encode(), password.encode()
        except UnicodeEncodeError:  # a lone surrogate, which no token holds
            return "invalid_session: malformed token identifier or key"
        same_user = hmac.compare_digest(given_user, self.identifier.encode())
        same_key = hmac.compare_digest(given_key, self._key.encode())
        if not (same_user and same_key):
            return "invalid_session: wrong token identifier or key"
        if data.get("tier") != "plugin":
            return f"invalid_session: token is not valid for tier {data.get('tier')!r}"
        if _names(data.get("events")) is None:
            return "events should be a list of event names"
        for name in ("rooms", "inboxes"):
            if data.get(name) is not None and _names(data.get(name)) is None:
                return f"{name} should be a list of ids"
        return None

    async def _on_bind(self, sid: str, data: Any = None) -> None:
        return None

    async def _on_bind_push(self, sid: str, data: Any = None) -> None:
        sub = self.subscriptions.get(sid)
        names = _names(data.get("events")) if isinstance(data, dict) else None
        if sub is not None and names:
            sub.events |= names

    async def _on_bind_pop(self, sid: str, data: Any = None) -> None:
        sub = self.subscriptions.get(sid)
        names = _names(data.get("events")) if isinstance(data, dict) else None
        if sub is not None and names:
            sub.events -= names

    async def publish(self, name: str, payload: JSON) -> None:
        """Send an event to every authenticated socket that asked for it."""
        if not self.subscriptions:
            return
        for sid, sub in list(self.subscriptions.items()):
            if sub.wants(name, payload):
                sub.sent += 1
                await self.sio.emit(name, payload, to=sid)

    async def drop_all(self) -> int:
        """Disconnect every socket, as when Crisp's relay restarts; returns how many."""
        sids = list(self.connected)
        for sid in sids:
            await self.sio.disconnect(sid)
        return len(sids)

    def to_json(self) -> JSON:
        return {
            "path": RELAY_PATH,
            "connected": len(self.connected),
            "authenticated": [
                {"sid": sid, **sub.to_json()} for sid, sub in self.subscriptions.items()
            ],
            "refused": self.refused,
        }

    async def close(self) -> None:
        await self.drop_all()
