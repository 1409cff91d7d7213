"""Injected faults: latency, 500 rate, 429 bursts; the control API is never faulted."""

from __future__ import annotations

import asyncio
import time

from sbtools import Rest

from crisp_plugin.sandbox import Sandbox

ACCOUNT = "/v1/plugin/connect/account"


async def test_latency_is_added_to_rest_only(rest: Rest) -> None:
    await rest.sb.control.set_faults(latency_ms=150)
    started = time.monotonic()
    assert (await rest("GET", ACCOUNT))[0] == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    await rest.sb.control.info()
    assert time.monotonic() - started < 0.15


async def test_error_rate_answers_500_envelopes(rest: Rest) -> None:
    await rest.sb.control.set_faults(error_rate=1.0)
    status, env = await rest("GET", ACCOUNT)
    assert status == 500 and env["error"] is True and "injected" in env["data"]["message"]
    await rest.sb.control.set_faults(error_rate=0.5)
    statuses = [(await rest("GET", ACCOUNT))[0] for _ in range(200)]
    assert 40 < statuses.count(500) < 160 and set(statuses) == {200, 500}
    await rest.sb.control.clear_faults()
    assert (await rest("GET", ACCOUNT))[0] == 200


async def test_rate_limit_for_next_requests(rest: Rest) -> None:
    await rest.sb.control.set_faults(rate_limit_requests=2, retry_after=3)
    async with rest.session.get(rest.sb.url + ACCOUNT) as resp:
        assert resp.status == 429 and resp.headers["Retry-After"] == "3"
        assert (await resp.json())["reason"] == "rate_limited"
    assert (await rest("GET", ACCOUNT))[0] == 429
    assert (await rest("GET", ACCOUNT))[0] == 200


async def test_rate_limit_for_some_seconds(rest: Rest) -> None:
    await rest.sb.control.set_faults(rate_limit_seconds=0.2)
    assert (await rest("GET", ACCOUNT))[0] == 429
    faults = await rest.sb.control.set_faults()
    assert 0 < faults["rate_limit_seconds"] <= 0.2
    await asyncio.sleep(0.2)
    assert (await rest("GET", ACCOUNT))[0] == 200


async def test_faulted_send_stores_nothing(rest: Rest) -> None:
    sb = rest.sb
    session = await sb.control.create_conversation()
    await sb.control.set_faults(error_rate=1.0)
    body = {"type": "text", "from": "operator", "origin": "chat", "content": "lost"}
    path = f"/v1/website/{sb.websites[0]}/conversation/{session}/message"
    assert (await rest("POST", path, body))[0] == 500
    assert await sb.control.transcript(None, session) == []


async def test_unknown_fault_is_refused(sb: Sandbox) -> None:
    from crisp_plugin.sandbox import SandboxControlError

    try:
        await sb.control.call("PUT", "/faults", {"explode": True})
    except SandboxControlError as exc:
        assert exc.status == 400 and "explode" in exc.message
    else:
        raise AssertionError("an unknown fault was accepted")
