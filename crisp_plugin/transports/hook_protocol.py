"""The hook endpoint's fast path: a small HTTP/1.1 protocol in front of aiohttp.

Crisp's hook deliveries are all alike: ``POST <path> HTTP/1.1`` with a
``Content-Length`` body of a few hundred bytes, on a kept-alive connection. For those,
aiohttp's request machinery (request and response objects, the router, a task per
request) costs more than the hook itself, so :class:`HookProtocol` answers them
directly from ``data_received``: it splits the head, hands the raw body to the web hook
server's checks (signature, JSON, dispatcher; the same code the aiohttp route runs)
and writes a pre-serialised answer. Nothing is awaited: the dispatcher's
``feed`` never blocks.

Anything else is handed to aiohttp, connection and buffered bytes included, which
then serves that connection to the end: other paths (``/healthz``, ``/metrics``), other
methods, a query string or an absolute-form target, HTTP/1.0, ``Transfer-Encoding``
(with or without ``Content-Length``), ``Expect``, a missing, repeated, signed, hex,
listed or over-the-limit ``Content-Length``, a repeated signature, timestamp, attempt
or ``Connection`` header, folded lines, bare CR or LF line ends, control bytes or a
name that is not a token, and a head larger than :data:`MAX_HEAD`. So every unusual
request gets aiohttp's own answer; the fast path never guesses at framing.

Connections idle for two sweeps of :data:`IDLE_SWEEP` seconds are closed, as aiohttp
closes idle keep-alive connections.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any, Protocol

import structlog

__all__ = [
    "IDLE_SWEEP",
    "MAX_HEAD",
    "HookProtocol",
    "HookTarget",
    "is_redelivery",
    "render_answer",
]

MAX_HEAD = 8190
IDLE_SWEEP = 45.0

_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 413: "Payload Too Large"}
_REASONS.update({500: "Internal Server Error", 503: "Service Unavailable"})

# (status, JSON body, extra headers)
Answer = tuple[int, bytes, tuple[tuple[str, str], ...]]

# A header line the fast path takes: a token name, a colon, then visible ASCII, spaces,
# tabs and obs-text bytes only. Anything else (obs-fold, bare CR or LF, NUL and other
# control bytes, a space before the colon) goes to aiohttp.
_HEADER_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*")

# Headers that must appear at most once for the fast path to take the request.
_SINGLE = frozenset(
    {
        b"content-length",
        b"x-crisp-signature",
        b"x-crisp-request-timestamp",
        b"x-delivery-attempt-count",
        b"connection",
    }
)

_INTERNAL_ERROR: Answer = (500, b'{"error":"internal","message":"hook handling failed"}', ())

log = structlog.get_logger("crisp_plugin.webhooks")

_date_second = -1
_date_value = b""


def _date() -> bytes:
    """The ``Date`` header value, formatted once per second."""
    global _date_second, _date_value
    now = int(time.time())
    if now != _date_second:
        _date_second = now
        _date_value = formatdate(now, usegmt=True).encode("ascii")
    return _date_value


def render_answer(answer: Answer, close: bool = False) -> tuple[bytes, bytes]:
    """The bytes of an answer, split around the ``Date`` value: ``(before, after)``."""
    status, body, headers = answer
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines.append("Content-Type: application/json")
    lines.append(f"Content-Length: {len(body)}")
    lines.extend(f"{name}: {value}" for name, value in headers)
    if close:
        lines.append("Connection: close")
    before = ("\r\n".join(lines) + "\r\nDate: ").encode("latin-1")
    return before, b"\r\n\r\n" + body


def is_redelivery(attempt: str | None) -> bool:
    """True when an ``X-Delivery-Attempt-Count`` value says this is not the first try."""
    if attempt is None:
        return False
    attempt = attempt.strip()
    return attempt.isascii() and attempt.isdigit() and int(attempt) > 1


class HookTarget(Protocol):
    """What the protocol needs from the web hook server."""

    def answer_hook(
        self,
        signature: str | None,
        timestamp: str,
        body: bytes,
        peer: str | None,
        redelivery: bool = False,
    ) -> Answer: ...


class HookProtocol(asyncio.Protocol):
    """One connection: fast path for plain hook POSTs, aiohttp for the rest."""

    __slots__ = (
        "_active",
        "_buffer",
        "_connections",
        "_fallback",
        "_limit",
        "_paused",
        "_peer",
        "_request_line",
        "_target",
        "_transport",
    )

    def __init__(
        self,
        target: HookTarget,
        request_line: bytes,
        body_limit: int,
        fallback: Callable[[], asyncio.Protocol],
        connections: set[HookProtocol],
    ) -> None:
        self._target = target
        self._request_line = request_line
        self._limit = body_limit
        self._fallback = fallback
        self._connections = connections
        self._transport: Any = None
        self._buffer = b""
        self._peer: str | None = None
        self._paused = False
        self._active = True

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._peer = str(peer[0]) if isinstance(peer, tuple) and peer else None
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        self._transport = None

    def pause_writing(self) -> None:
        self._paused = True  # the peer does not read its answers: stop reading it
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        if self._transport is not None:
            self._transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        self._active = True
        buf = self._buffer + data if self._buffer else data
        while buf:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                # A head over the limit, or lines ending in a bare LF (whose end the
                # search above never finds): aiohttp's parser answers those.
                if len(buf) > MAX_HEAD or buf.count(b"\n") != buf.count(b"\r\n"):
                    self._hand_over(buf)
                    return
                break
            body_start = end + 4
            head = self._head(buf, end)
            if head is None:
                self._hand_over(buf)
                return
            length, close, signature, timestamp, redelivery = head
            stop = body_start + length
            if len(buf) < stop:
                break  # the body is still coming
            body = buf[body_start:stop]
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
            before, after = _rendered(answer, close)
            transport.write(before + _date() + after)
            if close:
                self._buffer = b""
                transport.close()
                return
            buf = buf[stop:]
        self._buffer = buf

    # -- the fast path -------------------------------------------------------------

    def _head(self, buf: bytes, end: int) -> tuple[int, bool, str | None, str, bool] | None:
        """``(content length, close, signature, timestamp, redelivery)`` of a plain hook
        POST, ``None`` for anything else."""
        first = buf.find(b"\r\n", 0, end)
        if first < 0 or buf[:first] != self._request_line:
            return None
        length = -1
        close = False
        signature: str | None = None
        timestamp = ""
        redelivery = False
        seen: set[bytes] = set()
        for line in buf[first + 2 : end].split(b"\r\n"):
            if _HEADER_LINE.fullmatch(line) is None:
                return None  # folded, bare CR/LF, control bytes, a name not a token
            name, _, value = line.partition(b":")
            lower = name.lower()
            if lower in _SINGLE:
                if lower in seen:
                    return None  # twice: aiohttp's parser decides which one counts
                seen.add(lower)
            if lower == b"x-crisp-signature":
                signature = value.strip().decode("latin-1")
            elif lower == b"x-crisp-request-timestamp":
                timestamp = value.strip().decode("latin-1")
            elif lower == b"x-delivery-attempt-count":
                redelivery = is_redelivery(value.decode("latin-1"))
            elif lower == b"content-length":
                value = value.strip(b" \t")
                if not value.isdigit() or len(value) > 12:
                    return None  # sign, hex, a list, huge: aiohttp refuses or decides
                length = int(value)
            elif lower == b"transfer-encoding" or lower == b"expect":
                return None
            elif lower == b"connection":
                token = value.strip().lower()
                if token == b"close":
                    close = True
                elif token != b"keep-alive":
                    return None  # upgrade and the like: aiohttp's business
        if length < 0 or length > self._limit:
            return None  # aiohttp answers 411 / 413
        return length, close, signature, timestamp, redelivery

    # -- everything else -----------------------------------------------------------

    def _hand_over(self, buffered: bytes) -> None:
        """Give the connection, with what was read of it, to aiohttp's handler."""
        transport = self._transport
        self._buffer = b""
        self._connections.discard(self)
        if transport is None or transport.is_closing():
            return
        protocol = self._fallback()
        transport.set_protocol(protocol)
        self._transport = None
        protocol.connection_made(transport)
        if self._paused:
            transport.resume_reading()
        protocol.data_received(buffered)

    def close_if_idle(self) -> None:
        """Close the connection when nothing arrived since the last call."""
        if self._active:
            self._active = False
        elif self._transport is not None:
            self._transport.close()

    def close(self) -> None:
        """Close the connection now (server shutdown)."""
        if self._transport is not None:
            self._transport.close()


_rendered_cache: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}


def _rendered(answer: Answer, close: bool) -> tuple[bytes, bytes]:
    key = (*answer, close)
    found = _rendered_cache.get(key)
    if found is None:
        found = render_answer(answer, close)
        if len(_rendered_cache) < 256:  # answers are few: a handful of statuses/messages
            _rendered_cache[key] = found
    return found
