"""The sandbox as a load balancer: one hook subscription spread over plugin instances.

Every instance is a real aiohttp server on a loopback port (sbtools.Instance); a
killed one has closed its port, so connecting to it is refused, as with a dead process.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sbtools import Instance

from crisp_plugin.sandbox import Sandbox, SandboxControlError
from crisp_plugin.sandbox.hooks import HookGroup
from crisp_plugin.sandbox.store import JSON

MakeInstances = Callable[[int], Awaitable[list[Instance]]]


@pytest.fixture
async def lb() -> AsyncIterator[Sandbox]:
    async with Sandbox(hook_retry_delays=(0.05, 0.1, 0.2), hook_timeout=0.5) as sandbox:
        yield sandbox


@pytest.fixture
async def instances() -> AsyncIterator[MakeInstances]:
    made: list[Instance] = []

    async def make(n: int) -> list[Instance]:
        batch = [Instance(f"i{len(made) + k}") for k in range(n)]
        for instance in batch:
            await instance.start()
        made.extend(batch)
        return batch

    yield make
    for instance in made:
        await instance.kill()


async def say(sb: Sandbox, n: int, session: str | None = None) -> str:
    """``n`` visitor messages (one message:send hook each) in one conversation."""
    session = session or await sb.control.create_conversation()
    for k in range(n):
        await sb.control.visitor_says(None, session, f"message {k}")
    return session


def deliveries(sb: Sandbox) -> list[JSON]:
    return sorted(sb.hooks.log, key=lambda r: int(r["id"]))


def assert_each_delivered_once(sb: Sandbox, group: list[Instance], events: int) -> None:
    """Every event delivered, exactly one 2xx answer for each, from the instance the log
    names for its 2xx attempt."""
    records = deliveries(sb)
    assert len(records) == events
    assert Counter(r["status"] for r in records) == {"delivered": events}
    by_url = {i.url: Counter(i.answered) for i in group}
    answers = Counter(body for i in group for body in i.answered)
    for r in records:
        body = r["body"].encode()
        [ok] = [a for a in r["attempts"] if isinstance(a["status"], int) and a["status"] < 300]
        assert answers[body] == 1, r
        assert by_url[ok["url"]][body] == 1, r
        assert ok is r["attempts"][-1] and r["url"] == ok["url"]
    assert sum(answers.values()) == events


async def test_a_group_spreads_events_round_robin(lb: Sandbox, instances: MakeInstances) -> None:
    group = await instances(3)
    lb.hooks.add_group([i.url for i in group], "bot")
    await say(lb, 9)
    await lb.wait_hooks()
    assert [len(i.received) for i in group] == [3, 3, 3]
    records = deliveries(lb)
    assert all(r["group"] == "bot" and len(r["attempts"]) == 1 for r in records)
    assert [r["url"] for r in records] == [group[k % 3].url for k in range(9)]
    assert {h["X-Delivery-Attempt-Count"] for i in group for h, _ in i.received} == {"1"}
    assert_each_delivered_once(lb, group, 9)


async def test_a_group_is_one_subscription_beside_plain_hook_urls(
    lb: Sandbox, instances: MakeInstances
) -> None:
    a, b, solo = await instances(3)
    lb.hooks.add_group([a.url, b.url], "bot")
    lb.hooks.add_url(solo.url)
    await say(lb, 4)
    await lb.wait_hooks()
    assert (len(a.received), len(b.received), len(solo.received)) == (2, 2, 4)
    assert {r["group"] for r in lb.hooks.log} == {"bot", None}


async def test_an_instance_answering_500_has_its_deliveries_land_on_the_others(
    lb: Sandbox, instances: MakeInstances
) -> None:
    group = await instances(3)
    group[1].status = 500
    lb.hooks.add_group([i.url for i in group])
    await say(lb, 12)
    await lb.wait_hooks()
    failing = group[1]
    assert failing.received and not failing.answered
    retried = [r for r in deliveries(lb) if r["attempts"][0]["url"] == failing.url]
    assert retried
    for r in retried:
        first, second = r["attempts"]
        assert first["status"] == 500 and second["status"] == 200
        assert second["url"] != failing.url  # the retry went to the next instance
    # The instance that got a retry saw it as the second attempt of the delivery.
    counts = Counter(h["X-Delivery-Attempt-Count"] for i in group for h, _ in i.received)
    assert counts["2"] == len(retried)
    assert_each_delivered_once(lb, [group[0], group[2]], 12)
    [g] = lb.hooks.groups_json()
    health = {i["url"]: i for i in g["instances"]}
    assert health[failing.url]["healthy"]  # it answers: a 500 does not take it out
    assert health[failing.url]["failed"] == len(retried) and health[failing.url]["delivered"] == 0


async def test_a_closed_instance_is_skipped_and_its_share_goes_to_the_others(
    lb: Sandbox, instances: MakeInstances
) -> None:
    group = await instances(3)
    dead = group[1]
    await dead.kill()  # its port now refuses connections
    lb.hooks.set_retries(refused_pause=60)
    lb.hooks.add_group([i.url for i in group])
    await say(lb, 12)
    await lb.wait_hooks()
    to_dead = [(r, a) for r in deliveries(lb) for a in r["attempts"] if a["url"] == dead.url]
    # One refusal, then the instance is out of the rotation for refused_pause.
    [(record, attempt)] = to_dead
    assert attempt["status"] == "error: refused" and attempt["attempt"] == 1
    assert record["attempts"][1]["status"] == 200 and record["attempts"][1]["url"] != dead.url
    assert_each_delivered_once(lb, group, 12)
    [g] = lb.hooks.groups_json()
    health = {i["url"]: i for i in g["instances"]}[dead.url]
    assert not health["healthy"] and health["refused"] == 1 and 0 < health["skipped_for"] <= 60


async def test_a_timed_out_or_reset_delivery_is_retried_on_another_instance(
    lb: Sandbox, instances: MakeInstances
) -> None:
    group = await instances(3)
    group[0].mode = "hang"
    group[1].mode = "reset"
    lb.hooks.add_group([i.url for i in group])
    await say(lb, 6)
    await lb.wait_hooks()
    statuses = {
        i.name: {a["status"] for r in lb.hooks.log for a in r["attempts"] if a["url"] == i.url}
        for i in group
    }
    assert statuses[group[0].name] == {"timeout"}
    assert statuses[group[1].name] == {"error: ClientOSError"}  # connection reset by peer
    assert statuses[group[2].name] == {200}
    assert_each_delivered_once(lb, [group[2]], 6)
    assert max(len(r["attempts"]) for r in lb.hooks.log) >= 2


async def test_a_killed_instance_gets_traffic_again_once_restarted(
    lb: Sandbox, instances: MakeInstances
) -> None:
    group = await instances(3)
    victim = group[1]
    lb.hooks.set_retries(refused_pause=0.2)
    lb.hooks.add_group([i.url for i in group])
    session = await say(lb, 3)
    await lb.wait_hooks()
    assert len(victim.answered) == 1
    await victim.kill()
    await say(lb, 3, session)
    await lb.wait_hooks()
    refusals = [a for r in lb.hooks.log for a in r["attempts"] if a["url"] == victim.url][1:]
    assert refusals and {a["status"] for a in refusals} == {"error: refused"}
    refusal = max(refusals, key=lambda a: int(a["at"]))
    await victim.start()
    deadline = time.monotonic() + 5
    while len(victim.answered) < 2:  # each round: one event, then the deliverer is idle
        assert time.monotonic() < deadline, "the restarted instance never got an event"
        await say(lb, 1, session)
        await lb.wait_hooks()
    after = [
        a
        for r in lb.hooks.log
        for a in r["attempts"]
        if a["url"] == victim.url and a["at"] > refusal["at"]
    ]
    back = min(after, key=lambda a: int(a["at"]))  # its first attempt since
    assert back["status"] == 200
    assert back["at"] - refusal["at"] >= 190  # left out for refused_pause (200 ms)
    assert_each_delivered_once(lb, group, len(lb.hooks.log))


async def test_instances_join_and_leave_at_run_time(lb: Sandbox, instances: MakeInstances) -> None:
    a, b, c = await instances(3)
    group = lb.hooks.add_group([a.url, b.url], "bot")
    session = await say(lb, 4)
    await lb.wait_hooks()
    assert (len(a.received), len(b.received)) == (2, 2)
    assert group.add(c.url) and not group.add(c.url)
    await say(lb, 6, session)
    await lb.wait_hooks()
    assert (len(a.received), len(b.received), len(c.received)) == (4, 4, 2)
    assert group.remove(a.url) and not group.remove(a.url)
    await say(lb, 4, session)
    await lb.wait_hooks()
    assert (len(a.received), len(b.received), len(c.received)) == (4, 6, 4)
    assert_each_delivered_once(lb, [a, b, c], 14)


async def test_a_group_without_instances_fails_until_one_joins(
    lb: Sandbox, instances: MakeInstances
) -> None:
    group = lb.hooks.add_group([], "later")
    session = await say(lb, 1)
    await lb.wait_hooks()
    [lost] = lb.hooks.log
    assert lost["status"] == "failed" and lost["url"] is None
    assert {a["status"] for a in lost["attempts"]} == {"error: no instance"}
    [one] = await instances(1)
    group.add(one.url)
    await say(lb, 1, session)
    await lb.wait_hooks()
    assert lb.hooks.log[-1]["status"] == "delivered" and lb.hooks.log[-1]["url"] == one.url


async def test_1000_events_with_an_instance_killed_midway_are_each_delivered_once(
    lb: Sandbox, instances: MakeInstances
) -> None:
    group = await instances(3)
    victim = group[1]
    victim.die_after = 150  # about half its share: it dies with deliveries in flight
    lb.hooks.add_group([i.url for i in group])
    sessions = [await lb.control.create_conversation() for _ in range(10)]
    await asyncio.gather(*(say(lb, 100, s) for s in sessions))
    await lb.wait_hooks(30)
    assert not victim.running and 150 <= len(victim.answered) < 300
    assert_each_delivered_once(lb, group, 1000)
    assert all(len(i.answered) > 300 for i in (group[0], group[2]))
    last = max(a["at"] for r in lb.hooks.log for a in r["attempts"] if a["url"] == victim.url)
    assert any(a["at"] > last for r in lb.hooks.log for a in r["attempts"])  # traffic went on


async def test_the_default_budget_outlasts_every_instance_down_for_three_seconds(
    instances: MakeInstances,
) -> None:
    group = await instances(3)
    async with Sandbox() as sb:  # the default delays: 0.5, 2, 5 s
        sb.hooks.add_group([i.url for i in group])
        for instance in group:
            await instance.kill()
        down = time.monotonic()
        await say(sb, 3)
        await asyncio.sleep(3 - (time.monotonic() - down))  # the outage itself
        for instance in group:
            await instance.start()
        await sb.wait_hooks(15)
        records = deliveries(sb)
    assert_each_delivered_once(sb, group, 3)
    first, *later = records  # one conversation: the later two wait behind the first
    assert [a["status"] for a in first["attempts"]] == ["error: refused"] * 3 + [200]
    for r in later:  # sent once the first got through: at the first try
        assert [a["status"] for a in r["attempts"]] == [200]
    counts = sorted(h["X-Delivery-Attempt-Count"] for i in group for h, _ in i.received)
    assert counts == ["1", "1", "4"]


def test_the_rotation_prefers_untried_then_live_instances() -> None:
    group = HookGroup("g", ["http://a", "http://b", "http://c"])
    a, b, c = group.instances
    assert [group.pick(0.0) for _ in range(4)] == [a, b, c, a]  # the cursor is after a
    assert group.pick(0.0, tried=[b]) is c  # not the one that just failed
    assert group.pick(0.0, tried=[b, c]) is a  # one this delivery has not tried yet
    assert group.pick(0.0, tried=[c, a, b]) is c  # all tried: the one tried longest ago
    b.skipped_until = 10.0
    assert group.pick(1.0, tried=[a]) is c  # b is skipped
    c.skipped_until = 5.0
    assert group.pick(1.0, tried=[a]) is a  # the only live one, though it just failed
    a.skipped_until = 7.0
    assert group.pick(1.0, tried=[a]) is c  # all skipped: back soonest, a being the last
    assert group.pick(1.0, tried=[c]) is a
    assert HookGroup("empty").pick(0.0) is None


async def test_groups_and_instances_through_the_control_api(
    lb: Sandbox, instances: MakeInstances
) -> None:
    a, b, c, solo = await instances(4)
    control = lb.control
    await control.set_hook_retries(refused_pause=60)
    group = await control.add_hook_group([a.url, b.url], name="bot")
    assert group["name"] == "bot" and [i["url"] for i in group["instances"]] == [a.url, b.url]
    assert all(i["healthy"] and i["attempts"] == 0 for i in group["instances"])
    assert await control.add_hook(solo.url) == [solo.url]  # the one-URL form still works
    listing = await control.hooks()
    assert listing["urls"] == [solo.url] and [g["name"] for g in listing["groups"]] == ["bot"]
    assert listing["retries"]["refused_pause"] == 60

    session = await say(lb, 2)
    await control.add_hook_instance("bot", c.url)  # an instance joins while running
    await say(lb, 3, session)
    [delivery, *_] = await control.deliveries(wait=True)
    assert (len(a.received), len(b.received), len(c.received), len(solo.received)) == (2, 2, 1, 5)
    assert delivery["group"] in ("bot", None) and "url" in delivery["attempts"][0]

    await b.kill()
    await say(lb, 3, session)
    await lb.wait_hooks()
    health = {i["url"]: i for i in (await control.hook_group("bot"))["instances"]}
    assert health[b.url]["healthy"] is False and health[b.url]["refused"] == 1
    assert health[b.url]["last_status"] == "error: refused" and health[b.url]["skipped_for"] > 0
    assert health[a.url]["delivered"] + health[c.url]["delivered"] == 6

    group = await control.remove_hook_instance("bot", b.url)  # the dead one leaves
    assert [i["url"] for i in group["instances"]] == [a.url, c.url]
    unnamed = await control.add_hook_group([b.url])
    assert unnamed["name"] == "group-2"
    listing = await control.remove_hook_group("bot")
    assert [g["name"] for g in listing["groups"]] == ["group-2"]
    listing = await control.call("DELETE", "/hooks", {"group": "group-2"})
    assert listing["groups"] == [] and listing["urls"] == [solo.url]


async def test_the_control_api_refuses_bad_group_calls(lb: Sandbox) -> None:
    control = lb.control
    await control.add_hook_group(["http://127.0.0.1:9/hooks"], name="bot")
    url = "http://127.0.0.1:9/other"
    bad: list[tuple[str, str, JSON, int, str]] = [
        ("POST", "/hooks", {"urls": [url], "group": "bot"}, 409, "hook group bot exists"),
        ("POST", "/hooks", {"urls": "http://x"}, 400, "urls should be a list"),
        ("POST", "/hooks", {"urls": ["ftp://x"]}, 400, "urls should be a list"),
        ("POST", "/hooks", {"urls": [url], "url": url}, 400, "not both"),
        ("POST", "/hooks", {"urls": [url], "group": "a/b"}, 400, "a group name should be"),
        ("POST", "/hooks", {"urls": [url], "group": 7}, 400, "a group name should be"),
        ("DELETE", "/hooks", {"group": "nope"}, 404, "hook group nope does not exist"),
        ("PUT", "/hooks", {"url": url}, 405, "use GET, POST or DELETE"),
        ("GET", "/hooks/groups/nope", {}, 404, "hook group nope does not exist"),
        ("POST", "/hooks/groups/nope/instances", {"url": url}, 404, "does not exist"),
        ("POST", "/hooks/groups/bot/instances", {"url": "x"}, 400, "url should be"),
        ("DELETE", "/hooks/groups/bot/instances", {"url": url}, 404, "not an instance"),
        ("PUT", "/hooks/retries", {"refused_pause": -1}, 400, "refused_pause should be"),
    ]
    for method, path, body, status, message in bad:
        with pytest.raises(SandboxControlError) as info:
            await control.call(method, path, body)
        problem = info.value
        assert problem.status == status and message in problem.message, (method, path, problem)
    assert [g["name"] for g in (await control.hooks())["groups"]] == ["bot"]


async def test_reset_keeps_groups_and_zeroes_their_counts(
    lb: Sandbox, instances: MakeInstances
) -> None:
    [one] = await instances(1)
    await lb.control.add_hook_group([one.url], name="bot")
    await say(lb, 2)
    await lb.wait_hooks()
    assert (await lb.control.hook_group("bot"))["instances"][0]["delivered"] == 2
    await lb.control.reset()
    [instance] = (await lb.control.hook_group("bot"))["instances"]
    assert instance["url"] == one.url and instance["attempts"] == instance["delivered"] == 0
    assert await lb.control.deliveries() == []
