"""``max_connections`` caps the open connections: one past it is answered 503 and
closed at once, a log line says so at most every few seconds, and a well-behaved
client is served again as soon as others go (by themselves or at their deadline)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from crisp_plugin.transports.webhook import WebhookServer
from tests.transports.test_hook_deadlines import hook_request
from tests.transports.test_hook_fast_path import read_answer
from tests.transports.test_webhook_server import SECRET, RecordingSink
from tests.transports.transport_kit import eventually

CAP = 3

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture(params=["fast", "aiohttp"])
async def fed(request: pytest.FixtureRequest) -> RecordingSink:
    return RecordingSink(fast_path=request.param == "fast")


async def start(fed: RecordingSink, request_timeout: float = 30.0) -> WebhookServer:
    srv = WebhookServer(
        fed,
        host="127.0.0.1",
        port=0,
        secret=SECRET,
        fast_path=fed.fast_path,
        max_connections=CAP,
        request_timeout=request_timeout,
    )
    await srv.start()
    return srv


@pytest.fixture
async def server(fed: RecordingSink) -> AsyncIterator[WebhookServer]:
    srv = await start(fed)
    yield srv
    await srv.stop()


async def fill(server: WebhookServer) -> list[Connection]:
    """CAP silent connections, each counted in by the server."""
    held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(CAP)]
    await eventually(lambda: len(server.guard.open) == CAP)
    return held


async def good_hook(server: WebhookServer, fingerprint: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    head, body = hook_request(fingerprint)
    writer.write(head + body)
    try:
        return (await read_answer(reader))[0]
    finally:
        writer.close()


async def refused_answer(server: WebhookServer) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        return await asyncio.wait_for(reader.read(), 5)
    except ConnectionError:
        return b""
    finally:
        writer.close()


async def test_past_the_cap_a_connection_gets_503_and_is_closed(
    server: WebhookServer, fed: RecordingSink
) -> None:
    held = await fill(server)
    with capture_logs() as logs:
        first = await refused_answer(server)
        second = await refused_answer(server)
    assert first.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 5" in first
    assert second.startswith(b"HTTP/1.1 503 ")
    assert server.guard.refused == 2
    lines = [e for e in logs if "connection limit" in e["event"]]
    assert len(lines) == 1, logs  # once per few seconds, not once per connection
    assert lines[0]["max_connections"] == CAP
    assert len(server.guard.open) == CAP
    for _, writer in held:
        writer.close()


async def test_a_good_hook_is_answered_once_the_others_go(
    server: WebhookServer, fed: RecordingSink
) -> None:
    held = await fill(server)
    assert (await refused_answer(server)).startswith(b"HTTP/1.1 503 ")
    for _, writer in held:
        writer.close()
    await eventually(lambda: not server.guard.open)
    assert await good_hook(server, 1) == 200
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [1]


async def test_connections_that_hold_their_slot_silently_go_at_their_deadline(
    fed: RecordingSink,
) -> None:
    server = await start(fed, request_timeout=0.3)
    try:
        held = await fill(server)
        assert (await refused_answer(server)).startswith(b"HTTP/1.1 503 ")
        for reader, _ in held:  # each one is closed by the server, with a 408
            assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 408 ")
        await eventually(lambda: not server.guard.open)
        assert await good_hook(server, 2) == 200
    finally:
        await server.stop()
    for _, writer in held:
        writer.close()
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [2]


async def test_served_connections_count_against_the_cap(
    server: WebhookServer, fed: RecordingSink
) -> None:
    kept = []
    for fingerprint in range(CAP):  # kept alive after their hook was answered
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        head, body = hook_request(10 + fingerprint)
        writer.write(head + body)
        assert (await read_answer(reader))[0] == 200
        kept.append(writer)
    assert (await refused_answer(server)).startswith(b"HTTP/1.1 503 ")
    kept.pop().close()
    await eventually(lambda: len(server.guard.open) < CAP)
    assert await good_hook(server, 20) == 200
    for writer in kept:
        writer.close()


def test_max_connections_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="max_connections"):
        WebhookServer(RecordingSink(), max_connections=0)
