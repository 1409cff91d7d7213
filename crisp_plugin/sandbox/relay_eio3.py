"""The relay's Engine.IO v3 front, for the clients of socket.io-client 2.x and go-crisp-api.

python-engineio 4 speaks Engine.IO v4 only, so the relay sends ``?EIO=3`` requests (at its
own path and at the default ``/socket.io/``) here: npm crisp-api 5.x, node-crisp-api 4.x
(both socket.io-client 2.4, websocket forced) and go-crisp-api (websocket only) use them,
and a socket.io-client 2.x left to its defaults starts on polling and upgrades. What they
need, and no more, is implemented (framing in eio3_wire.py):

- handshake: the open packet ``0{"sid","upgrades","pingInterval","pingTimeout"}`` (in
  ms), then Socket.IO's ``40``: the one namespace ``/`` is connected without asking;
- polling: GET waits until packets are due and answers them as one v3 payload; POST
  carries the client's packets and is answered ``ok``;
- websocket, one packet a text frame: from the start, or as the upgrade of a polling
  session (``2probe`` -> ``3probe``, the pending GET answered at once, then ``5``);
- heartbeat: the client pings (``2``) and gets ``3``; a session silent for pingInterval +
  pingTimeout is closed;
- events ``42["name",data]`` both ways (an ack id is answered ``43<id>[]``); ``41``
  (Socket.IO disconnect) and ``1`` (close) from the client end the session; the server's
  disconnect sends ``41`` then closes.

Bad input gets a clear answer and costs the session nothing: a 400 with
``{"code", "message"}`` (Engine.IO's codes: 0 unknown transport, 1 unknown session, 2 bad
handshake method, 3 bad request), or over websocket a Socket.IO error packet
``44"<message>"``. Binary packets, JSONP polling and namespaces other than ``/`` are
refused that way.

Sessions are handed to a `RelayHub` (the sandbox's ``Relay``) as `RelayPeer` objects:
the hub runs the authentication handshake, subscriptions and event fan-out for both
protocols.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Coroutine
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from . import eio3_wire as wire

__all__ = ["Eio3Server", "Eio3Session", "RelayHub", "RelayPeer"]

UPGRADE_TIMEOUT = 10.0
"""Seconds a probing websocket has to send the upgrade packet ``5``."""


class RelayPeer(Protocol):
    """A client socket of another protocol than the relay's own, as the relay reaches it."""

    async def emit(self, name: str, data: Any) -> None: ...

    async def close(self) -> None:
        """Disconnect it from the server's side, saying so (the hub's ``leave`` follows)."""
        ...

    async def drop(self) -> None:
        """Cut its connection without a word, as a relay restart does: the client
        reconnects on its own (the hub's ``leave`` follows)."""
        ...


class RelayHub(Protocol):
    """What a protocol front hands its sessions to."""

    async def join(self, sid: str, peer: RelayPeer) -> bool:
        """A session opened; False if the relay refuses it."""
        ...

    async def receive(self, sid: str, name: str, args: list[Any]) -> None:
        """An event the client emitted."""
        ...

    async def leave(self, sid: str) -> None:
        """A session that joined has ended, whoever ended it."""
        ...


class Eio3Session:
    """One Engine.IO v3 session: its packet queue (polling) or websocket, its heartbeat."""

    def __init__(self, server: Eio3Server, sid: str) -> None:
        self.server = server
        self.sid = sid
        self.queue: list[str] = []
        self.ws: web.WebSocketResponse | None = None
        self.transport = "polling"
        self.upgrading = False
        self.polling = False
        """A GET is waiting for packets."""
        self.closed = False
        self.joined = False
        self.pings = 0
        self._wake = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._expiry: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.transport
        return f"<Eio3Session {self.sid} {state} pings={self.pings}>"

    # -- RelayPeer -----------------------------------------------------------------

    async def emit(self, name: str, data: Any) -> None:
        await self.send(wire.encode_sio(wire.EVENT, [name, data]))

    async def close(self) -> None:
        await self.send(wire.encode_sio(wire.DISCONNECT))
        await self.end()

    async def drop(self) -> None:
        await self.end()

    # -- sending -------------------------------------------------------------------

    async def send(self, packet: str) -> None:
        if self.closed:
            return
        if self.ws is None:
            self.queue.append(packet)
            self._wake.set()
            return
        try:
            async with self._send_lock:
                await self.ws.send_str(packet)
        except (ConnectionError, RuntimeError):  # the socket went away under us
            await self.end()

    async def flush_to(self, ws: web.WebSocketResponse) -> None:
        """Move to ``ws`` and send it what the queue holds, in order."""
        async with self._send_lock:
            self.ws, self.transport = ws, "websocket"
            queued, self.queue = self.queue, []
            for packet in queued:
                await ws.send_str(packet)
        self._wake.set()

    async def take(self) -> list[str]:
        """Wait until packets are due (or the poll must return), then take them."""
        while not (self.queue or self.closed or self.upgrading or self.ws is not None):
            self._wake.clear()
            await self._wake.wait()
        taken, self.queue = self.queue, []
        if not taken:
            taken = [wire.CLOSE if self.closed else wire.NOOP]
        return taken

    def wake(self) -> None:
        self._wake.set()

    # -- lifecycle -----------------------------------------------------------------

    def touch(self) -> None:
        """The client is alive: close the session if it stays silent past the timeout."""
        if self._expiry is not None:
            self._expiry.cancel()
        wait = self.server.ping_interval + self.server.ping_timeout
        self._expiry = asyncio.get_running_loop().call_later(wait, self.server.expire, self)

    async def end(self) -> None:
        """End the session (idempotent); the hub hears of it once."""
        if self.closed:
            return
        self.closed = True
        if self._expiry is not None:
            self._expiry.cancel()
        if self.ws is None:
            # Polling: the last packets wait for the client's next GET, for a while.
            self.queue.append(wire.CLOSE)
            self._wake.set()
            loop = asyncio.get_running_loop()
            loop.call_later(self.server.ping_timeout, self.server.forget, self)
        else:
            self.server.forget(self)
            # In the background: the relay's fan-out (or the reader, ending) must not
            # wait for a client to answer the close frame.
            self.server.spawn(_close_quietly(self.ws))
        if self.joined:
            self.joined = False
            await self.server.hub.leave(self.sid)

    # -- receiving -----------------------------------------------------------------

    async def on_packet(self, packet: str) -> None:
        """Handle one packet from the client; `WireError` for one it cannot be."""
        kind, data = packet[:1], packet[1:]
        if not self.closed:
            self.touch()  # any packet shows the client is there
        if kind == wire.PING:
            self.pings += 1
            await self.send(wire.PONG + data)
        elif kind == wire.MESSAGE:
            await self._on_message(data)
        elif kind == wire.CLOSE:
            await self.end()
        elif kind in (wire.PONG, wire.UPGRADE, wire.NOOP):
            return
        else:
            raise wire.WireError(f"unexpected Engine.IO packet type {kind!r} from a client")

    async def _on_message(self, text: str) -> None:
        pkt = wire.parse_sio(text)
        if pkt.namespace != "/":
            # Only "/" exists: socket.io 2.x answers any other with this error packet.
            await self.send(
                wire.encode_sio(wire.ERROR, "Invalid namespace", namespace=pkt.namespace)
            )
            return
        if pkt.kind == wire.EVENT:
            name, *args = pkt.data
            if self.joined:
                await self.server.hub.receive(self.sid, name, args)
            if pkt.ack is not None:
                await self.send(wire.encode_sio(wire.ACK, [], ack=pkt.ack))
        elif pkt.kind == wire.DISCONNECT:
            await self.end()
        # CONNECT to "/" (already connected), ACK (none asked for), ERROR: nothing to do.


class Eio3Server:
    """Answers the Engine.IO v3 requests of the relay's paths."""

    def __init__(
        self, hub: RelayHub, *, ping_interval: float = 25.0, ping_timeout: float = 20.0
    ) -> None:
        self.hub = hub
        self.ping_interval = ping_interval
        """Seconds between the client's pings (told in each handshake)."""
        self.ping_timeout = ping_timeout
        """Seconds the client waits for a pong; silence past both ends a session."""
        self.sessions: dict[str, Eio3Session] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return _with_cors(request, web.Response(status=200))
        query = request.query
        transport = query.get("transport", "polling")
        if transport not in ("polling", "websocket"):
            return _refuse(request, 0, "Transport unknown")
        if "j" in query:
            return _refuse(request, 3, "Bad request: JSONP polling is not supported")
        sid = query.get("sid")
        if sid is None:
            if request.method != "GET":
                return _refuse(request, 2, "Bad handshake method")
            return await self._open(request, transport)
        session = self.sessions.get(sid)
        if session is None or (session.closed and not session.queue):
            return _refuse(request, 1, "Session ID unknown")
        if transport == "websocket":
            return await self._upgrade(request, session)
        if session.transport != "polling":
            return _refuse(request, 3, "Bad request: this session has moved to websocket")
        if request.method == "GET":
            return await self._poll(request, session)
        if request.method == "POST":
            return await self._post(request, session)
        return _refuse(request, 3, f"Bad request: method {request.method}")

    # -- handshake -------------------------------------------------------------------

    async def _open(self, request: web.Request, transport: str) -> web.StreamResponse:
        ws: web.WebSocketResponse | None = None
        if transport == "websocket":
            ws = web.WebSocketResponse()
            if not ws.can_prepare(request).ok:
                return _refuse(request, 3, "Bad request: expected a websocket upgrade")
        sid = secrets.token_urlsafe(15)
        while sid in self.sessions:
            sid = secrets.token_urlsafe(15)
        session = Eio3Session(self, sid)
        self.sessions[sid] = session
        opened = {
            "sid": sid,
            "upgrades": ["websocket"] if ws is None else [],
            "pingInterval": round(self.ping_interval * 1000),
            "pingTimeout": round(self.ping_timeout * 1000),
        }
        await session.send(wire.OPEN + json.dumps(opened, separators=(",", ":")))
        session.touch()
        if await self.hub.join(sid, session):
            session.joined = True
            await session.send(wire.encode_sio(wire.CONNECT))
        else:
            await session.send(wire.encode_sio(wire.ERROR, "Connection refused by the relay"))
            await session.end()
        if ws is None:
            return await self._poll(request, session)
        await ws.prepare(request)
        await session.flush_to(ws)
        if session.closed:
            await ws.close()
        else:
            await self._read(ws, session)
        return ws

    # -- polling ---------------------------------------------------------------------

    async def _poll(self, request: web.Request, session: Eio3Session) -> web.StreamResponse:
        if session.polling:
            return _refuse(request, 3, "Bad request: a GET of this session is already waiting")
        session.polling = True
        try:
            packets = await session.take()
        finally:
            session.polling = False
        if session.closed:
            self.forget(session)
        body = wire.encode_payload(packets)
        response = web.Response(text=body, content_type="text/plain", charset="utf-8")
        return _with_cors(request, response)

    async def _post(self, request: web.Request, session: Eio3Session) -> web.StreamResponse:
        if request.content_type == "application/octet-stream":
            return _refuse(request, 3, "Bad request: binary payloads are not supported")
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(request, 3, "Bad request: the payload is not UTF-8 text")
        try:
            packets = wire.decode_payload(body)
        except wire.WireError as exc:
            return _refuse(request, 3, f"Bad request: {exc}")
        problems = []
        for packet in packets:  # one bad packet does not cost the others
            try:
                await session.on_packet(packet)
            except wire.WireError as exc:
                problems.append(str(exc))
        if problems:
            return _refuse(request, 3, "Bad request: " + "; ".join(problems))
        return _with_cors(request, web.Response(text="ok", content_type="text/html"))

    # -- websocket -------------------------------------------------------------------

    async def _upgrade(self, request: web.Request, session: Eio3Session) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        if not ws.can_prepare(request).ok:
            return _refuse(request, 3, "Bad request: expected a websocket upgrade")
        if session.transport != "polling" or session.upgrading:
            return _refuse(request, 3, "Bad request: this session is already upgrading")
        await ws.prepare(request)
        try:
            upgraded = await asyncio.wait_for(self._probe(ws, session), UPGRADE_TIMEOUT)
        except TimeoutError:
            upgraded = False
        finally:
            session.upgrading = False
            session.wake()
        if upgraded and not session.closed:
            await session.flush_to(ws)
            await self._read(ws, session)
        elif not ws.closed:
            await ws.close()
        return ws

    async def _probe(self, ws: web.WebSocketResponse, session: Eio3Session) -> bool:
        """``2probe`` -> ``3probe``, then True once ``5`` comes (False if anything else)."""
        msg = await ws.receive()
        if msg.type != WSMsgType.TEXT or msg.data != wire.PING + "probe":
            return False
        await ws.send_str(wire.PONG + "probe")
        session.upgrading = True
        session.wake()  # the client pauses polling: its pending GET must return now
        msg = await ws.receive()
        return msg.type == WSMsgType.TEXT and msg.data == wire.UPGRADE

    async def _read(self, ws: web.WebSocketResponse, session: Eio3Session) -> None:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                try:
                    await session.on_packet(msg.data)
                except wire.WireError as exc:
                    await session.send(wire.encode_sio(wire.ERROR, str(exc)))
            elif msg.type == WSMsgType.BINARY:
                note = "binary frames are not supported by this relay"
                await session.send(wire.encode_sio(wire.ERROR, note))
            if session.closed:
                break
        await session.end()

    # -- sessions --------------------------------------------------------------------

    def expire(self, session: Eio3Session) -> None:
        """No ping in time: end the session (called from its timer)."""
        self.spawn(session.end())

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """End every session, then give their websockets a moment to close cleanly."""
        for session in list(self.sessions.values()):
            await session.end()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=1.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def forget(self, session: Eio3Session) -> None:
        if self.sessions.get(session.sid) is session:
            del self.sessions[session.sid]


async def _close_quietly(ws: web.WebSocketResponse) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.close()


def _with_cors(request: web.Request, response: web.Response) -> web.Response:
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    return response


def _refuse(request: web.Request, code: int, message: str) -> web.Response:
    body = json.dumps({"code": code, "message": message})
    return _with_cors(request, web.json_response(text=body, status=400))
