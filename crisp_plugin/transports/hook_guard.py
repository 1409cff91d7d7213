"""The open connections of a hook server, kept few and moving.

Each connection (a :class:`~crisp_plugin.transports.hook_protocol.HookProtocol`,
which stays in front of aiohttp for connections it hands over) says which
:data:`phase` it is in and since when:

- ``HEAD``: reading a request head. A new connection starts here, and so does one
  whose next request has sent its first byte.
- ``BODY``: the head is read, the body is not all there yet.
- ``BUSY``: the request is read whole and aiohttp is answering it.
- ``IDLE``: between requests on a kept-alive connection.

:class:`ConnectionGuard` sweeps them every :attr:`ConnectionGuard.tick` seconds and
closes, with a 408 when the socket can take it:

- a connection whose head, or whose body, is not read within ``request_timeout``
  seconds of that phase's start, however steadily its bytes trickle in;
- a connection that stopped reading its answers (writing paused) for as long;
- as before, an ``IDLE`` connection nothing arrived on for a whole idle sweep.

It also caps the open connections at ``max_connections``: one past the cap is answered
503 and closed at once, with a log line at most every :data:`LOG_EVERY` seconds.

Connections served by aiohttp report their progress through :func:`track_requests`,
a middleware on the hook server's application: a request reaching a handler has its
head read; the hook route says when it read the body; the handler's return ends it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

__all__ = [
    "BODY",
    "BUSY",
    "HEAD",
    "IDLE",
    "LOG_EVERY",
    "ConnectionGuard",
    "Watched",
    "track_requests",
]

IDLE, HEAD, BODY, BUSY = 0, 1, 2, 3

LOG_EVERY = 5.0

clock = time.monotonic

log = structlog.get_logger("crisp_plugin.webhooks")


def _closing(status: str, error: str, message: str, extra: str = "") -> bytes:
    body = f'{{"error":"{error}","message":"{message}"}}'.encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


_TIMEOUT = _closing("408 Request Timeout", "timeout", "request not read in time")
_FULL = _closing("503 Service Unavailable", "busy", "too many connections", "Retry-After: 5\r\n")


class Watched(Protocol):
    """What the guard reads and calls on a connection."""

    phase: int
    since: float  # clock() when the phase began
    paused_since: float  # clock() when writing was paused, 0.0 while it is not
    active: bool  # something arrived since the last idle sweep

    @property
    def transport(self) -> asyncio.Transport | None: ...

    def request_began(self, with_body: bool) -> None:
        """aiohttp read a request's head and calls its handler."""

    def body_read(self) -> None:
        """The hook route read the request's body."""

    def request_ended(self, body_pending: bool = False) -> None:
        """The handler returned: the request is answered (``body_pending``: without
        its whole body having arrived)."""


class _Throttle:
    """A log line at most every ``every`` seconds, with the count of what it stands for."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._next = 0.0
        self._count = 0

    def note(self, now: float, count: int = 1) -> int:
        """Add ``count``; the total since the last line when a line is due, else 0."""
        self._count += count
        if now < self._next:
            return 0
        self._next = now + self.every
        total, self._count = self._count, 0
        return total


def _shut(transport: asyncio.Transport, answer: bytes = b"") -> None:
    """Answer (if given) and close; drop at once a peer that does not read what it is
    sent, whose socket a plain close would keep open until it does."""
    if transport.is_closing():
        transport.abort()
        return
    if answer and transport.get_write_buffer_size() == 0:
        transport.write(answer)
    if transport.get_write_buffer_size() == 0:
        transport.close()
    else:
        transport.abort()


class ConnectionGuard:
    """The cap, the deadlines and the idle close of one hook server's connections."""

    def __init__(self, request_timeout: float, max_connections: int) -> None:
        if not request_timeout > 0:
            raise ValueError("request_timeout must be > 0 seconds")
        if max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        self.request_timeout = request_timeout
        self.max_connections = max_connections
        self.open: set[Watched] = set()
        # aiohttp's protocol of a connection handed over -> that connection
        self.served: dict[object, Watched] = {}
        self.refused = 0  # connections refused at the cap
        self.timed_out = 0  # connections closed by a deadline
        self.idle_closed = 0
        self.sweeps = 0
        self.tick = min(1.0, request_timeout / 4)
        self._idle_sweep = 45.0
        self._next_idle = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._full_log = _Throttle(LOG_EVERY)
        self._slow_log = _Throttle(LOG_EVERY)

    # -- the cap -----------------------------------------------------------------

    def admit(self, connection: Watched, transport: asyncio.Transport) -> bool:
        """Count ``connection`` in, or refuse it (503, closed) when the cap is reached."""
        if len(self.open) < self.max_connections:
            self.open.add(connection)
            return True
        self.refused += 1
        refused = self._full_log.note(clock())
        if refused:
            log.warning(
                "webhooks connection limit reached: new connections refused",
                max_connections=self.max_connections,
                refused=refused,
            )
        _shut(transport, _FULL)
        return False

    def discard(self, connection: Watched) -> None:
        self.open.discard(connection)

    # -- the sweep ---------------------------------------------------------------

    def start(self, idle_sweep: float) -> None:
        """Sweep from now on (``idle_sweep``: seconds between two idle checks)."""
        self._idle_sweep = idle_sweep
        self.tick = min(1.0, self.request_timeout / 4, idle_sweep)
        self._next_idle = clock() + idle_sweep
        self._timer = asyncio.get_running_loop().call_later(self.tick, self._sweep)

    def stop(self) -> None:
        """Stop sweeping and close every connection."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for connection in list(self.open):
            transport = connection.transport
            if transport is not None:
                transport.close()
        self.open.clear()
        self.served.clear()

    def _sweep(self) -> None:
        self.sweeps += 1
        now = clock()
        limit = self.request_timeout
        idle_round = now >= self._next_idle
        if idle_round:
            self._next_idle = now + self._idle_sweep
        slow = 0
        for connection in list(self.open):
            phase = connection.phase
            if (phase == HEAD or phase == BODY) and now - connection.since > limit:
                slow += self._expire(connection)
            elif connection.paused_since and now - connection.paused_since > limit:
                slow += self._expire(connection)
            elif idle_round and phase == IDLE:
                if connection.active:
                    connection.active = False
                elif (transport := connection.transport) is not None:
                    self.idle_closed += not transport.is_closing()
                    _shut(transport)
        closed = self._slow_log.note(now, slow) if slow else 0
        if closed:
            log.warning("hook connections too slow: closed", request_timeout=limit, closed=closed)
        self._timer = asyncio.get_running_loop().call_later(self.tick, self._sweep)

    def _expire(self, connection: Watched) -> int:
        transport = connection.transport
        if transport is None:
            return 0
        if transport.is_closing():  # closed before, its peer still not reading: drop it
            transport.abort()
            return 0
        self.timed_out += 1
        _shut(transport, _TIMEOUT)
        return 1

    # -- progress of connections served by aiohttp ---------------------------------

    def served_by(self, protocol: object) -> Watched | None:
        """The connection a protocol of aiohttp's serves (``None`` once it is gone)."""
        return self.served.get(protocol)


def track_requests(guard: ConnectionGuard) -> Middleware:
    """The middleware that tells ``guard`` how requests served by aiohttp progress."""

    @web.middleware
    async def tracked(request: web.Request, handler: Handler) -> web.StreamResponse:
        connection = guard.served.get(request.protocol)
        if connection is None:
            return await handler(request)
        connection.request_began(request.body_exists)
        try:
            return await handler(request)
        finally:
            connection.request_ended(request.body_exists and not request.content.is_eof())

    return tracked
