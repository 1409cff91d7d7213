"""Signed JSON nested thousands deep is a malformed body (400), never a crash (500).

The sink here parses each payload with ``parse_event`` as the dispatcher does, so a
deeply nested ``data`` goes through the typed models too; every test runs with the
fast path on and off.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from crisp_plugin.events.parse import parse_event
from crisp_plugin.signing import compact_json
from crisp_plugin.transports.hook_json import MAX_DEPTH, TooDeep, load_hook_json
from crisp_plugin.transports.webhook import WebhookServer
from tests.transports.test_webhook_server import SECRET, hook, signed_headers


class ParsingSink:
    """Parses every payload into its event model (``EventError`` goes back to the
    server), like the dispatcher's ``feed``."""

    def __init__(self, fast_path: bool) -> None:
        self.fast_path = fast_path
        self.fed: list[tuple[str, Any]] = []

    def feed(
        self, name: str, payload: dict[str, Any], source: str, redelivery: bool = False
    ) -> bool:
        event = parse_event(name, payload)
        self.fed.append((name, event))
        return True


@pytest.fixture(params=["fast", "aiohttp"])
async def sink(request: pytest.FixtureRequest) -> ParsingSink:
    return ParsingSink(fast_path=request.param == "fast")


@pytest.fixture
async def server(sink: ParsingSink) -> AsyncIterator[WebhookServer]:
    srv = WebhookServer(sink, host="127.0.0.1", port=0, secret=SECRET, fast_path=sink.fast_path)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def arrays(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def with_content(raw_json: str, event: str = "message:send") -> bytes:
    """A signed-to-be hook whose ``data.content`` is ``raw_json``."""
    marker = "@@CONTENT@@"
    return compact_json(hook(event, content=marker)).replace(
        f'"{marker}"'.encode(), raw_json.encode()
    )


async def post(http: aiohttp.ClientSession, server: WebhookServer, body: bytes) -> tuple[int, Any]:
    async with http.post(server.url, data=body, headers=signed_headers(body)) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize("depth", [100_000, 5_000])
async def test_a_body_that_is_arrays_nested_thousands_deep_is_400(
    server: WebhookServer, sink: ParsingSink, http: aiohttp.ClientSession, depth: int
) -> None:
    status, answer = await post(http, server, arrays(depth).encode())
    assert status == 400 and answer["error"] == "malformed"
    assert sink.fed == []


@pytest.mark.parametrize("nest", [arrays, objects])
@pytest.mark.parametrize("depth", [100_000, 900, MAX_DEPTH])
async def test_data_nested_deep_inside_a_hook_is_400(
    server: WebhookServer, sink: ParsingSink, http: aiohttp.ClientSession, nest: Any, depth: int
) -> None:
    # content sits at level 3 (document, data, content): MAX_DEPTH there is too deep
    status, answer = await post(http, server, with_content(nest(depth)))
    assert status == 400 and answer["error"] == "malformed"
    assert "nested deeper" in answer["message"]
    assert sink.fed == []


async def test_data_nested_within_the_bound_is_parsed_and_accepted(
    server: WebhookServer, sink: ParsingSink, http: aiohttp.ClientSession
) -> None:
    status, _ = await post(http, server, with_content(objects(MAX_DEPTH - 3)))
    assert status == 200
    [(name, event)] = sink.fed
    assert name == "message:send" and event.raw["content"]["a"]["a"]["a"]


async def test_a_nested_value_the_model_refuses_is_400_not_500(
    server: WebhookServer, sink: ParsingSink, http: aiohttp.ClientSession
) -> None:
    body = compact_json(hook("session:set_data", data=[[[[[[["not an object"]]]]]]]))
    status, answer = await post(http, server, body)
    assert status == 400 and answer["error"] == "malformed"
    assert "session:set_data" in answer["message"]
    assert sink.fed == []


def test_the_bound_is_exact_and_brackets_in_strings_do_not_count() -> None:
    assert load_hook_json(arrays(MAX_DEPTH).encode()) is not None
    with pytest.raises(TooDeep):
        load_hook_json(arrays(MAX_DEPTH + 1).encode())
    with pytest.raises(TooDeep):
        load_hook_json(objects(MAX_DEPTH + 1).encode())
    text = '{"a": "' + "[{" * 5000 + '", "b": [[1]]}'
    assert load_hook_json(text.encode())["b"] == [[1]]
    wide = "[" + ",".join(["[[1]]"] * 5000) + "]"
    assert len(load_hook_json(wide.encode())) == 5000
    with pytest.raises(ValueError):
        load_hook_json(b"{not json")


def test_every_encoding_json_takes_is_still_taken() -> None:
    # UTF-8 bodies are decoded before json.loads (the fast case); the others, and a
    # UTF-8 body with a lone surrogate or a BOM, go through json.loads's own sniffing.
    doc = {"content": "été ✓", "n": [1, 2]}
    text = json.dumps(doc, ensure_ascii=False)
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        assert load_hook_json(text.encode(encoding)) == doc, encoding
    assert load_hook_json(b'{"s": "\xed\xa0\x80"}') == {"s": "\ud800"}
    with pytest.raises(ValueError):
        load_hook_json(b'{"s": "\xff"}')
