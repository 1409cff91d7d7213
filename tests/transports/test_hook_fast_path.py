"""The hook endpoint's fast path on the raw wire: how bytes arrive must not matter.

Crisp's deliveries are served without aiohttp's request objects (see
``crisp_plugin.transports.hook_protocol``); these tests send requests as raw bytes
over a real socket, split, pipelined or unusual, and check each answer, and that
anything unusual on a connection is handed to aiohttp intact.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from crisp_plugin.signing import compact_json
from crisp_plugin.transports import webhook as webhook_module
from crisp_plugin.transports.http_extras import health_routes
from crisp_plugin.transports.webhook import WebhookServer
from tests.transports.test_webhook_server import SECRET, NowaitSink, hook, signed_headers


@pytest.fixture
async def fed() -> NowaitSink:
    return NowaitSink()


@pytest.fixture
async def server(fed: NowaitSink) -> AsyncIterator[WebhookServer]:
    srv = WebhookServer(
        fed,
        host="127.0.0.1",
        port=0,
        secret=SECRET,
        body_limit=4096,
        unsigned=True,
        key="site-key",
        extra_routes=health_routes(lambda: {"status": "ok", "transports": {}, "in_flight": 0}),
    )
    await srv.start()
    yield srv
    await srv.stop()


def request(fingerprint: int, *, extra: str = "", path: str = "/crisp/hooks") -> bytes:
    body = compact_json(hook(fingerprint=fingerprint, content="héllo 👋"))
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    for name, value in signed_headers(body).items():
        head += f"{name}: {value}\r\n"
    return (head + extra + "\r\n").encode() + body


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = await asyncio.wait_for(reader.readline(), 5)
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


async def connect(server: WebhookServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def test_pipelined_hooks_in_one_write_are_each_answered_in_order(
    server: WebhookServer, fed: NowaitSink
) -> None:
    reader, writer = await connect(server)
    writer.write(request(1) + request(2) + request(3))
    answers = [await read_answer(reader) for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 200]
    assert all(json.loads(a[2]) == {"ok": True} for a in answers)
    assert answers[0][1]["content-type"] == "application/json"
    assert "date" in answers[0][1]
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [1, 2, 3]
    assert fed.fed[0][1]["content"] == "héllo 👋"
    writer.close()


async def test_a_hook_arriving_byte_by_byte_is_answered_once_complete(
    server: WebhookServer, fed: NowaitSink
) -> None:
    reader, writer = await connect(server)
    raw = request(7)
    for i in range(len(raw)):
        writer.write(raw[i : i + 1])
        await writer.drain()
        if i % 97 == 0:
            await asyncio.sleep(0)
    status, _, _ = await read_answer(reader)
    assert status == 200 and [p["fingerprint"] for _, p, _ in fed.fed] == [7]
    writer.close()


async def test_a_tampered_hook_is_403_and_the_connection_stays_usable(
    server: WebhookServer, fed: NowaitSink
) -> None:
    reader, writer = await connect(server)
    tampered = request(1).replace(b'"from":"user"', b'"from":"USER"')  # same length
    writer.write(tampered)
    status, _, body = await read_answer(reader)
    assert status == 403 and json.loads(body)["error"] == "forbidden"
    writer.write(request(2))
    assert (await read_answer(reader))[0] == 200
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [2]
    writer.close()


async def test_connection_close_is_honoured(server: WebhookServer) -> None:
    reader, writer = await connect(server)
    writer.write(request(1, extra="Connection: close\r\n"))
    status, headers, _ = await read_answer(reader)
    assert status == 200 and headers["connection"] == "close"
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
    writer.close()


async def test_other_requests_on_the_same_connection_go_to_aiohttp(
    server: WebhookServer, fed: NowaitSink
) -> None:
    reader, writer = await connect(server)
    writer.write(request(1))
    assert (await read_answer(reader))[0] == 200
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, body = await read_answer(reader)
    assert status == 200 and json.loads(body)["status"] == "ok"
    writer.write(request(2))  # aiohttp serves this connection from now on: same answer
    assert (await read_answer(reader))[0] == 200
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [1, 2]
    writer.close()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET /crisp/hooks HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"POST /crisp/hooks HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n", 413),
        (
            b"POST /crisp/hooks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\n{}\r\n0\r\n\r\n",
            403,
        ),
        (b"POST /crisp/hooks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 403),
        (b"POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 404),
    ],
)
async def test_unusual_requests_get_aiohttps_or_the_same_answers(
    server: WebhookServer, fed: NowaitSink, raw: bytes, status: int
) -> None:
    reader, writer = await connect(server)
    writer.write(raw)
    assert (await read_answer(reader))[0] == status
    assert fed.fed == []
    writer.close()


async def test_unsigned_website_hook_with_the_key_goes_through_aiohttp(
    server: WebhookServer, fed: NowaitSink
) -> None:
    body = compact_json(hook(fingerprint=5))
    raw = (
        f"POST /crisp/hooks?key=site-key HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    reader, writer = await connect(server)
    writer.write(raw)
    assert (await read_answer(reader))[0] == 200
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [5]
    writer.close()


async def test_a_head_over_the_limit_is_refused_not_buffered(server: WebhookServer) -> None:
    reader, writer = await connect(server)
    writer.write(b"POST /crisp/hooks HTTP/1.1\r\nX-Junk: " + b"a" * 20_000 + b"\r\n\r\n")
    status_line = await asyncio.wait_for(reader.readline(), 5)
    assert status_line.split()[1] in (b"400", b"431")
    writer.close()


async def test_idle_connections_are_closed(
    fed: NowaitSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_module, "IDLE_SWEEP", 0.05)
    srv = WebhookServer(fed, host="127.0.0.1", port=0, secret=SECRET)
    await srv.start()
    try:
        reader, writer = await connect(srv)
        writer.write(request(1))
        assert (await read_answer(reader))[0] == 200
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed after two sweeps
        writer.close()
    finally:
        await srv.stop()


async def test_stop_closes_fast_connections(server: WebhookServer) -> None:
    reader, writer = await connect(server)
    writer.write(request(1))
    assert (await read_answer(reader))[0] == 200
    await server.stop()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_a_sink_that_crashes_gets_a_500_and_the_server_keeps_serving(
    server: WebhookServer, fed: NowaitSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str, payload: dict[str, object], source: str) -> bool:
        raise RuntimeError("bug in the sink")

    monkeypatch.setattr(fed, "feed", broken)
    reader, writer = await connect(server)
    writer.write(request(1))
    assert (await read_answer(reader))[0] == 500
    monkeypatch.undo()
    writer.write(request(2))
    assert (await read_answer(reader))[0] == 200
    writer.close()
