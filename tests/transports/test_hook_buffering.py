"""The fast path's work per byte is bounded: a request arriving in small pieces is
buffered by appending, its head is searched from where the search stopped and parsed
once, and the body is only waited for until ``Content-Length`` bytes are there.

(The CPU figures, before and after, come from ``python -m bench.hook_abuse``.)
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from crisp_plugin.signing import compact_json
from crisp_plugin.transports.hook_protocol import HookProtocol
from crisp_plugin.transports.hook_wire import HeadReader
from crisp_plugin.transports.webhook import WebhookServer
from tests.transports.test_hook_fast_path import read_answer
from tests.transports.test_webhook_server import SECRET, RecordingSink, hook, signed_headers

MIB = 1_048_576


@pytest.fixture
async def fed() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def server(fed: RecordingSink) -> AsyncIterator[WebhookServer]:
    srv = WebhookServer(fed, host="127.0.0.1", port=0, secret=SECRET, body_limit=MIB)
    await srv.start()
    yield srv
    await srv.stop()


def mib_hook() -> bytes:
    """A signed hook POST whose body is exactly 1 MiB."""
    short = compact_json(hook(fingerprint=77, content=""))
    body = compact_json(hook(fingerprint=77, content="x" * (MIB - len(short))))
    assert len(body) == MIB
    head = f"POST /crisp/hooks HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    for name, value in signed_headers(body).items():
        head += f"{name}: {value}\r\n"
    return (head + "\r\n").encode() + body


class Counts:
    def __init__(self) -> None:
        self.reads = 0
        self.heads = 0


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    seen = Counts()
    read = HookProtocol.data_received
    parse = HeadReader.read

    def counting_read(self: HookProtocol, data: bytes) -> None:
        seen.reads += 1
        read(self, data)

    def counting_parse(*args: Any) -> Any:
        seen.heads += 1
        return parse(*args)

    monkeypatch.setattr(HookProtocol, "data_received", counting_read)
    monkeypatch.setattr(HeadReader, "read", counting_parse)
    return seen


async def test_a_mib_body_in_64_byte_pieces_is_answered_and_its_head_parsed_once(
    server: WebhookServer, fed: RecordingSink, counts: Counts
) -> None:
    raw = mib_hook()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(0, len(raw), 64):
        writer.write(raw[i : i + 64])
        await writer.drain()
        await asyncio.sleep(0)  # the server reads this piece before the next is sent
    status, _, _ = await read_answer(reader)
    writer.close()
    assert status == 200
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [77]
    assert len(fed.fed[0][1]["content"]) > MIB - 1000
    assert counts.reads > 1000, "the pieces were merged: the test did not exercise them"
    assert counts.heads == 1


async def test_a_head_in_single_bytes_is_parsed_once(
    server: WebhookServer, fed: RecordingSink, counts: Counts
) -> None:
    body = compact_json(hook(fingerprint=78))
    head = f"POST /crisp/hooks HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    for name, value in signed_headers(body).items():
        head += f"{name}: {value}\r\n"
    raw = (head + "\r\n").encode() + body
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(raw)):
        writer.write(raw[i : i + 1])
        await writer.drain()
        await asyncio.sleep(0)
    assert (await read_answer(reader))[0] == 200
    writer.close()
    assert counts.reads > len(raw) // 2
    assert counts.heads == 1
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [78]
