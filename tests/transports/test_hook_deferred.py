"""A sink that acknowledges later (a durable inbox storing the event, ack on handled):
the hook is answered then, on the fast path as on aiohttp's, and pipelined requests get
their answers in the order they came even when a later one is ready first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from crisp_plugin.signing import compact_json
from crisp_plugin.transports.webhook import WebhookServer
from tests.transports.test_hook_fast_path import connect, read_answer, request
from tests.transports.test_webhook_server import SECRET, hook, signed_headers


class LaterSink:
    """Answers each feed with a future the test settles, in any order it likes."""

    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[bool]] = {}
        self.fed = asyncio.Event()

    def feed(
        self, name: str, payload: dict[str, Any], source: str, redelivery: bool = False
    ) -> asyncio.Future[bool]:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.waiting[int(payload["fingerprint"])] = future
        self.fed.set()
        return future

    async def until(self, count: int) -> None:
        while len(self.waiting) < count:
            self.fed.clear()
            await asyncio.wait_for(self.fed.wait(), 5)


@pytest.fixture
def sink() -> LaterSink:
    return LaterSink()


@pytest.fixture(params=[True, False], ids=["fast", "aiohttp"])
async def server(sink: LaterSink, request: pytest.FixtureRequest) -> AsyncIterator[WebhookServer]:
    srv = WebhookServer(sink, host="127.0.0.1", port=0, secret=SECRET, fast_path=request.param)
    await srv.start()
    yield srv
    await srv.stop()


async def test_pipelined_answers_wait_for_the_earlier_ones(sink: LaterSink) -> None:
    """The fast path's own ordering (aiohttp serves one request of a connection at a
    time by itself)."""
    server = WebhookServer(sink, host="127.0.0.1", port=0, secret=SECRET, fast_path=True)
    await server.start()
    try:
        await _pipelined(server, sink)
    finally:
        await server.stop()


async def _pipelined(server: WebhookServer, sink: LaterSink) -> None:
    reader, writer = await connect(server)
    writer.write(request(1) + request(2) + request(3))
    await sink.until(3)
    sink.waiting[3].set_result(True)  # the last is ready first...
    sink.waiting[2].set_result(False)  # ...the second is refused (storage down)
    await asyncio.sleep(0.05)
    assert reader.at_eof() is False and not reader._buffer  # nothing written yet
    sink.waiting[1].set_result(True)
    statuses = [(await read_answer(reader))[0] for _ in range(3)]
    assert statuses == [200, 503, 200]  # in request order
    writer.close()


async def test_the_answer_waits_for_the_acknowledgement(
    server: WebhookServer, sink: LaterSink
) -> None:
    body = compact_json(hook(fingerprint=41))
    async with aiohttp.ClientSession() as http:
        posting = asyncio.ensure_future(
            http.post(server.url, data=body, headers=signed_headers(body))
        )
        await sink.until(1)
        await asyncio.sleep(0.05)
        assert not posting.done()  # not answered before the sink said so
        sink.waiting[41].set_result(True)
        async with await posting as resp:
            assert resp.status == 200
        body = compact_json(hook(fingerprint=42))
        posting = asyncio.ensure_future(
            http.post(server.url, data=body, headers=signed_headers(body))
        )
        await sink.until(2)
        sink.waiting[42].set_exception(RuntimeError("disk full"))
        async with await posting as resp:
            assert resp.status == 503 and resp.headers["Retry-After"]
