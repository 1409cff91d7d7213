"""The lean HTTP/1.1 client against a scripted server on a loopback socket.

Every way a server can frame an answer (length, chunks, the end of the connection,
no body), compressed bodies, kept-alive and closed connections, the pool's limit, the
timeouts and failures that say whether the request was sent, and TLS.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import struct
import subprocess
import threading
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crisp_plugin.rest.http11 import (
    BadAnswer,
    ConnectFailed,
    ConnectionLost,
    ConnectTimeout,
    Http11Pool,
    PoolClosed,
    TlsFailed,
)
from tests.waiting import until

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A loopback server running ``script`` on each connection; it records what came."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self, tls: ssl.SSLContext | None = None) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes | None:
        """One request, head and body (by its Content-Length); None at the end."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length) if length else b""
        self.requests.append(head + body)
        return head + body

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Script], Awaitable[Server]]]:
    servers: list[Server] = []

    async def start(script: Script) -> Server:
        server = Server(script)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


def pool_for(server: Server, limit: int = 100) -> Http11Pool:
    url = f"http://127.0.0.1:{server.port}"
    return Http11Pool(url, {"Authorization": "Basic abc"}, limit=limit)


def answering(*answers: bytes) -> Callable[[Server], Script]:
    """A script that reads a request and writes the next answer, for each answer."""

    def make(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for answer in answers:
                if await server.read_request(reader) is None:
                    return
                writer.write(answer)
                await writer.drain()
            await reader.read()  # then wait for the client to close

        return script

    return make


async def scripted(
    serve: Callable[[Script], Awaitable[Server]], make: Callable[[Server], Script]
) -> Server:
    holder: list[Server] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await make(holder[0])(reader, writer)

    server = await serve(script)
    holder.append(server)
    return server


OK = b'{"error":false,"reason":"ok","data":{}}'


def with_length(body: bytes, *extra: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def test_a_request_carries_its_head_and_body_and_the_connection_is_kept(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    server = await scripted(serve, answering(with_length(OK), with_length(OK)))
    pool = pool_for(server)
    json_type = "application/json"
    first = await pool.request("POST", "/v1/x?a=1", b'{"k":1}', 5.0, content_type=json_type)
    second = await pool.request("GET", "/v1/y", None, 5.0)
    await pool.close()
    assert first.status == 200 and first.body == OK and second.body == OK
    assert server.connections == 1  # kept alive
    request = server.requests[0]
    assert request.startswith(b"POST /v1/x?a=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n".encode() in request
    assert b"Authorization: Basic abc\r\n" in request
    assert b"Content-Type: application/json\r\nContent-Length: 7\r\n\r\n" in request
    assert request.endswith(b'{"k":1}')
    assert b"Content-Length" not in server.requests[1]  # a GET without a body


async def test_every_framing_of_an_answer(serve: Callable[[Script], Awaitable[Server]]) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    no_content = b"HTTP/1.1 204 No Content\r\n\r\n"
    interim = b"HTTP/1.1 100 Continue\r\n\r\n" + with_length(b"after")
    server = await scripted(serve, answering(chunked, no_content, interim, with_length(b"")))
    pool = pool_for(server)
    assert (await pool.request("GET", "/a", None, 5.0)).body == b"hello, world"
    assert (await pool.request("DELETE", "/b", None, 5.0)).status == 204
    assert (await pool.request("GET", "/c", None, 5.0)).body == b"after"
    assert (await pool.request("GET", "/d", None, 5.0)).body == b""
    await pool.close()
    assert server.connections == 1


async def test_an_answer_to_head_has_no_body_whatever_its_length_says(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
    server = await scripted(serve, answering(head, with_length(OK)))
    pool = pool_for(server)
    assert (await pool.request("HEAD", "/h", None, 5.0)).body == b""
    assert (await pool.request("GET", "/g", None, 5.0)).body == OK  # the framing held
    await pool.close()


async def test_an_answer_until_the_end_of_the_connection_and_connection_close(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    def make(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            request = await server.read_request(reader)
            if request is not None and request.startswith(b"GET /eof"):
                writer.write(b"HTTP/1.1 200 OK\r\n\r\nall of it")
            else:
                writer.write(with_length(OK, "Connection: close"))
            await writer.drain()

        return script

    server = await scripted(serve, make)
    pool = pool_for(server)
    assert (await pool.request("GET", "/eof", None, 5.0)).body == b"all of it"
    assert (await pool.request("GET", "/close", None, 5.0)).body == OK
    assert (await pool.request("GET", "/again", None, 5.0)).body == OK
    await pool.close()
    assert server.connections == 3  # none of those connections could be reused


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
async def test_compressed_bodies_are_decoded(
    serve: Callable[[Script], Awaitable[Server]], encoding: str
) -> None:
    if encoding == "gzip":
        body = gzip.compress(OK)
    elif encoding == "deflate":
        body = zlib.compress(OK)
    else:
        squeeze = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = squeeze.compress(OK) + squeeze.flush()
    name = "deflate" if encoding == "raw-deflate" else encoding
    server = await scripted(serve, answering(with_length(body, f"Content-Encoding: {name}")))
    pool = pool_for(server)
    assert (await pool.request("GET", "/z", None, 5.0)).body == OK
    await pool.close()
    assert b"Accept-Encoding: gzip, deflate\r\n" in server.requests[0]


async def test_headers_and_content_type_of_an_error_answer(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    answer = with_length(b"<html>", "Content-Type: Text/HTML; charset=utf-8", "Retry-After: 3")
    server = await scripted(serve, answering(answer.replace(b"200 OK", b"503 Unavailable")))
    pool = pool_for(server)
    got = await pool.request("GET", "/e", None, 5.0)
    await pool.close()
    assert got.status == 503 and got.content_type == "text/html"
    assert got.headers["retry-after"] == "3"


async def test_a_kept_connection_the_server_closed_is_not_reused(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    def make(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if await server.read_request(reader) is not None:
                writer.write(with_length(OK))  # kept alive, then closed while idle
                await writer.drain()

        return script

    server = await scripted(serve, make)
    pool = pool_for(server)
    assert (await pool.request("GET", "/1", None, 5.0)).body == OK
    await until(lambda: bool(pool._idle) and pool._idle[0].lost)  # the client saw the close
    assert (await pool.request("GET", "/2", None, 5.0)).body == OK
    await pool.close()
    assert server.connections == 2


async def test_a_connection_lost_mid_answer_says_the_request_went_out(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    def make(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part")
            await writer.drain()

        return script

    server = await scripted(serve, make)
    pool = pool_for(server)
    with pytest.raises(ConnectionLost):
        await pool.request("POST", "/p", b"{}", 5.0)
    assert len(server.requests) == 1
    await pool.close()


async def test_garbage_is_a_bad_answer(serve: Callable[[Script], Awaitable[Server]]) -> None:
    server = await scripted(serve, answering(b"SMTP ready\r\n\r\n"))
    pool = pool_for(server)
    with pytest.raises(BadAnswer, match="status line"):
        await pool.request("GET", "/", None, 5.0)
    await pool.close()


async def test_no_answer_in_time_is_a_timeout_and_the_connection_is_dropped(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    def make(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            await reader.read()  # never answers

        return script

    server = await scripted(serve, make)
    pool = pool_for(server)
    with pytest.raises(TimeoutError):
        await pool.request("GET", "/slow", None, 0.2)
    assert pool._count == 0 and not pool._idle
    await pool.close()


async def test_nothing_listening_is_a_connect_failure() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    pool = Http11Pool(f"http://127.0.0.1:{port}", {})
    with pytest.raises(ConnectFailed) as caught:
        await pool.request("POST", "/x", b"{}", 5.0)
    assert isinstance(caught.value.os_error, OSError)
    assert pool._count == 0


async def test_the_pool_limit_holds_and_waiters_get_a_connection(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    busy = 0
    peak = 0

    def make(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal busy, peak
            while await server.read_request(reader) is not None:
                busy += 1
                peak = max(peak, busy)
                await asyncio.sleep(0.01)
                busy -= 1
                writer.write(with_length(OK))
                await writer.drain()

        return script

    server = await scripted(serve, make)
    pool = pool_for(server, limit=3)
    answers = await asyncio.gather(*(pool.request("GET", f"/{i}", None, 5.0) for i in range(30)))
    await pool.close()
    assert all(a.body == OK for a in answers)
    assert server.connections == 3 and peak == 3


async def test_waiting_for_a_full_pool_past_the_deadline_is_a_connect_timeout(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    def make(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            await reader.read()

        return script

    server = await scripted(serve, make)
    pool = pool_for(server, limit=1)
    held = asyncio.ensure_future(pool.request("GET", "/held", None, 5.0))
    await until(lambda: bool(server.requests))
    with pytest.raises(ConnectTimeout):
        await pool.request("GET", "/waits", None, 0.1)
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held
    await pool.close()


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_with_a_trusted_certificate_and_an_untrusted_one(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    server = Server(lambda r, w: None)  # replaced below: needs the server object
    server.script = answering(with_length(OK))(server)
    await server.start(tls=server_tls)
    try:
        untrusting = Http11Pool(f"https://127.0.0.1:{server.port}", {})
        with pytest.raises(TlsFailed):
            await untrusting.request("GET", "/t", None, 5.0)
        trusting = Http11Pool(f"https://127.0.0.1:{server.port}", {})
        trusting._ssl = ssl.create_default_context(cafile=str(cert))
        assert (await trusting.request("GET", "/t", None, 5.0)).body == OK
        await trusting.close()
    finally:
        await server.stop()
    assert server.requests[0].startswith(b"GET /t HTTP/1.1\r\n")


async def test_a_waiter_cancelled_as_it_is_woken_passes_its_turn_on(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    release = asyncio.Event()

    def make(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await server.read_request(reader) is not None:
                await release.wait()
                writer.write(with_length(OK))
                await writer.drain()

        return script

    server = await scripted(serve, make)
    pool = pool_for(server, limit=1)
    held = asyncio.ensure_future(pool.request("GET", "/held", None, 10.0))
    first = asyncio.ensure_future(pool.request("GET", "/first", None, 10.0))
    second = asyncio.ensure_future(pool.request("GET", "/second", None, 10.0))
    await until(lambda: len(pool._waiters) == 2 and bool(server.requests))  # both wait
    wake = pool._wake

    def wake_then_cancel() -> None:  # the first waiter's caller gives up in that tick
        pool._wake = wake  # type: ignore[method-assign]
        wake()
        first.cancel()

    pool._wake = wake_then_cancel  # type: ignore[method-assign]
    release.set()
    assert (await held).status == 200
    assert (await asyncio.wait_for(second, 5.0)).status == 200  # not stuck till its deadline
    with pytest.raises(asyncio.CancelledError):
        await first
    await pool.close()


async def test_a_request_after_close_was_never_sent(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    server = await scripted(serve, answering(with_length(OK)))
    pool = pool_for(server)
    await pool.close()
    with pytest.raises(PoolClosed):
        await pool.request("POST", "/late", b"{}", 5.0)
    assert not server.requests


async def test_a_body_until_close_cut_by_a_reset_is_not_an_answer(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    def make(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            writer.write(b'HTTP/1.1 200 OK\r\n\r\n{"error":false,"da')
            await writer.drain()
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # a reset, not a clean end

        return script

    server = await scripted(serve, make)
    pool = pool_for(server)
    with pytest.raises(ConnectionLost):
        await pool.request("GET", "/cut", None, 5.0)
    await pool.close()


@pytest.mark.parametrize(
    "chunks",
    [b"0x5\r\nhello\r\n0\r\n\r\n", b"+5\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n"],
)
async def test_chunks_not_framed_as_http_says_are_refused(
    serve: Callable[[Script], Awaitable[Server]], chunks: bytes
) -> None:
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
    server = await scripted(serve, answering(answer))
    pool = pool_for(server)
    with pytest.raises(BadAnswer, match="chunk"):
        await pool.request("GET", "/c", None, 5.0)
    await pool.close()


class _Answering(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(OK)))
        self.end_headers()
        self.wfile.write(OK)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_pool_used_from_a_second_event_loop_opens_its_own_connections() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answering)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pool = Http11Pool(f"http://127.0.0.1:{server.server_address[1]}", {})
    try:
        for _ in range(2):  # two asyncio.run, as a script calling the client twice does
            answer = asyncio.run(asyncio.wait_for(pool.request("GET", "/", None, 5.0), 5.0))
            assert answer.body == OK
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
