"""A head that arrives whole obeys aiohttp's head limits on the fast path too.

aiohttp's request parser (the C one the wheel ships) refuses with 400 a request target
or a header value over 8190 bytes and more than 128 header lines. The fast path takes
only heads of at most 8190 bytes and 126 header lines, so whatever is bigger, complete
in one read or not, goes to aiohttp, which serves it or refuses it: a hook gets the
same answer with the fast path on or off.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest
from aiohttp.web_protocol import RequestHandler

from crisp_plugin.signing import compact_json, sign
from crisp_plugin.transports import hook_wire
from crisp_plugin.transports.webhook import WebhookServer
from tests.transports.test_hook_wire_adversarial import Answer, answers, by_aiohttp
from tests.transports.test_webhook_server import SECRET, RecordingSink, hook

STAMP = "1700000000000"


@pytest.fixture(params=["fast", "aiohttp"])
async def fed(request: pytest.FixtureRequest) -> RecordingSink:
    return RecordingSink(fast_path=request.param == "fast")


@pytest.fixture
async def server(fed: RecordingSink) -> AsyncIterator[WebhookServer]:
    srv = WebhookServer(
        fed, host="127.0.0.1", port=0, secret=SECRET, body_limit=4096, fast_path=fed.fast_path
    )
    await srv.start()
    yield srv
    await srv.stop()


def with_headers(fingerprint: int, extra: list[str]) -> bytes:
    """A signed hook POST, the ``extra`` header lines after its four own ones."""
    body = compact_json(hook(fingerprint=fingerprint))
    lines = [
        "POST /crisp/hooks HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Length: {len(body)}",
        "X-Crisp-Request-Timestamp: " + STAMP,
        "X-Crisp-Signature: " + sign(SECRET, STAMP, body),
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def fillers(count: int) -> list[str]:
    return [f"X-Filler-{i}: {i}" for i in range(count)]


async def one(server: WebhookServer, raw: bytes) -> Answer:
    got = await answers(server, raw, limit=1)  # the whole request in one write
    assert got, "no answer"
    return got[0]


def test_the_limits_are_aiohttps_own_defaults() -> None:
    defaults = inspect.signature(RequestHandler.__init__).parameters
    assert defaults["max_line_size"].default == hook_wire.MAX_LINE_SIZE == 8190
    assert defaults["max_field_size"].default == hook_wire.MAX_FIELD_SIZE == 8190
    assert defaults["max_headers"].default == hook_wire.MAX_HEADERS == 128


async def test_a_header_value_over_aiohttps_limit_is_400_even_when_the_head_comes_whole(
    server: WebhookServer, fed: RecordingSink
) -> None:
    answer = await one(server, with_headers(1, ["X-Junk: " + "a" * 8191]))
    assert answer[0] == 400 and by_aiohttp(answer)
    assert fed.fed == []


async def test_a_big_head_within_aiohttps_limits_is_served_by_aiohttp(
    server: WebhookServer, fed: RecordingSink
) -> None:
    answer = await one(server, with_headers(2, ["X-Junk: " + "a" * 8100, "X-More: " + "b" * 4000]))
    assert answer[0] == 200 and by_aiohttp(answer)  # over MAX_HEAD: not the fast path's
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [2]


async def test_128_header_lines_are_served_129_refused(
    server: WebhookServer, fed: RecordingSink
) -> None:
    answer = await one(server, with_headers(3, fillers(128 - 4)))
    assert answer[0] == 200
    answer = await one(server, with_headers(4, fillers(129 - 4)))
    assert answer[0] == 400 and by_aiohttp(answer)
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [3]


async def test_the_fast_path_takes_126_header_lines_and_leaves_more_to_aiohttp() -> None:
    fed = RecordingSink()
    server = WebhookServer(fed, host="127.0.0.1", port=0, secret=SECRET, body_limit=4096)
    await server.start()
    try:
        answer = await one(server, with_headers(5, fillers(126 - 4)))
        assert answer[0] == 200 and not by_aiohttp(answer)
        answer = await one(server, with_headers(6, fillers(127 - 4)))
        assert answer[0] == 200 and by_aiohttp(answer)
    finally:
        await server.stop()
    assert [p["fingerprint"] for _, p, _ in fed.fed] == [5, 6]


async def test_many_tiny_headers_in_a_small_head_are_not_taken_by_the_fast_path(
    server: WebhookServer, fed: RecordingSink
) -> None:
    lines = [f"A{i}:" for i in range(1000)]  # ~5 KB: under MAX_HEAD, over 128 headers
    raw = with_headers(7, lines)
    assert len(raw.split(b"\r\n\r\n")[0]) < hook_wire.MAX_HEAD
    answer = await one(server, raw)
    assert answer[0] == 400 and by_aiohttp(answer)
    assert fed.fed == []


async def test_a_target_over_aiohttps_line_limit_is_400(server: WebhookServer) -> None:
    raw = ("POST /" + "a" * 8190 + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").encode()
    answer = await one(server, raw)
    assert answer[0] == 400 and by_aiohttp(answer)


async def test_a_head_over_the_limit_in_pieces_is_refused_too(
    server: WebhookServer, fed: RecordingSink
) -> None:
    raw = with_headers(8, ["X-Junk: " + "a" * 9000])
    pieces = [raw[i : i + 1000] for i in range(0, len(raw), 1000)]
    got = await answers(server, pieces, limit=1)
    assert got and got[0][0] == 400 and by_aiohttp(got[0])
    assert fed.fed == []
