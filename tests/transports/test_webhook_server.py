"""The web hook endpoint as Crisp (or an attacker) sees it, over a real socket.

The server feeds a recording sink that stands in for the dispatcher's ``feed``
contract (True / False / EventError), so each answer code can be provoked on demand.
Every test runs twice: with the fast path off (aiohttp serves the hooks) and on (the
fast path of ``hook_protocol`` serves them): the answers must be the same.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from crisp_plugin.errors import EventError
from crisp_plugin.signing import compact_json, sign
from crisp_plugin.transports.webhook import WebhookServer, timestamp_age

SECRET = "hook-secret-for-tests"


class RecordingSink:
    """Accepts everything unless told otherwise; remembers what it was fed.

    ``fast_path`` is how the servers of a test built with ``start`` serve hooks."""

    def __init__(self, fast_path: bool = True) -> None:
        self.fed: list[tuple[str, dict[str, Any], str]] = []
        self.answer = True
        self.raise_error = False
        self.fast_path = fast_path

    def feed(
        self, name: str, payload: dict[str, Any], source: str, redelivery: bool = False
    ) -> bool:
        if self.raise_error:
            raise EventError(f"{name}: field 'session_id' is required")
        if self.answer:
            self.fed.append((name, payload, source))
        return self.answer


NowaitSink = RecordingSink  # the fast path's tests: a sink behind the fast path


def hook(event: str = "message:send", **data: Any) -> dict[str, Any]:
    payload = {
        "website_id": "42286ab3-b29a-4fde-8538-da0ae501d825",
        "session_id": "session_700c65e1-85e2-465a-b9ac-ecb5ec2c9881",
        "type": "text",
        "from": "user",
        "origin": "chat",
        "content": "hello",
        "fingerprint": 163239623329114,
        "timestamp": 1632396233539,
    }
    payload.update(data)
    return {
        "website_id": payload["website_id"],
        "event": event,
        "data": payload,
        "timestamp": 1632396233539,
    }


def signed_headers(body: bytes, ts: str | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = ts if ts is not None else str(int(time.time() * 1000))
    return {
        "Content-Type": "application/json",
        "X-Crisp-Request-Timestamp": ts,
        "X-Crisp-Signature": sign(secret, ts, body),
        "User-Agent": "Crisp-HooksDeliver 1.0 (+https://crisp.chat)",
    }


@pytest.fixture(params=["aiohttp", "fast"])
async def sink(request: pytest.FixtureRequest) -> RecordingSink:
    return RecordingSink(fast_path=request.param == "fast")


async def start(sink: RecordingSink, **options: Any) -> WebhookServer:
    options.setdefault("secret", SECRET)
    options.setdefault("fast_path", sink.fast_path)
    server = WebhookServer(sink, host="127.0.0.1", port=0, **options)
    await server.start()
    return server


@pytest.fixture
async def server(sink: RecordingSink) -> AsyncIterator[WebhookServer]:
    srv = await start(sink, replay_window=300, body_limit=4096)
    yield srv
    await srv.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_signed_hook_is_accepted_and_fed(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    body = compact_json(hook())
    async with http.post(server.url, data=body, headers=signed_headers(body)) as resp:
        assert resp.status == 200
        assert await resp.json() == {"ok": True}
    assert [(n, s) for n, _, s in sink.fed] == [("message:send", "webhook")]
    assert sink.fed[0][1]["content"] == "hello"


async def test_crisp_style_utf8_body_with_accents_emoji_quotes_is_accepted(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    text = 'Bonjour, ça coûte combien ? 🙂 "vraiment" \\ fin'
    body = compact_json(hook(content=text))
    assert "ç".encode() in body and "🙂".encode() in body  # raw UTF-8, no \\u escapes
    async with http.post(server.url, data=body, headers=signed_headers(body)) as resp:
        assert resp.status == 200
    assert sink.fed[0][1]["content"] == text


async def test_tampered_body_is_403_and_nothing_fed(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    body = compact_json(hook(content="refund me 10 EUR"))
    headers = signed_headers(body)
    tampered = body.replace(b"10 EUR", b"99 EUR")
    async with http.post(server.url, data=tampered, headers=headers) as resp:
        assert resp.status == 403
        assert (await resp.json())["error"] == "forbidden"
    assert sink.fed == []


async def test_missing_or_foreign_signature_is_403(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    body = compact_json(hook())
    async with http.post(server.url, data=body) as resp:
        assert resp.status == 403
    async with http.post(
        server.url, data=body, headers=signed_headers(body, secret="someone-else")
    ) as resp:
        assert resp.status == 403
    assert sink.fed == []


async def test_replay_outside_the_window_is_refused_in_s_and_ms(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    body = compact_json(hook())
    old_ms = str(int((time.time() - 3600) * 1000))
    old_s = str(int(time.time() - 3600))
    for ts in (old_ms, old_s, "not-a-number"):
        async with http.post(server.url, data=body, headers=signed_headers(body, ts)) as resp:
            assert resp.status == 403, ts
            assert "replay window" in (await resp.json())["message"]
    fresh_s = str(int(time.time()))
    async with http.post(server.url, data=body, headers=signed_headers(body, fresh_s)) as resp:
        assert resp.status == 200
    assert len(sink.fed) == 1


def test_timestamp_age_understands_both_units() -> None:
    now = 1_700_000_000.0
    assert timestamp_age("1699999990", now) == pytest.approx(10)
    assert timestamp_age("1699999990000", now) == pytest.approx(10)
    assert timestamp_age("nope", now) is None
    assert timestamp_age("nan", now) is None


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[1, 2, 3]",
        b'{"event": "message:send"}',
        b'{"event": 5, "data": {}}',
        b'{"event": "message:send", "data": "text"}',
    ],
)
async def test_malformed_body_is_400(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession, body: bytes
) -> None:
    async with http.post(server.url, data=body, headers=signed_headers(body)) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "malformed"
    assert sink.fed == []


async def test_payload_the_dispatcher_finds_malformed_is_400(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    sink.raise_error = True
    body = compact_json(hook())
    async with http.post(server.url, data=body, headers=signed_headers(body)) as resp:
        assert resp.status == 400
        assert "session_id" in (await resp.json())["message"]


async def test_body_over_the_limit_is_413_by_length_and_when_chunked(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    body = compact_json(hook(content="x" * 8000))
    async with http.post(server.url, data=body, headers=signed_headers(body)) as resp:
        assert resp.status == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"x" * 1000

    headers = signed_headers(body)
    async with http.post(server.url, data=chunks(), headers=headers) as resp:
        assert resp.status == 413
    assert sink.fed == []


async def test_wrong_method_is_405(server: WebhookServer, http: aiohttp.ClientSession) -> None:
    for method in ("GET", "PUT", "DELETE"):
        async with http.request(method, server.url) as resp:
            assert resp.status == 405, method


async def test_unknown_event_is_200(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    body = compact_json(hook("widget:brand:new_thing"))
    async with http.post(server.url, data=body, headers=signed_headers(body)) as resp:
        assert resp.status == 200
    assert sink.fed[0][0] == "widget:brand:new_thing"


async def test_full_dispatcher_or_draining_is_503_with_retry_after(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    body = compact_json(hook())
    sink.answer = False
    async with http.post(server.url, data=body, headers=signed_headers(body)) as resp:
        assert resp.status == 503
        assert resp.headers["Retry-After"]
    sink.answer = True
    await server.pause()
    assert server.state == "draining"
    async with http.post(server.url, data=body, headers=signed_headers(body)) as resp:
        assert resp.status == 503
    assert sink.fed == []


async def test_website_id_of_the_envelope_fills_a_payload_without_one(
    server: WebhookServer, sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    doc = hook()
    del doc["data"]["website_id"]
    body = compact_json(doc)
    async with http.post(server.url, data=body, headers=signed_headers(body)) as resp:
        assert resp.status == 200
    assert sink.fed[0][1]["website_id"] == doc["website_id"]


async def test_unsigned_website_hooks_need_the_flag_and_the_key(
    sink: RecordingSink, http: aiohttp.ClientSession
) -> None:
    body = json.dumps(hook()).encode()
    closed = await start(sink, secret=None)
    try:
        async with http.post(closed.url + "?key=anything", data=body) as resp:
            assert resp.status == 403
    finally:
        await closed.stop()

    open_ = await start(sink, secret=None, unsigned=True, key="k3y-for-website-hooks")
    try:
        async with http.post(open_.url, data=body) as resp:
            assert resp.status == 403
        async with http.post(open_.url + "?key=wrong", data=body) as resp:
            assert resp.status == 403
        async with http.post(open_.url + "?key=k3y-for-website-hooks", data=body) as resp:
            assert resp.status == 200
    finally:
        await open_.stop()
    assert len(sink.fed) == 1


async def test_stop_closes_the_port(sink: RecordingSink, http: aiohttp.ClientSession) -> None:
    srv = await start(sink)
    url = srv.url
    await srv.stop()
    assert srv.state == "stopped"
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.post(url, data=b"{}"):
            pass
