"""The hook endpoint's fast path: a small HTTP/1.1 protocol in front of aiohttp.

Crisp's hook deliveries are all alike: ``POST <path> HTTP/1.1`` with a
``Content-Length`` body of a few hundred bytes, on a kept-alive connection. For those,
aiohttp's request machinery (request and response objects, the router, a task per
request) costs more than the hook itself, so :class:`HookProtocol` answers them
directly from ``data_received``: it splits the head, hands the raw body to the web hook
server's checks (signature, JSON, dispatcher; the same code the aiohttp route runs)
and writes a pre-serialised answer. Nothing is awaited: the dispatcher's
``feed`` never blocks.

Anything else is handed to aiohttp, buffered bytes included, which then serves that
connection to the end (this protocol stays in front of it, passing the bytes on, so
the deadlines of :mod:`~crisp_plugin.transports.hook_guard` cover it too): other
paths (``/healthz``, ``/metrics``), other methods, a query string or an absolute-form
target, HTTP/1.0, ``Transfer-Encoding`` (with or without ``Content-Length``),
``Expect``, a missing, repeated, signed, hex, listed or over-the-limit
``Content-Length``, a repeated signature, timestamp, attempt or ``Connection``
header, folded lines, bare CR or LF line ends, control bytes or a name that is not a
token, a head larger than :data:`MAX_HEAD` (whether it came whole or in pieces) or
with more header lines than ``hook_wire.FAST_MAX_HEADERS``. So every unusual request
gets aiohttp's own answer, under aiohttp's own head limits (a 400 past them); the
fast path never guesses at framing.

Connections idle for two sweeps of :data:`IDLE_SWEEP` seconds are closed, as aiohttp
closes idle keep-alive connections; a head or body that takes longer than the server's
``request_timeout``, and connections past ``max_connections``, are closed by the
:class:`~crisp_plugin.transports.hook_guard.ConnectionGuard`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol, cast

import structlog

from crisp_plugin.transports.hook_guard import BODY, BUSY, HEAD, IDLE, ConnectionGuard, clock
from crisp_plugin.transports.hook_wire import (
    MAX_HEAD,
    Answer,
    Head,
    HeadReader,
    answer_bytes,
    is_redelivery,
)

__all__ = [
    "IDLE_SWEEP",
    "MAX_HEAD",
    "Answer",
    "HookProtocol",
    "HookTarget",
    "is_redelivery",
]

IDLE_SWEEP = 45.0

_INTERNAL_ERROR: Answer = (500, b'{"error":"internal","message":"hook handling failed"}', ())

log = structlog.get_logger("crisp_plugin.webhooks")


class HookTarget(Protocol):
    """What the protocol needs from the web hook server."""

    def answer_hook(
        self,
        signature: str | None,
        timestamp: str,
        body: bytes,
        peer: str | None,
        redelivery: bool = False,
    ) -> Answer | asyncio.Future[Answer]: ...


class HookProtocol(asyncio.Protocol):
    """One connection: fast path for plain hook POSTs, aiohttp for the rest.

    With ``fast=False`` every connection goes to aiohttp at once, still watched.
    """

    __slots__ = (
        "_body_start",
        "_buf",
        "_early",
        "_fallback",
        "_fast",
        "_guard",
        "_head",
        "_inner",
        "_paused",
        "_peer",
        "_reader",
        "_scanned",
        "_target",
        "_transport",
        "_waiting",
        "active",
        "paused_since",
        "phase",
        "since",
    )

    def __init__(
        self,
        target: HookTarget,
        reader: HeadReader,
        fallback: Callable[[], asyncio.Protocol],
        guard: ConnectionGuard,
        fast: bool = True,
    ) -> None:
        self._target = target
        self._reader = reader  # the endpoint's: its request line, body limit, template
        self._fallback = fallback
        self._guard = guard
        self._fast = fast
        self._transport: asyncio.Transport | None = None
        self._inner: asyncio.Protocol | None = None  # aiohttp's, once handed over
        # The bytes of a request that spans reads (and any pipelined after it):
        # appended to, never re-joined; the consumed front is cut once per read.
        self._buf = bytearray()
        self._scanned = 0  # bytes of the head already searched for its end
        self._head: Head | None = None  # the head, once read whole: read only once
        self._body_start = 0
        self._peer: str | None = None
        self._paused = False
        self._early = 0.0  # when bytes of the next request came while BUSY (aiohttp)
        # Answers not written yet, in request order: an answer that waits (a durable
        # inbox storing its event) holds back those of later pipelined requests.
        self._waiting: deque[tuple[Answer | asyncio.Future[Answer], bool]] = deque()
        self.active = True
        self.phase = HEAD  # a new connection owes its first head
        self.since = clock()
        self.paused_since = 0.0

    @property
    def transport(self) -> asyncio.Transport | None:
        """The connection's transport, ``None`` once it is lost (or was refused)."""
        return self._transport

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream server's transport is a read-write one; uvloop's does not subclass
        # asyncio.Transport (an isinstance check refused every connection on it).
        stream = cast(asyncio.Transport, transport)
        if not self._guard.admit(self, stream):
            return  # over the cap: answered 503 and closed; nothing of it is read
        self._transport = stream
        peer = stream.get_extra_info("peername")
        self._peer = str(peer[0]) if isinstance(peer, tuple) and peer else None
        self.since = clock()
        if not self._fast:
            self._hand_over(b"", 0)

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.discard(self)
        self._transport = None
        inner, self._inner = self._inner, None
        if inner is not None:
            self._guard.served.pop(inner, None)
            inner.connection_lost(exc)

    def eof_received(self) -> bool | None:
        if self._inner is not None:
            return self._inner.eof_received()
        return None

    def pause_writing(self) -> None:
        self._paused = True
        self.paused_since = clock()
        if self._inner is not None:
            self._inner.pause_writing()
        elif self._transport is not None:
            self._transport.pause_reading()  # the peer does not read its answers

    def resume_writing(self) -> None:
        self._paused = False
        self.paused_since = 0.0
        if self._inner is not None:
            self._inner.resume_writing()
        elif self._transport is not None:
            self._transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        self.active = True
        if self._inner is not None:
            self._pass_on(data)
            return
        if self._transport is None:
            return
        if self.phase == IDLE:
            self.phase = HEAD
            self.since = clock()
        # Nothing pending (the common case: whole requests per read): work on the
        # bytes as read. Else append them to what is pending and work on that.
        pending = self._buf
        buf: bytes | bytearray = data
        if pending:
            pending += data
            buf = pending
        pos = 0  # where the current request starts in buf
        while pos < len(buf):  # (a head read whole means bytes past pos)
            head = self._head
            if head is None:
                # Search only bytes not searched before (three back: the end may
                # straddle two reads).
                resume = self._scanned - 3
                end = buf.find(b"\r\n\r\n", resume if resume > pos else pos)
                if end < 0:
                    size = len(buf)
                    if size - pos > MAX_HEAD or _bare_lf(buf, pos, self._scanned, size):
                        # A head over the limit, or lines ending in a bare LF (whose end
                        # the search never finds): aiohttp's parser answers those.
                        self._hand_over(buf, pos)
                        return
                    self._scanned = size
                    break
                if end - pos > MAX_HEAD:
                    head = None  # a big head, even whole: aiohttp's limits apply to it
                else:
                    text = bytes(buf[pos:end]) if buf is pending else data[pos:end]
                    head = self._reader.read(text)
                if head is None:
                    self._hand_over(buf, pos)
                    return
                self._head = head
                self._body_start = end + 4
            length, close, signature, timestamp, redelivery = head
            stop = self._body_start + length
            if len(buf) < stop:
                if self.phase != BODY:  # the body is still coming: its deadline starts
                    self.phase = BODY
                    self.since = clock()
                break
            start = self._body_start
            body = bytes(buf[start:stop]) if buf is pending else data[start:stop]
            self._head = None
            pos = self._scanned = stop
            try:
                answer = self._target.answer_hook(
                    signature, timestamp, body, self._peer, redelivery
                )
            except Exception:  # a bug must still get an answer, as aiohttp would give
                log.exception("hook handling failed")
                answer = _INTERNAL_ERROR
            transport = self._transport
            if transport is None:
                return
            if isinstance(answer, tuple) and not self._waiting:
                transport.write(answer_bytes(answer, close))
            else:
                self._waiting.append((answer, close))
                if not isinstance(answer, tuple):
                    answer.add_done_callback(self._answered)
                self._write_ready()
            if close:
                pending.clear()
                if not self._waiting:
                    transport.close()
                return
            if pos == len(buf):
                self.phase = IDLE
            else:  # the next request has begun
                self.phase = HEAD
                self.since = clock()
        if buf is pending:
            if pos:
                del pending[:pos]
        elif pos < len(data):
            pending += memoryview(data)[pos:]  # the start of a request: kept for the next read
        if pos:
            self._scanned -= pos
            self._body_start -= pos

    def _answered(self, _: asyncio.Future[Answer]) -> None:
        self._write_ready()

    def _write_ready(self) -> None:
        """Write the waiting answers that are ready, in order (pipelined requests get
        theirs in the order they came); close when the last asked for it."""
        transport = self._transport
        waiting = self._waiting
        while waiting:
            answer, close = waiting[0]
            if not isinstance(answer, tuple):
                if not answer.done():
                    return
                answer = answer.result() if answer.exception() is None else _INTERNAL_ERROR
            waiting.popleft()
            if transport is None or transport.is_closing():
                continue
            transport.write(answer_bytes(answer, close))
            if close:
                transport.close()
                waiting.clear()
                return

    # -- connections served by aiohttp ---------------------------------------------

    def _hand_over(self, buf: bytes | bytearray, pos: int) -> None:
        """Give the connection, with what was read of it (``buf`` from ``pos``), to
        aiohttp. The phase and its start stay: the head's deadline runs from its first
        byte."""
        transport = self._transport
        buffered = bytes(buf[pos:])
        self._buf = bytearray()
        self._head = None
        if transport is None or transport.is_closing():
            return
        inner = self._fallback()
        self._inner = inner
        self._guard.served[inner] = self
        inner.connection_made(transport)
        if self._paused:  # aiohttp waits for the drain itself, and reads meanwhile
            inner.pause_writing()
            transport.resume_reading()
        if buffered:
            inner.data_received(buffered)

    def _pass_on(self, data: bytes) -> None:
        phase = self.phase
        if phase == IDLE:
            self.phase = HEAD
            self.since = clock()
        elif phase == BUSY and not self._early:
            self._early = clock()
        assert self._inner is not None
        self._inner.data_received(data)

    def request_began(self, with_body: bool) -> None:
        """aiohttp read a request's head and calls its handler."""
        self.phase = BODY if with_body else BUSY
        self.since = clock()
        self._early = 0.0

    def body_read(self) -> None:
        """The hook route read the request's body."""
        if self.phase == BODY:
            self.phase = BUSY

    def request_ended(self, body_pending: bool = False) -> None:
        """The handler returned: the request is answered. ``body_pending``: the body
        is still coming (aiohttp reads the rest and drops it): it stays under the
        deadline."""
        if body_pending:
            self.phase = BODY
            self.since = clock()
        elif self._early:  # the next request began while this one was answered
            self.phase = HEAD
            self.since = self._early
        else:
            self.phase = IDLE
        self._early = 0.0


def _bare_lf(buf: bytes | bytearray, start: int, scanned: int, size: int) -> bool:
    """True when a LF not preceded by CR arrived in ``buf[scanned:size]`` (the head of
    the request starting at ``start``): only the new bytes are looked at."""
    new = max(start, scanned)
    return buf.count(b"\n", new, size) != buf.count(b"\r\n", max(start, new - 1), size)
