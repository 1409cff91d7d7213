"""Signed Web Hook delivery: headers, signature, compact UTF-8 body, retries, duplicates."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import aiohttp
import pytest
from sbtools import HookReceiver, auth_headers

from crisp_plugin.sandbox import Sandbox, SandboxControlError
from crisp_plugin.sandbox.hooks import USER_AGENT
from crisp_plugin.signing import verify


async def test_delivery_is_signed_with_crisp_headers(sb: Sandbox, hook: HookReceiver) -> None:
    await sb.control.add_hook(hook.url)
    session = await sb.control.create_conversation()
    text = 'Crème brûlée "très" bonne 🍮 \\ / <b>'
    fp = await sb.control.visitor_says(None, session, text)
    await sb.wait_hooks()
    [(headers, body)] = hook.received
    assert headers["User-Agent"] == USER_AGENT
    assert headers["X-Crisp-Hook-Origin"] == f"plugin/rtm {sb.plugin_id} production"
    assert headers["X-Delivery-Attempt-Count"] == "1"
    assert headers["X-Delivery-Attempt-Limit"] == "3"
    ts = headers["X-Crisp-Request-Timestamp"]
    assert abs(int(ts) - time.time() * 1000) < 5000
    assert verify(sb.secret, ts, body, headers["X-Crisp-Signature"])
    tampered = body.replace("brûlée".encode(), b"brulee")
    assert not verify(sb.secret, ts, tampered, headers["X-Crisp-Signature"])
    # Compact UTF-8 JSON, as JavaScript's JSON.stringify writes it.
    assert "brûlée".encode() in body and "🍮".encode() in body and b'": ' not in body
    payload = json.loads(body)
    assert list(payload) == ["website_id", "event", "data", "timestamp"]
    assert payload["event"] == "message:send" and payload["data"]["fingerprint"] == fp
    assert payload["data"]["content"] == text
    assert json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode() == body


async def test_failed_delivery_is_retried_until_2xx(sb: Sandbox, hook: HookReceiver) -> None:
    hook.statuses = [500, 503]
    await sb.control.add_hook(hook.url)
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "retry me")
    [delivery] = await sb.control.deliveries(wait=True)
    assert delivery["status"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]
    counts = [h["X-Delivery-Attempt-Count"] for h, _ in hook.received]
    assert counts == ["1", "2", "3"]
    bodies = {b for _, b in hook.received}
    assert len(bodies) == 1  # the same event each time


async def test_delivery_gives_up_at_the_limit(sb: Sandbox, hook: HookReceiver) -> None:
    hook.statuses = [500, 500, 500, 500]
    await sb.control.add_hook(hook.url)
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "never delivered")
    [delivery] = await sb.control.deliveries(wait=True)
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 3
    assert len(hook.received) == 3


async def test_unreachable_hook_is_logged_as_failed(sb: Sandbox) -> None:
    await sb.control.add_hook("http://127.0.0.1:9/hooks")
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "into the void")
    [delivery] = await sb.control.deliveries(wait=True)
    assert delivery["status"] == "failed"
    assert all(str(a["status"]).startswith("error") for a in delivery["attempts"])


async def test_duplicate_fault_sends_each_delivery_twice(sb: Sandbox, hook: HookReceiver) -> None:
    await sb.control.add_hook(hook.url)
    await sb.control.set_faults(duplicate_hooks=True)
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "twice")
    await sb.wait_hooks()
    assert len(hook.received) == 2
    assert hook.received[0][1] == hook.received[1][1]


async def test_slow_hook_does_not_delay_rest_answers(sb: Sandbox, hook: HookReceiver) -> None:
    gate = asyncio.Event()
    original = hook.handle

    async def slow(request: aiohttp.web.Request) -> aiohttp.web.Response:
        await gate.wait()
        return await original(request)

    hook.handle = slow  # type: ignore[method-assign]
    await sb.control.add_hook(hook.url)
    website = sb.websites[0]
    session = await sb.control.create_conversation()
    body = {"type": "text", "from": "operator", "origin": "chat", "content": "quick"}
    async with aiohttp.ClientSession() as http:
        started = time.monotonic()
        async with http.post(
            f"{sb.url}/v1/website/{website}/conversation/{session}/message",
            json=body,
            headers=auth_headers(sb),
        ) as resp:
            assert resp.status == 202
        assert time.monotonic() - started < 0.5
    gate.set()


async def test_hook_urls_can_be_removed(sb: Sandbox, hook: HookReceiver) -> None:
    assert await sb.control.add_hook(hook.url) == [hook.url]
    assert await sb.control.remove_hook(hook.url) == []
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "no hook")
    await sb.wait_hooks()
    assert hook.received == []


async def test_attempt_limit_past_the_delays_repeats_the_last_delay(hook: HookReceiver) -> None:
    hook.statuses = [500, 500, 500]
    async with Sandbox(hook_retry_delays=(0.01, 0.02), hook_attempt_limit=4) as sb:
        assert sb.hooks.retry_window == 0.05
        await sb.control.add_hook(hook.url)
        session = await sb.control.create_conversation()
        await sb.control.visitor_says(None, session, "four tries")
        [delivery] = await sb.control.deliveries(wait=True)
    assert [a["status"] for a in delivery["attempts"]] == [500, 500, 500, 200]
    assert [h["X-Delivery-Attempt-Limit"] for h, _ in hook.received] == ["4"] * 4
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(delivery["attempts"])]
    assert gaps[2] >= 15  # the third wait is the last delay again (20 ms)


async def test_the_default_budget_outlasts_a_restart_of_a_few_seconds() -> None:
    async with Sandbox() as sb:
        retries = await sb.control.hook_retries()
    assert retries == {
        "delays": [0.5, 2.0, 5.0],
        "attempt_limit": 4,
        "window": 7.5,
        "refused_pause": 1.0,
    }


async def test_retry_budget_changes_at_run_time(sb: Sandbox, hook: HookReceiver) -> None:
    assert (await sb.control.hooks())["retries"]["attempt_limit"] == 3
    budget = await sb.control.set_hook_retries(delays=[0.01, 0.01, 0.01])
    assert budget["delays"] == [0.01, 0.01, 0.01]
    assert budget["attempt_limit"] == 4 and budget["window"] == 0.03
    budget = await sb.control.set_hook_retries(attempt_limit=1)
    assert budget["delays"] == [0.01, 0.01, 0.01] and budget["window"] == 0
    hook.statuses = [503]
    await sb.control.add_hook(hook.url)
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "one try only")
    [delivery] = await sb.control.deliveries(wait=True)
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 1
    assert hook.received[0][0]["X-Delivery-Attempt-Limit"] == "1"


async def test_a_bad_retry_budget_is_refused_whole(sb: Sandbox) -> None:
    before = await sb.control.hook_retries()
    bad: list[dict[str, Any]] = [
        {"delays": [0.1, "2"]},
        {"delays": [-1]},
        {"delays": [float("inf")]},
        {"delays": "0.5,2"},
        {"attempt_limit": 0},
        {"attempt_limit": True},
        {"attempt_limit": 2.5},
        {"delays": [], "attempt_limit": 3},
        {"delays": [0.1], "attempts": 3},
    ]
    for body in bad:
        with pytest.raises(SandboxControlError) as info:
            await sb.control.call("PUT", "/hooks/retries", body)
        assert info.value.status == 400, body
    assert await sb.control.hook_retries() == before
