"""Every request has a deadline for its head and one for its body (``request_timeout``),
on the fast path and on connections served by aiohttp: a client that trickles bytes,
however steadily, is answered 408 and closed. Kept-alive connections between
requests are not under it (the idle close is theirs)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest

from crisp_plugin.signing import compact_json
from crisp_plugin.transports import webhook as webhook_module
from crisp_plugin.transports.http_extras import health_routes
from crisp_plugin.transports.webhook import WebhookServer
from tests.transports.test_hook_fast_path import read_answer
from tests.transports.test_webhook_server import SECRET, RecordingSink, hook, signed_headers
from tests.transports.transport_kit import eventually

TIMEOUT = 0.4
STEP = TIMEOUT / 5  # one byte per STEP: steady, but the whole takes far longer


@pytest.fixture(params=["fast", "aiohttp"])
async def fed(request: pytest.FixtureRequest) -> RecordingSink:
    return RecordingSink(fast_path=request.param == "fast")


@pytest.fixture
async def server(fed: RecordingSink) -> AsyncIterator[WebhookServer]:
    srv = WebhookServer(
        fed,
        host="127.0.0.1",
        port=0,
        secret=SECRET,
        fast_path=fed.fast_path,
        request_timeout=TIMEOUT,
        extra_routes=health_routes(lambda: {"status": "ok", "transports": {}, "in_flight": 0}),
    )
    await srv.start()
    yield srv
    await srv.stop()


def hook_request(fingerprint: int, target: str = "/crisp/hooks") -> tuple[bytes, bytes]:
    """``(head, body)`` of a signed hook POST."""
    body = compact_json(hook(fingerprint=fingerprint))
    head = f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    for name, value in signed_headers(body).items():
        head += f"{name}: {value}\r\n"
    return (head + "\r\n").encode(), body


async def trickle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
) -> tuple[int, bytes]:
    """Send ``data`` a byte per STEP until the server closes: ``(bytes sent, what the
    server sent back)``. Fails if all of ``data`` went out before the server closed."""
    for sent in range(len(data)):
        try:
            writer.write(data[sent : sent + 1])
            await writer.drain()
        except ConnectionError:
            return sent, b""
        try:
            got = await asyncio.wait_for(reader.read(), STEP)  # until EOF, or pace on
        except TimeoutError:
            continue
        except ConnectionError:
            return sent + 1, b""
        return sent + 1, got
    raise AssertionError("the server took the whole trickle without closing")


async def connect(server: WebhookServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


def timed_out(got: bytes) -> bool:
    """A 408 answer, or nothing (the server may have had to drop the socket)."""
    return got == b"" or got.startswith(b"HTTP/1.1 408 ")


async def test_a_head_trickled_byte_by_byte_is_closed_at_its_deadline(
    server: WebhookServer, fed: RecordingSink
) -> None:
    head, body = hook_request(1)
    reader, writer = await connect(server)
    started = time.monotonic()
    sent, got = await trickle(reader, writer, head + body)
    assert time.monotonic() - started >= TIMEOUT
    assert 1 < sent < len(head)
    assert timed_out(got) and got, got
    assert server.guard.timed_out == 1
    assert fed.fed == []
    writer.close()


async def test_a_body_trickled_byte_by_byte_is_closed_at_its_deadline(
    server: WebhookServer, fed: RecordingSink
) -> None:
    head, body = hook_request(2)
    reader, writer = await connect(server)
    writer.write(head)
    sent, got = await trickle(reader, writer, body)
    assert 1 < sent < len(body)
    assert timed_out(got), got
    assert server.guard.timed_out == 1
    assert fed.fed == []
    writer.close()


async def test_a_body_trickled_to_the_aiohttp_route_is_closed_too(
    server: WebhookServer, fed: RecordingSink
) -> None:
    head, body = hook_request(3, target="/crisp/hooks?via=aiohttp")  # a query: aiohttp's
    reader, writer = await connect(server)
    writer.write(head)
    sent, got = await trickle(reader, writer, body)
    assert 1 < sent < len(body)
    assert timed_out(got), got
    assert server.guard.timed_out == 1
    assert fed.fed == []
    writer.close()


async def test_after_a_request_aiohttp_served_the_next_head_has_a_deadline(
    server: WebhookServer, fed: RecordingSink
) -> None:
    reader, writer = await connect(server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # hands the connection over
    assert (await read_answer(reader))[0] == 200
    head, body = hook_request(4)
    sent, got = await trickle(reader, writer, head + body)
    assert 1 < sent < len(head)
    assert timed_out(got), got
    assert server.guard.timed_out == 1
    assert fed.fed == []
    writer.close()


async def test_a_connection_that_never_sends_is_closed_at_the_head_deadline(
    server: WebhookServer,
) -> None:
    reader, writer = await connect(server)
    got = await asyncio.wait_for(reader.read(), TIMEOUT * 10)
    assert got.startswith(b"HTTP/1.1 408 ")
    assert server.guard.timed_out == 1
    writer.close()


async def test_a_kept_alive_connection_between_requests_is_not_under_the_deadline(
    server: WebhookServer, fed: RecordingSink
) -> None:
    reader, writer = await connect(server)
    head, body = hook_request(5)
    writer.write(head + body)
    assert (await read_answer(reader))[0] == 200
    answered = time.monotonic()
    sweeps = server.guard.sweeps
    await eventually(
        lambda: time.monotonic() - answered > 3 * TIMEOUT and server.guard.sweeps > sweeps + 3
    )
    head, body = hook_request(6)
    writer.write(head + body)
    assert (await read_answer(reader))[0] == 200
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [5, 6]
    assert server.guard.timed_out == 0
    writer.close()


async def test_pieces_that_arrive_in_time_are_served(
    server: WebhookServer, fed: RecordingSink
) -> None:
    head, body = hook_request(7)
    reader, writer = await connect(server)
    for piece in (head[:10], head[10:], body[:20], body[20:]):
        writer.write(piece)
        await writer.drain()
    assert (await read_answer(reader))[0] == 200
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [7]
    writer.close()


def test_request_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="request_timeout"):
        WebhookServer(RecordingSink(), request_timeout=0)


async def test_a_client_that_stops_reading_its_answers_is_dropped(
    server: WebhookServer, fed: RecordingSink
) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    _, writer = await asyncio.open_connection(sock=sock)
    await eventually(lambda: len(server.guard.open) == 1)
    [connection] = server.guard.open
    transport = connection.transport
    assert transport is not None
    transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    transport.set_write_buffer_limits(high=1024)
    pipelined = b"".join(b"".join(hook_request(100 + i)) for i in range(3000))
    writer.write(pipelined)  # and never read a byte of the answers
    await eventually(lambda: connection.paused_since > 0)
    await eventually(lambda: not server.guard.open, timeout=5 + 10 * TIMEOUT)
    assert server.guard.timed_out == 1
    assert 0 < len(fed.fed) < 3000
    writer.close()


async def test_a_body_aiohttp_leaves_unread_is_still_under_the_deadline(
    server: WebhookServer, fed: RecordingSink
) -> None:
    # Over the body limit: the route answers 413 without reading the body, and
    # aiohttp then waits for the rest of it (to drop it) for up to 10 s by itself.
    head = b"POST /crisp/hooks HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n"
    reader, writer = await connect(server)
    writer.write(head + b"x" * 100)
    status, _, _ = await read_answer(reader)
    assert status == 413
    assert timed_out(await asyncio.wait_for(reader.read(), 5))  # well before 10 s
    assert server.guard.timed_out == 1
    assert fed.fed == []
    writer.close()


async def test_connections_aiohttp_serves_are_idle_closed_like_fast_ones(
    fed: RecordingSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # aiohttp alone would keep an idle connection for its keep-alive timeout (an hour
    # in recent versions): a slot of max_connections held that long by doing nothing.
    monkeypatch.setattr(webhook_module, "IDLE_SWEEP", 0.05)
    srv = WebhookServer(fed, host="127.0.0.1", port=0, secret=SECRET, fast_path=fed.fast_path)
    await srv.start()
    try:
        reader, writer = await connect(srv)
        head, body = hook_request(8, target="/crisp/hooks?via=aiohttp")
        writer.write(head + body)
        assert (await read_answer(reader))[0] == 200
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed after two sweeps
        assert srv.guard.idle_closed == 1 and srv.guard.timed_out == 0
        writer.close()
    finally:
        await srv.stop()
