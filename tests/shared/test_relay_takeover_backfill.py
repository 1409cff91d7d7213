"""A takeover of the relay recovers what the dead holder never heard: visitors write
at 100 messages/s, the holder is killed (SIGKILL), the standby takes the relay within
the lease TTL and reads the gap, from the holder's last mark on Redis, over REST."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crisp_plugin.sandbox import Sandbox
from tests.redis_server import RedisServer
from tests.shared.instances import Instance, relay_instances, replies, until_roles
from tests.transports.backfill_kit import Visitors
from tests.transports.transport_kit import eventually

RATE = 100.0


def recoveries(instance: Instance) -> list[dict[str, object]]:
    """The instance's ``recovery done`` / ``recovery cut short`` log lines."""
    found = []
    for line in instance.log().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and str(record.get("event", "")).startswith("recovery "):
            found.append(record)
    return found


@pytest.mark.timeout(90)
async def test_a_takeover_recovers_the_window_the_dead_holder_missed(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    async with Sandbox(port=0) as sandbox:
        group = relay_instances(tmp_path, sandbox, redis_server.url)
        try:
            await group[0].start()
            await until_roles(group[:1], ["holder"], within=30)
            await group[1].start()
            await until_roles(group, ["holder", "standby"], within=30)
            sessions = [await sandbox.control.create_conversation() for _ in range(10)]
            visitors = Visitors(sandbox.control, sessions, RATE)
            visitors.start()
            await eventually(lambda: visitors.count >= RATE, 10)
            await group[0].kill()
            await until_roles(group, ["down", "holder"], within=15)
            killed_at = visitors.count
            await eventually(lambda: visitors.count >= killed_at + RATE, 10)
            await visitors.stop()

            def answered() -> bool:
                got = replies(sandbox)
                return all(
                    {f"re:{t}" for t in visitors.sent[s]} <= set(got.get(s, ())) for s in sessions
                )

            await eventually(answered, 30)
            twice = 0
            for session in sessions:
                got = replies(sandbox)[session]
                firsts = list(dict.fromkeys(got))
                assert firsts == [f"re:{t}" for t in visitors.sent[session]]  # order kept
                twice += len(got) - len(firsts)
            # at most the events running in the killed instance run again
            assert twice <= 50, twice
            [done] = [r for r in recoveries(group[1]) if r.get("cause") == "takeover"]
            assert done["event"] == "recovery done" and int(str(done["messages"])) > 0
            print(
                f"\ntakeover at {RATE:g} messages/s: {visitors.count} written, "
                f"{done['messages']} read back in a {done['window_s']} s window, "
                f"{done['calls']} REST calls, {twice} answered twice"
            )
        finally:
            for instance in group:
                if instance.process is not None:
                    await instance.kill()
