"""The RTM relay: a Socket.IO server speaking Crisp's ``authentication`` handshake.

A client connects to the URL given by ``/v1/plugin/connect/endpoints`` (its path is
the Socket.IO path: ``/relay/``), emits ``authentication`` with ``{username, password,
tier, events, rooms?, inboxes?}`` and gets ``authenticated`` (``true``), or
``unauthorized`` (``{message}``) followed by a disconnect. Only the events it listed
are sent to it, only for the websites in ``rooms`` when given. ``socket:bind:push`` /
``socket:bind:pop`` (``{events}``) change the list on a live socket; ``socket:bind``
is accepted (new installs are picked up without it here).

Both generations of client are served, at ``/relay/`` and at the default
``/socket.io/``: Engine.IO v4 (socket.io-client 3+, python-socketio 5) by python-socketio,
``?EIO=3`` (socket.io-client 2.x, go-crisp-api) by relay_eio3.py, whose sessions join
this relay as peers (``join`` / ``receive`` / ``leave``): one handshake, one set of
subscriptions, one fan-out.
:meth:`Relay.outage` takes the relay away for a while, as when Crisp's relay is down:
both fronts answer 503 before any handshake.
"""

from __future__ import annotations

import contextlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

import socketio
from aiohttp import web
from socketio.exceptions import ConnectionRefusedError as SioConnectionRefused

from .relay_eio3 import Eio3Server, RelayPeer
from .store import JSON

__all__ = ["DEFAULT_SOCKETIO_PATH", "RELAY_PATH", "Relay", "Subscription"]

RELAY_PATH = "/relay/"
DEFAULT_SOCKETIO_PATH = "/socket.io/"
"""Where clients without endpoint discovery (crisp-api <= 5, go-crisp-api) connect."""


@dataclass
class Subscription:
    """What an authenticated socket asked for."""

    events: set[str]
    rooms: set[str] | None = None
    inboxes: set[str] | None = None
    tier: str = "plugin"
    engine_io: int = 4
    """The client's Engine.IO protocol: 4, or 3 for socket.io-client 2.x / go-crisp-api."""
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
            "engine_io": self.engine_io,
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
        self._away_until = 0.0  # time.monotonic(): new connections refused until then
        self.turned_away = 0
        """Connections refused during an outage (:meth:`outage`)."""
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self._events = {
            "authentication": self._on_authentication,
            "socket:bind": self._on_bind,
            "socket:bind:push": self._on_bind_push,
            "socket:bind:pop": self._on_bind_pop,
        }
        for name, handler in self._events.items():
            self.sio.on(name, handler)
        self.eio3 = Eio3Server(self)
        self._peers: dict[str, RelayPeer] = {}
        """Sockets of the Engine.IO v3 front, by sid; every other sid is python-socketio's."""

    def attach(self, app: web.Application) -> None:
        for path in (RELAY_PATH, DEFAULT_SOCKETIO_PATH):
            for method in ("GET", "POST", "OPTIONS"):
                app.router.add_route(method, path, self._handle)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self._away_until:  # an outage: refused before any handshake
            self.turned_away += 1
            return web.Response(status=503, text="relay unavailable (sandbox outage)")
        if request.query.get("EIO") == "3":
            return await self.eio3.handle(request)
        response: web.StreamResponse = await self.sio.handle_request(request)
        return response

    # -- the Engine.IO v3 front's sessions (relay_eio3.RelayHub) ---------------------

    async def join(self, sid: str, peer: RelayPeer) -> bool:
        self._peers[sid] = peer
        with contextlib.suppress(SioConnectionRefused):
            await self._on_connect(sid, {}, None)
        if sid not in self.connected:  # refused
            self._peers.pop(sid, None)
            return False
        return True

    async def receive(self, sid: str, name: str, args: list[Any]) -> None:
        handler = self._events.get(name)
        if handler is not None and sid in self._peers:
            await handler(sid, *args[:1])

    async def leave(self, sid: str) -> None:
        if self._peers.pop(sid, None) is not None:
            await self._on_disconnect(sid)

    async def _emit(self, sid: str, name: str, data: Any) -> None:
        peer = self._peers.get(sid)
        if peer is None:
            await self.sio.emit(name, data, to=sid)
        else:
            await peer.emit(name, data)

    async def _disconnect(self, sid: str) -> None:
        peer = self._peers.get(sid)
        if peer is None:
            await self.sio.disconnect(sid)
        else:
            await peer.close()

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
            await self._emit(sid, "unauthorized", {"message": problem})
            await self._disconnect(sid)
            return
        assert isinstance(data, dict)
        subscription = Subscription(
            events=_names(data.get("events")) or set(),
            rooms=_names(data.get("rooms")) if data.get("rooms") else None,
            inboxes=_names(data.get("inboxes")) if data.get("inboxes") else None,
            tier=str(data.get("tier")),
            engine_io=3 if sid in self._peers else 4,
        )
        # The answer goes out before the first event: a client never sees an event of
        # its subscription ahead of the word that it is subscribed.
        await self._emit(sid, "authenticated", True)
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
                await self._emit(sid, name, payload)

    async def drop_all(self) -> int:
        """Disconnect every socket, as when Crisp's relay restarts; returns how many."""
        sids = list(self.connected)
        for sid in sids:
            peer = self._peers.get(sid)
            if peer is None:
                await self.sio.disconnect(sid)
            else:
                await peer.drop()
        return len(sids)

    async def outage(self, seconds: float) -> int:
        """Take the relay away for ``seconds``: every socket dropped, new connections
        refused until then (REST, hooks and the control API go on); how many dropped."""
        self._away_until = time.monotonic() + max(0.0, seconds)
        return await self.drop_all()

    @property
    def away_for(self) -> float:
        """Seconds the current outage still lasts (0 when the relay is up)."""
        return max(0.0, self._away_until - time.monotonic())

    def to_json(self) -> JSON:
        return {
            "away_for": round(self.away_for, 3),
            "turned_away": self.turned_away,
            "path": RELAY_PATH,
            "connected": len(self.connected),
            "authenticated": [
                {"sid": sid, **sub.to_json()} for sid, sub in self.subscriptions.items()
            ],
            "refused": self.refused,
        }

    async def close(self) -> None:
        await self.drop_all()
        await self.eio3.close()
