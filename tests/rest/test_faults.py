"""Retries under the sandbox's injected faults: rate limits, 500s, slow answers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from crisp_plugin.errors import RequestTimeout, ServerError
from crisp_plugin.rest import RestClient, RetryPolicy

FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.02)


def calls(sb: Any, method: str, path: str) -> int:
    return sum(1 for r in sb.requests if r["method"] == method and r["path"] == path)


async def test_429_for_two_seconds_then_the_message_is_stored_once(sb: Any) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    await sb.control.set_faults(rate_limit_seconds=2.0, retry_after=1)
    started = time.monotonic()
    async with RestClient(sb.identifier, sb.key, api_url=sb.url) as rest:  # default policy
        sent = await rest.send_message(website, session, "sent through a rate limit")
    assert time.monotonic() - started >= 2.0
    transcript = await sb.control.transcript(website, session)
    stored = [m for m in transcript if m["content"] == "sent through a rate limit"]
    assert [m["fingerprint"] for m in stored] == [sent.fingerprint]
    path = f"/v1/website/{website}/conversation/{session}/message"
    statuses = [r["status"] for r in sb.requests if r["path"] == path]
    assert statuses[-1] < 300 and set(statuses[:-1]) == {429} and len(statuses) >= 3


async def test_500_on_get_is_retried(sb: Any) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    await sb.control.set_faults(error_rate=1.0)
    async with RestClient(sb.identifier, sb.key, api_url=sb.url, retry=FAST) as rest:
        with pytest.raises(ServerError):
            await rest.get_conversation(website, session)
        path = f"/v1/website/{website}/conversation/{session}"
        assert calls(sb, "GET", path) == 1 + FAST.max_retries
        # and a GET that meets a transient 500 succeeds
        await sb.control.clear_faults()
        await sb.control.set_faults(error_rate=1.0)
        slow = RetryPolicy(max_retries=5, base_delay=0.1, max_delay=0.1, rate_limited_delay=0.1)
        rest.retry = slow
        task = asyncio.create_task(rest.get_conversation(website, session))
        for _ in range(300):  # until the sandbox has answered the first 500
            if calls(sb, "GET", path) > FAST.max_retries + 1:
                break
            await asyncio.sleep(0.01)
        await sb.control.clear_faults()
        conv = await task
    assert conv.session_id == session


async def test_500_on_post_is_not_retried(sb: Any) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    await sb.control.set_faults(error_rate=1.0)
    async with RestClient(sb.identifier, sb.key, api_url=sb.url, retry=FAST) as rest:
        with pytest.raises(ServerError) as info:
            await rest.send_message(website, session, "once")
    assert info.value.status == 500
    assert calls(sb, "POST", f"/v1/website/{website}/conversation/{session}/message") == 1


async def test_slow_answers_time_out(sb: Any) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    await sb.control.set_faults(latency_ms=300)
    async with RestClient(sb.identifier, sb.key, api_url=sb.url, timeout=0.1, retry=FAST) as rest:
        with pytest.raises(RequestTimeout):
            await rest.get_conversation(website, session)
        with pytest.raises(RequestTimeout):
            await rest.send_message(website, session, "slow")
    await asyncio.sleep(0.4)  # let the sandbox finish the requests it was holding
    get_path = f"/v1/website/{website}/conversation/{session}"
    assert calls(sb, "GET", get_path) == 1 + FAST.max_retries  # GET retried
    assert calls(sb, "POST", get_path + "/message") == 1  # POST never sent twice
