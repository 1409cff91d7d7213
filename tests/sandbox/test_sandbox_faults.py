"""Injected faults: latency, 500 rate, 429 bursts; the control API is never faulted."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
from sbtools import Rest, auth_headers

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


async def test_error_after_store_keeps_the_message_and_its_event(rest: Rest) -> None:
    sb = rest.sb
    session = await sb.control.create_conversation()
    await sb.control.set_faults(error_after_store_rate=1.0)
    body = {"type": "text", "from": "operator", "origin": "chat", "content": "kept"}
    path = f"/v1/website/{sb.websites[0]}/conversation/{session}/message"
    status, env = await rest("POST", path, body)
    assert status == 500 and env["error"] is True and "after" in env["data"]["message"]
    [stored] = await sb.control.transcript(None, session)
    assert stored["content"] == "kept"
    events = sb.bus.events(event="message:received", session_id=session)
    assert [e["data"]["fingerprint"] for e in events] == [stored["fingerprint"]]
    # other routes are untouched by it
    assert (await rest("GET", path + "s"))[0] == 200


async def test_hang_after_store_outlasts_the_client(rest: Rest) -> None:
    sb = rest.sb
    session = await sb.control.create_conversation()
    faults = await sb.control.set_faults(hang_after_store_rate=1.0, hang_ms=3000)
    assert faults["hang_ms"] == 3000 and faults["hang_after_store_rate"] == 1.0
    body = {"type": "text", "from": "operator", "origin": "chat", "content": "held"}
    path = f"/v1/website/{sb.websites[0]}/conversation/{session}/message"
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with rest.session.post(
            sb.url + path,
            json=body,
            headers=auth_headers(sb),
            timeout=aiohttp.ClientTimeout(total=0.3),
        ) as resp:
            await resp.read()
    assert time.monotonic() - started < 2.5  # the client gave up; the answer never came
    [stored] = await sb.control.transcript(None, session)
    assert stored["content"] == "held"
    assert len(sb.bus.events(event="message:received", session_id=session)) == 1


async def test_after_store_faults_are_drawn_per_send(rest: Rest) -> None:
    sb = rest.sb
    session = await sb.control.create_conversation()
    await sb.control.set_faults(error_after_store_rate=0.5)
    path = f"/v1/website/{sb.websites[0]}/conversation/{session}/message"
    statuses = []
    for i in range(200):
        body = {"type": "text", "from": "operator", "origin": "chat", "content": f"m{i}"}
        statuses.append((await rest("POST", path, body))[0])
    assert 40 < statuses.count(500) < 160 and set(statuses) == {202, 500}
    assert len(await sb.control.transcript(None, session)) == 200  # every one stored


async def test_unknown_fault_is_refused(sb: Sandbox) -> None:
    from crisp_plugin.sandbox import SandboxControlError

    try:
        await sb.control.call("PUT", "/faults", {"explode": True})
    except SandboxControlError as exc:
        assert exc.status == 400 and "explode" in exc.message
    else:
        raise AssertionError("an unknown fault was accepted")


async def _refused(sb: Sandbox, spec: dict[str, object]) -> str:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            sb.url + "/_sandbox/faults",
            data=json.dumps(spec),
            headers={"Content-Type": "application/json"},
        ) as resp:
            assert resp.status == 400, await resp.text()
            return str((await resp.json())["error"])


async def test_a_bad_fault_spec_changes_nothing(sb: Sandbox) -> None:
    before = await sb.control.set_faults()
    message = await _refused(sb, {"latency_ms": 500, "error_rate": 2})
    assert "error_rate" in message
    assert await sb.control.set_faults() == before
    assert sb.faults.latency_ms == 0 and sb.faults.error_rate == 0


async def test_fault_values_must_be_real_types_and_finite(sb: Sandbox) -> None:
    bad: list[dict[str, object]] = [
        {"duplicate_hooks": "false"},
        {"duplicate_hooks": 1},
        {"latency_ms": "NaN"},
        {"latency_ms": "100"},
        {"error_rate": float("nan")},  # json.dumps writes NaN, which Python's json reads
        {"latency_ms": float("inf")},
        {"latency_ms": -5},
        {"rate_limit_requests": 1.5},
        {"retry_after": True},
        {"error_after_store_rate": 1.5},
        {"hang_after_store_rate": "0.1"},
        {"hang_ms": -1},
    ]
    for spec in bad:
        message = await _refused(sb, spec)
        assert next(iter(spec)) in message, (spec, message)
    faults = await sb.control.set_faults()
    assert faults["duplicate_hooks"] is False and faults["latency_ms"] == 0
    assert faults["error_rate"] == 0 and faults["rate_limit_requests"] == 0
    assert faults["retry_after"] == 1
    assert faults["error_after_store_rate"] == 0 and faults["hang_after_store_rate"] == 0
    assert faults["hang_ms"] == 15000


async def test_a_good_fault_spec_applies_whole(sb: Sandbox) -> None:
    faults = await sb.control.set_faults(
        latency_ms=5, error_rate=0.25, rate_limit_requests=2, retry_after=4, duplicate_hooks=True
    )
    assert faults["latency_ms"] == 5 and faults["error_rate"] == 0.25
    assert faults["rate_limit_requests"] == 2 and faults["retry_after"] == 4
    assert faults["duplicate_hooks"] is True
