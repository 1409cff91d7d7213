"""A lean HTTP/1.1 client for the Crisp REST API: a pool of kept-alive connections.

The REST client sends small JSON requests to one host, many of them. aiohttp's client
request cycle (request and response objects, header multidicts, its connector and
payload machinery) cost about 48 us of CPU per call, three fifths of a send; this pool
writes each request as one pre-rendered buffer and frames the answer itself, about a
fifth of that.

What it does: ``http`` and ``https`` (TLS with the default context: certificates and
host names checked, SNI), at most ``limit`` connections, one request at a time on each,
idle ones closed after ``keepalive`` seconds (or when the server closes them); answers
framed by ``Content-Length``, ``Transfer-Encoding: chunked`` or the end of the
connection; ``gzip`` and ``deflate`` bodies decoded (it asks for them, as aiohttp did).
What it does not: proxies, redirects, cookies, HTTP/2, pipelining.

Errors say what RestCore must know: whether the request can have reached the server.

- :class:`ConnectFailed` / :class:`ConnectTimeout` / :class:`TlsFailed` /
  :class:`PoolClosed`: no connection was made (or the client was closed first),
  nothing was sent.
- :class:`ConnectionLost`, :class:`BadAnswer`, ``TimeoutError``: the request was
  written; the server may have acted on it.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import deque
from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = [
    "Answer",
    "BadAnswer",
    "ConnectFailed",
    "ConnectTimeout",
    "ConnectionLost",
    "Http11Pool",
    "HttpError",
    "PoolClosed",
    "TlsFailed",
]

MAX_HEAD = 65_536  # the most bytes of status line and headers taken from a server
MAX_BODY = 64 * 1_048_576  # the largest answer body taken


class Answer(NamedTuple):
    """One HTTP answer: status, headers (names lower-cased; a repeated one: the last),
    and the body (decoded when it came compressed)."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-cased, without parameters ("" if none)."""
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()


class HttpError(Exception):
    """A request failed without an HTTP answer."""


class ConnectFailed(HttpError):
    """No connection could be made (``os_error`` says why): nothing was sent."""

    def __init__(self, message: str, os_error: OSError) -> None:
        super().__init__(message)
        self.os_error = os_error


class ConnectTimeout(HttpError):
    """The connection was not made within the time allowed: nothing was sent."""


class TlsFailed(HttpError):
    """The TLS handshake failed (a certificate, a protocol): nothing was sent."""


class PoolClosed(HttpError):
    """The client was closed before this request was written: nothing was sent."""


class ConnectionLost(HttpError):
    """The connection ended before the whole answer came: the request was written."""


class BadAnswer(HttpError):
    """The server's bytes are not an HTTP/1.x answer this client can frame."""


_HEAD, _LENGTH, _CHUNKS, _UNTIL_CLOSE, _DONE = range(5)
_HEX_DIGITS = b"0123456789abcdefABCDEF"


class _Connection(asyncio.Protocol):
    """One connection; reads and frames the answer to the request in flight."""

    __slots__ = (
        "_answer",
        "_body",
        "_buf",
        "_head_only",
        "_headers",
        "_need",
        "_stage",
        "_status",
        "idle_since",
        "lost",
        "reusable",
        "transport",
    )

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.reusable = True
        self.idle_since = 0.0
        self._answer: asyncio.Future[Answer] | None = None
        self._buf = bytearray()
        self._stage = _DONE
        self._head_only = False
        self._status = 0
        self._headers: dict[str, str] = {}
        self._need = 0
        self._body = bytearray()  # a chunked answer's body, as its chunks come

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.reusable = False  # bytes nobody asked for: the framing is lost
            self.close()
            return
        self._buf += data
        try:
            self._advance()
        except BadAnswer as exc:
            self.reusable = False
            self._fail(exc)
            self.close()

    def eof_received(self) -> bool | None:
        if self._stage == _UNTIL_CLOSE:
            self._finish(bytes(self._buf))
        return None  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.reusable = False
        if self._stage == _UNTIL_CLOSE and exc is None:  # a clean close ends the body
            self._finish(bytes(self._buf))
        else:
            reason = f": {exc}" if exc is not None else ""
            self._fail(ConnectionLost(f"the connection closed before the whole answer{reason}"))

    # -- one exchange ---------------------------------------------------------------------

    def send(self, request: bytes, answer: asyncio.Future[Answer], head_only: bool) -> None:
        """Write ``request``; ``answer`` gets the framed answer (or the failure)."""
        if self.lost or self.transport is None:
            raise ConnectionLost("the connection closed before the request was written")
        self._answer = answer
        self._buf.clear()
        self._stage = _HEAD
        self._head_only = head_only
        self.transport.write(request)

    def expire(self) -> None:
        """The time allowed ran out: fail the exchange, drop the connection."""
        self.reusable = False
        self._fail(TimeoutError("no whole answer in time"))
        self.close()

    def close(self) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.close()

    def _fail(self, exc: Exception) -> None:
        answer = self._answer
        self._stage = _DONE
        if answer is not None and not answer.done():
            answer.set_exception(exc)

    def _finish(self, body: bytes) -> None:
        self._stage = _DONE
        answer = self._answer
        if answer is None or answer.done():
            return
        try:
            body = _decoded(body, self._headers.get("content-encoding", ""))
        except BadAnswer as exc:
            self.reusable = False
            answer.set_exception(exc)
            return
        answer.set_result(Answer(self._status, self._headers, body))

    def _advance(self) -> None:
        buf = self._buf
        while True:
            stage = self._stage
            if stage == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        raise BadAnswer("an answer head larger than 64 KiB")
                    return
                self._read_head(bytes(buf[:end]))
                del buf[: end + 4]
            elif stage == _LENGTH:
                need = self._need
                if len(buf) < need:
                    return
                if len(buf) > need:
                    self.reusable = False  # more than the answer: not ours to read
                self._finish(bytes(buf[:need]))
                return
            elif stage == _CHUNKS:
                if not self._read_chunks():
                    return
            elif stage == _UNTIL_CLOSE:
                if len(buf) > MAX_BODY:
                    raise BadAnswer("an answer body larger than 64 MiB")
                return
            else:
                return

    def _read_head(self, head: bytes) -> None:
        status_line, _, rest = head.partition(b"\r\n")
        parts = status_line.split(b" ", 2)
        version = parts[0]
        if len(parts) < 2 or not version.startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise BadAnswer(f"not an HTTP/1.x status line: {status_line[:60]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in rest.split(b"\r\n") if rest else ():
            name, colon, value = line.partition(b":")
            if not colon:
                raise BadAnswer(f"a header line without a colon: {line[:60]!r}")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        if 100 <= status < 200:
            return  # an interim answer (100 Continue): the real one follows
        self._status = status
        self._headers = headers
        connection = headers.get("connection", "").lower()
        if connection == "close" or (version == b"HTTP/1.0" and connection != "keep-alive"):
            self.reusable = False
        if self._head_only or status in (204, 304):
            self._finish(b"")
            self._stage = _DONE
            return
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._stage = _CHUNKS
            self._need = -1  # the next chunk's size is still to be read
            self._body = bytearray()
            return
        length = headers.get("content-length")
        if length is None:
            self.reusable = False
            self._stage = _UNTIL_CLOSE
            return
        if not length.isdigit() or int(length) > MAX_BODY:
            raise BadAnswer(f"a Content-Length this client does not take: {length[:30]!r}")
        self._need = int(length)
        self._stage = _LENGTH
        if self._need == 0:
            self._finish(b"")

    def _read_chunks(self) -> bool:
        """Take the chunks read so far; True when the last one came (answer finished)."""
        buf = self._buf
        body: bytearray = self._body
        while True:
            if self._need == -1:  # a size line
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > 1024:
                        raise BadAnswer("a chunk size line longer than 1 KiB")
                    return False
                size_text = bytes(buf[:end]).partition(b";")[0].strip(b" \t")
                if not size_text or size_text.strip(_HEX_DIGITS) or len(size_text) > 16:
                    raise BadAnswer(f"a chunk size that is not hex: {size_text[:20]!r}")
                size = int(size_text, 16)
                del buf[: end + 2]
                if size == 0:
                    self._need = -2  # the trailers, up to an empty line
                else:
                    if len(body) + size > MAX_BODY:
                        raise BadAnswer("an answer body larger than 64 MiB")
                    self._need = size
            elif self._need == -2:
                if buf[:2] == b"\r\n":
                    end = 0
                else:
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        return False
                    end += 2
                if len(buf) > end + 2:
                    self.reusable = False
                self._finish(bytes(body))
                return True
            else:
                need = self._need
                if len(buf) < need + 2:
                    return False
                if buf[need : need + 2] != b"\r\n":
                    raise BadAnswer("a chunk not followed by CRLF")
                body += buf[:need]
                del buf[: need + 2]
                self._need = -1


def _decoded(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if not encoding or encoding == "identity" or not body:
        return body
    if encoding in ("gzip", "x-gzip"):
        return _inflate(body, 16 + zlib.MAX_WBITS, encoding)
    if encoding == "deflate":
        try:
            return _inflate(body, zlib.MAX_WBITS, encoding)
        except BadAnswer:
            return _inflate(body, -zlib.MAX_WBITS, encoding)  # raw deflate, as some send
    raise BadAnswer(f"an answer in an encoding this client does not decode: {encoding!r}")


def _inflate(body: bytes, wbits: int, encoding: str) -> bytes:
    """``body`` decompressed, at most :data:`MAX_BODY` bytes of it."""
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, MAX_BODY + 1)
    except zlib.error as exc:
        raise BadAnswer(f"a {encoding} body that does not decode: {exc}") from None
    if len(out) > MAX_BODY or inflater.unconsumed_tail:
        raise BadAnswer("an answer body larger than 64 MiB once decoded")
    return out


class Http11Pool:
    """Kept-alive connections to the one host of ``base_url`` (see the module docstring).

    ``headers`` are sent with every request (name -> value); ``Host``,
    ``Content-Length`` and ``Accept-Encoding`` are the pool's.
    """

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        limit: int = 100,
        keepalive: float = 30.0,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        self._prefix = parts.path.rstrip("/")
        default = 443 if self._tls else 80
        host = f"[{self._host}]" if ":" in self._host else self._host
        authority = host if self._port == default else f"{host}:{self._port}"
        lines = [f"Host: {authority}", "Accept-Encoding: gzip, deflate"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._fixed = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        self._limit = max(1, limit)
        self._keepalive = keepalive
        self._ssl: ssl.SSLContext | None = None
        self._idle: list[_Connection] = []
        self._count = 0  # connections open or opening
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop its connections are on

    def __repr__(self) -> str:
        return f"<Http11Pool {self._host}:{self._port} open={self._count}>"

    @property
    def closed(self) -> bool:
        return self._closed

    async def request(
        self,
        method: str,
        target: str,
        body: bytes | None,
        timeout: float,  # noqa: ASYNC109 (the whole exchange's budget, as aiohttp's total)
        *,
        content_type: str | None = None,
    ) -> Answer:
        """One exchange: ``target`` is the encoded path (and query) under the base URL."""
        if self._closed:
            raise PoolClosed("the client is closed")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adopt(loop)
        deadline = loop.time() + timeout
        head = [f"{method} {self._prefix}{target} HTTP/1.1\r\n".encode("latin-1"), self._fixed]
        if content_type is not None:
            head.append(f"Content-Type: {content_type}\r\n".encode("latin-1"))
        if body is not None:
            head.append(b"Content-Length: %d\r\n\r\n" % len(body))
            head.append(body)
        elif method in ("POST", "PUT", "PATCH"):
            head.append(b"Content-Length: 0\r\n\r\n")
        else:
            head.append(b"\r\n")
        conn = self._take_idle(loop.time())
        if conn is None:
            conn = await self._connect(loop, deadline)
        answer: asyncio.Future[Answer] = loop.create_future()
        timer: asyncio.TimerHandle | None = None
        try:
            conn.send(b"".join(head), answer, method == "HEAD")
            timer = loop.call_at(deadline, conn.expire)
            result = await answer
        except BaseException:
            conn.reusable = False
            conn.close()
            self._release(conn)
            raise
        finally:
            if timer is not None:
                timer.cancel()
        self._release(conn)
        return result

    async def close(self) -> None:
        """Close every idle connection; ones in use close when their exchange ends."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
            self._count -= 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    # -- connections -------------------------------------------------------------------------

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Used from a new event loop (a second ``asyncio.run``): the connections and
        waiters of the old one cannot serve it, so they are forgotten."""
        for conn in self._idle:
            try:
                conn.close()
            except RuntimeError:
                pass  # its loop is closed: the socket went with it
        self._idle = []
        self._waiters.clear()
        self._count = 0
        self._loop = loop

    def _take_idle(self, now: float) -> _Connection | None:
        idle = self._idle
        while idle:
            conn = idle.pop()  # the most recent: the least likely to be timed out
            transport = conn.transport
            if (
                conn.lost
                or transport is None
                or transport.is_closing()
                or now - conn.idle_since > self._keepalive
            ):
                conn.close()
                self._count -= 1
                continue
            return conn
        return None

    async def _connect(self, loop: asyncio.AbstractEventLoop, deadline: float) -> _Connection:
        while self._count >= self._limit:
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            except BaseException as exc:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken as it gave up: the turn goes to the next one
                else:
                    waiter.cancel()
                if isinstance(exc, TimeoutError):
                    raise ConnectTimeout("no connection of the pool came free in time") from None
                raise
            if self._closed:
                raise PoolClosed("the client is closed")
            conn = self._take_idle(loop.time())
            if conn is not None:
                return conn
        self._count += 1
        try:
            async with asyncio.timeout_at(deadline):
                _, conn = await loop.create_connection(
                    _Connection,
                    self._host,
                    self._port,
                    ssl=self._context() if self._tls else None,
                    server_hostname=self._host if self._tls else None,
                )
        except TimeoutError:
            self._gone()
            where = f"{self._host}:{self._port}"
            raise ConnectTimeout(f"could not connect to {where} in time") from None
        except ssl.SSLError as exc:
            self._gone()
            raise TlsFailed(f"TLS with {self._host}:{self._port} failed: {exc}") from exc
        except OSError as exc:
            self._gone()
            raise ConnectFailed(f"cannot connect to {self._host}:{self._port}", exc) from exc
        except BaseException:
            self._gone()
            raise
        return conn

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    def _gone(self) -> None:
        """A connection closed or never made: its room goes to a waiter."""
        self._count -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _release(self, conn: _Connection) -> None:
        if conn.reusable and not conn.lost and not self._closed:
            now = asyncio.get_running_loop().time()
            conn.idle_since = now
            idle = self._idle
            if idle and now - idle[0].idle_since > self._keepalive:
                idle.pop(0).close()  # the longest idle, past the keep-alive: closed
                self._count -= 1
            idle.append(conn)
            self._wake()
        else:
            conn.close()
            self._gone()
