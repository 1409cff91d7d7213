"""``inbox.backend = "redis"``: three ``crisp_plugin run`` processes on one redis-server,
behind the sandbox's round-robin hook group, act as one plugin.

Any instance takes a hook and stores its event in the conversation's partition; the
instance holding that partition's lease handles it. Each message gets a reply naming
it, so afterwards: every message must have one (nothing acknowledged lost), the first
replies of a conversation must come in message order (order holds across instances),
and the only messages answered twice are ones whose handler was running in a killed
instance (its reply went out, its acknowledgement did not).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from crisp_plugin.sandbox import Sandbox
from tests.redis_server import RedisServer, free_port
from tests.shared.instances import Instance, check_answers, instances, pour, replies, reply_count
from tests.transports.transport_kit import eventually

CONVERSATIONS = 1000
MESSAGES = 5
RETRY = (0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0)  # Crisp retries too


def partitions_of(instance_log: str) -> bool:
    return '"partition taken"' in instance_log


@pytest.mark.timeout(400)
async def test_three_instances_one_killed_and_restarted_lose_nothing(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with Sandbox(port=0, hook_retry_delays=RETRY) as sandbox:
        group = instances(tmp_path, sandbox, redis_server.url, 3)
        for instance in group:
            await instance.start()
        await sandbox.control.add_hook_group([i.hook_url for i in group], name="bots")
        sessions = [await sandbox.control.create_conversation() for _ in range(CONVERSATIONS)]
        total = CONVERSATIONS * MESSAGES
        pouring = asyncio.ensure_future(pour(sandbox, sessions, MESSAGES))
        try:
            await eventually(lambda: reply_count(sandbox) >= total // 3, timeout=120)
            victim = group[1]
            assert await victim.kill() == -9
            await eventually(lambda: reply_count(sandbox) >= total // 2, timeout=120)
            await victim.start()
            await pouring
            await eventually(
                lambda: all(len(set(r)) == MESSAGES for r in replies(sandbox).values()),
                timeout=120,
            )
            await sandbox.wait_hooks(60)
        finally:
            for instance in group:
                if instance.process is not None:
                    assert await instance.term() == 0, instance.log()[-3000:]
        twice = check_answers(sandbox, MESSAGES)
        served = await sandbox.control.hook_group("bots")
    delivered = {i["url"]: i["delivered"] for i in served["instances"]}
    print(f"\n{total} hooks over 3 instances {sorted(delivered.values())}: {twice} answered twice")
    assert all(count > 0 for count in delivered.values())  # the round-robin reached each
    assert twice <= 50  # at most the killed instance's handlers in flight (concurrency)
    assert sandbox.hooks.dropped == 0
    for instance in group:
        assert partitions_of(instance.log()), instance.name  # each one owned partitions


async def health(instance: Instance) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{instance.port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.json()


def refused(sandbox: Sandbox) -> int:
    return sum(1 for d in sandbox.hooks.log for a in d["attempts"] if a["status"] == 503)


@pytest.mark.timeout(300)
async def test_redis_away_mid_load_means_503s_then_nothing_lost(tmp_path: Path) -> None:
    """Redis (with its append-only file) stopped mid-load and started again: meanwhile
    hooks are answered 503 and /healthz says unavailable; afterwards every message is
    answered, in order, and the instances are healthy again."""
    server = RedisServer(tmp_path / "redis", persist=True)
    server.start()
    try:
        async with Sandbox(port=0, hook_retry_delays=RETRY) as sandbox:
            group = instances(tmp_path, sandbox, server.url, 2)
            for instance in group:
                await instance.start()
            await sandbox.control.add_hook_group([i.hook_url for i in group], name="bots")
            sessions = [await sandbox.control.create_conversation() for _ in range(300)]
            pouring = asyncio.ensure_future(pour(sandbox, sessions, MESSAGES))
            try:
                await eventually(lambda: reply_count(sandbox) >= 300, timeout=60)
                server.stop()
                await eventually(lambda: refused(sandbox) >= 20, timeout=30)
                status, report = await health(group[0])
                assert (status, report["status"]) == (503, "unavailable"), report
                server.start()
                await pouring
                await eventually(
                    lambda: all(len(set(r)) == MESSAGES for r in replies(sandbox).values()),
                    timeout=120,
                )
                await sandbox.wait_hooks(60)
                for instance in group:
                    status, report = await health(instance)
                    assert status == 200 and report["status"] == "ok", report
            finally:
                for instance in group:
                    if instance.process is not None:
                        assert await instance.term() == 0, instance.log()[-3000:]
            twice = check_answers(sandbox, MESSAGES)
            print(f"\n1500 hooks, Redis away: {refused(sandbox)} answers 503, {twice} twice")
            assert twice <= 100  # at most the handlers in flight when the leases ran out
            assert sandbox.hooks.dropped == 0
    finally:
        server.stop()


@pytest.mark.timeout(400)
async def test_every_visitor_message_answered_exactly_once_through_faults(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """1,000 conversations x 3 messages into 3 instances, every hook delivered twice
    (the copies may reach different instances), 10% of REST calls failing before the
    store and 10% after it, and 429 bursts: exactly one reply per visitor message."""
    async with Sandbox(port=0, hook_retry_delays=RETRY) as sandbox:
        group = instances(tmp_path, sandbox, redis_server.url, 3)
        for instance in group:
            text = instance.config.read_text().replace("max_retries = 6", "max_retries = 12")
            instance.config.write_text(text)
            await instance.start()
        await sandbox.control.add_hook_group([i.hook_url for i in group], name="bots")
        sessions = [await sandbox.control.create_conversation() for _ in range(1000)]
        await sandbox.control.set_faults(
            duplicate_hooks=True, error_rate=0.1, error_after_store_rate=0.1
        )
        pouring = asyncio.ensure_future(pour(sandbox, sessions, 3))
        try:
            for share in (4, 2):  # two 429 bursts along the way
                await eventually(lambda s=share: reply_count(sandbox) >= 3000 // s, timeout=120)
                await sandbox.control.set_faults(rate_limit_requests=50, retry_after=1)
            await pouring
            await eventually(
                lambda: all(len(r) >= 3 for r in replies(sandbox).values()), timeout=180
            )
            await sandbox.control.set_faults(
                duplicate_hooks=False, error_rate=0, error_after_store_rate=0
            )
            await sandbox.wait_hooks(60)
            statuses = Counter(r["status"] for r in sandbox.requests)
            served = await sandbox.control.hook_group("bots")
            copies = sum(i["delivered"] for i in served["instances"])
        finally:
            for instance in group:
                if instance.process is not None:
                    assert await instance.term() == 0, instance.log()[-3000:]
    print(f"\n3000 messages, {copies} hook deliveries, REST answers {dict(statuses)}")
    assert statuses[500] > 300 and statuses[429] >= 100 and copies >= 6000  # faults were met
    assert check_answers(sandbox, 3) == 0  # exactly once each, in order
    for instance in group:
        assert "Traceback" not in instance.log()


async def test_run_exits_1_with_one_line_when_redis_cannot_be_reached(tmp_path: Path) -> None:
    async with Sandbox(port=0) as sandbox:
        nowhere = f"redis://127.0.0.1:{free_port()}/0"
        (instance,) = instances(tmp_path, sandbox, nowhere, 1)
        await instance.start(wait_port=False)
        assert instance.process is not None
        assert await asyncio.wait_for(instance.process.wait(), 30) == 1
    lines = [line for line in instance.log().splitlines() if line.strip()]
    assert lines == [
        f'crisp_plugin: RedisUnavailable: Redis cannot be reached at redis.url = "{nowhere}" '
        "(Connection refused): start it or fix redis.url"
    ], lines
