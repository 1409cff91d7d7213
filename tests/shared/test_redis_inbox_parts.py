"""``RedisInbox`` up close, in one process, on a real redis-server: two inboxes on links
of their own play two instances.

What is put comes back through ``deliver`` on the owner of its partition; a duplicate
key is stored once whichever instance puts it; ``done`` acknowledges and deletes; a
partition changing hands passes its pending entries first; an entry whose lease moved
is no longer ``current``; a dead Redis makes ``put`` fail with ``InboxUnavailable``.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from crisp_plugin.config import Config
from crisp_plugin.inbox import Entry, InboxUnavailable
from crisp_plugin.inbox.redis_entries import (
    ENTRY_MAX,
    batch_value,
    entry_value,
    read_batch,
    read_value,
)
from crisp_plugin.inbox.redis_streams import RedisInbox, partition_of
from crisp_plugin.redis_client import RedisLink, open_redis
from tests.redis_server import RedisServer
from tests.transports.transport_kit import eventually
from tests.waiting import until_async

WEBSITE = "42a6c4bb-ae62-4e0d-8f4c-1b1aa3e8a2a5"


def payload(session: str, text: str) -> dict[str, Any]:
    return {
        "website_id": WEBSITE,
        "session_id": session,
        "type": "text",
        "from": "user",
        "origin": "chat",
        "content": text,
        "fingerprint": abs(hash(text)) % 10**9,
        "timestamp": 1,
    }


class Owner:
    """One inbox and what it delivered."""

    def __init__(self, inbox: RedisInbox) -> None:
        self.inbox = inbox
        self.got: list[Entry] = []

    def deliver(self, entry: Entry) -> None:
        self.got.append(entry)

    def texts(self) -> list[str]:
        return [e.payload["content"] for e in self.got]


class Pair:
    def __init__(self) -> None:
        self.links: list[RedisLink] = []
        self.owners: list[Owner] = []

    async def add(self, url: str, **options: Any) -> Owner:
        settings = Config.model_validate({"redis": {"url": url, "socket_timeout": 1}})
        link = await open_redis(settings)
        self.links.append(link)
        inbox = RedisInbox(link, partitions=4, lease_ttl=1.0, **options)
        owner = Owner(inbox)
        await inbox.open(owner.deliver)
        self.owners.append(owner)
        return owner

    async def alone(self, url: str, session: str) -> tuple[Owner, RedisLink, str]:
        """The first instance, its link, and the stream ``session`` goes to."""
        owner = await self.add(url)
        return owner, self.links[0], stream_of(self.links[0], session)

    async def close(self) -> None:
        for owner in self.owners:
            await owner.inbox.close()
        for link in self.links:
            await link.close()


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    made = Pair()
    yield made
    await made.close()


def stream_of(link: RedisLink, session: str) -> str:
    """The stream a conversation of ``WEBSITE`` goes to (the tests' inboxes have 4)."""
    return link.key("inbox", str(partition_of(WEBSITE, session, 4)))


async def until_emptied(link: RedisLink, stream: str) -> None:
    """Wait until every entry of ``stream`` was acknowledged and deleted."""

    async def empty() -> bool:
        return bool(await link.client.xlen(stream) == 0)

    await until_async(empty)


async def put(owner: Owner, session: str, text: str, key: int | None) -> None:
    stored = owner.inbox.put(Entry(0, "message:send", payload(session, text), "webhook"), key)
    assert stored is not None
    await stored


async def test_an_event_comes_back_on_its_owner_and_done_deletes_it(
    redis_server: RedisServer, pair: Pair
) -> None:
    one = await pair.add(redis_server.url)
    await put(one, "session_a", "hello", 1)
    await eventually(lambda: one.texts() == ["hello"])
    entry = one.got[0]
    assert one.inbox.current(entry) and entry.source == "webhook"
    assert one.inbox.depth == 1
    one.inbox.done(entry)
    link = pair.links[0]
    stream = stream_of(link, "session_a")

    await until_emptied(link, stream)
    assert one.inbox.depth == 0


async def test_a_key_is_stored_once_whichever_instance_puts_it(
    redis_server: RedisServer, pair: Pair
) -> None:
    one = await pair.add(redis_server.url)
    two = await pair.add(redis_server.url)
    await put(one, "session_b", "first copy", 7)
    await put(two, "session_b", "second copy", 7)  # the same key: a redelivery
    await put(two, "session_b", "another", 8)
    await eventually(lambda: len(one.got) + len(two.got) == 2)
    assert sorted(one.texts() + two.texts()) == ["another", "first copy"]


async def test_pending_entries_pass_to_the_next_owner_first_and_the_old_one_is_fenced(
    redis_server: RedisServer, pair: Pair
) -> None:
    one = await pair.add(redis_server.url)
    for i in range(3):
        await put(one, "session_c", f"m{i}", 100 + i)
    await eventually(lambda: len(one.got) == 3)
    held = list(one.got)
    # The owner stalls: its leases are not renewed (it stops its rounds), they run out.
    task = one.inbox.leases._task
    assert task is not None
    task.cancel()
    two = await pair.add(redis_server.url)
    await eventually(lambda: len(two.got) == 3, timeout=10)  # within the TTL and a round
    assert two.texts() == ["m0", "m1", "m2"]  # the pending ones, in order
    assert all(e.redelivery for e in two.got)
    assert not any(one.inbox.current(e) for e in held)  # fenced: not to be run there
    await put(two, "session_c", "m3", 103)
    await eventually(lambda: two.texts()[-1:] == ["m3"])


async def test_put_fails_with_inbox_unavailable_when_redis_is_gone(
    redis_server: RedisServer, pair: Pair
) -> None:
    one = await pair.add(redis_server.url)
    redis_server.kill()
    stored = one.inbox.put(Entry(0, "message:send", payload("session_d", "x"), "webhook"), 9)
    assert stored is not None
    with pytest.raises(InboxUnavailable, match="Redis cannot be reached"):
        await asyncio.wait_for(stored, 10)
    assert not one.inbox.healthy


async def test_an_entry_an_earlier_version_wrote_in_four_fields_is_still_read(
    redis_server: RedisServer, pair: Pair
) -> None:
    one, link, stream = await pair.alone(redis_server.url, "session_e")
    text = json.dumps(payload("session_e", "from before"))
    await link.client.xadd(stream, {"n": "message:send", "p": text, "s": "rtm", "r": "1"})
    await eventually(lambda: one.texts() == ["from before"])
    entry = one.got[0]
    assert (entry.name, entry.source, entry.redelivery) == ("message:send", "rtm", True)


async def test_what_cannot_be_read_is_set_aside_and_the_rest_still_comes(
    redis_server: RedisServer, pair: Pair
) -> None:
    one, link, stream = await pair.alone(redis_server.url, "session_f")
    good = entry_value(Entry(0, "message:send", payload("session_f", "in a mixed batch")))
    mixed = batch_value(b"elsewhere.1", [b"0,0,0:[not an object]", good, b"garbage"]).decode()
    await link.client.xadd(stream, {"b": "no header line"})
    await link.client.xadd(stream, {"b": mixed})
    await link.client.xadd(stream, {"b": batch_value(b"elsewhere.1", [b"0,0,0:{"]).decode()})
    await put(one, "session_f", "after them", None)
    await eventually(lambda: one.texts() == ["in a mixed batch", "after them"])
    for entry in one.got:
        one.inbox.done(entry)

    await until_emptied(link, stream)
    aside = [fields for _, fields in await link.client.xrange(link.key("inbox", "unreadable"))]
    assert [f.get("b") for f in aside] == ["no header line", None, None, None]  # kept
    assert [f.get("event") for f in aside[1:]] == ["0,0,0:[not an object]", "garbage", "0,0,0:{"]
    assert aside[0]["from"] == stream


async def test_while_an_older_version_is_live_events_are_written_its_way(
    redis_server: RedisServer, pair: Pair
) -> None:
    one, link, stream = await pair.alone(redis_server.url, "session_i")
    assert one.inbox.leases.everyone_reads_batches
    # An instance of an earlier version heartbeats into the instances only.
    now_ms = int(time.time() * 1000)
    await link.client.zadd(link.key("instances"), {"older": now_ms + 60_000})
    await eventually(lambda: not one.inbox.leases.everyone_reads_batches)
    await put(one, "session_i", "for everyone", 31)
    await eventually(lambda: one.texts() == ["for everyone"])
    [(_, fields)] = await link.client.xrange(stream)
    assert set(fields) == {"n", "p", "s", "r"}  # what the older version reads
    one.inbox.done(one.got[0])
    await link.client.zrem(link.key("instances"), "older")
    await eventually(lambda: one.inbox.leases.everyone_reads_batches)
    await put(one, "session_i", "batched again", 32)
    await eventually(lambda: one.texts()[-1:] == ["batched again"])
    [(_, fields)] = await link.client.xrange(stream)
    assert set(fields) == {"b"}


async def test_a_read_hands_over_no_more_than_the_limit_on_events_in_flight_leaves_room_for(
    redis_server: RedisServer, pair: Pair
) -> None:
    one = await pair.add(redis_server.url, in_flight=10)
    stored = [
        one.inbox.put(Entry(0, "message:send", payload("session_j", f"m{i}"), "webhook"), None)
        for i in range(300)
    ]
    await asyncio.gather(*[s for s in stored if s is not None])  # entries of up to 32 events
    done = 0
    peak = 0
    while done < 300:
        await eventually(lambda d=done: len(one.got) > d)
        peak = max(peak, len(one.got) - done)
        for entry in one.got[done:]:
            one.inbox.done(entry)
        done = len(one.got)
    assert one.texts() == [f"m{i}" for i in range(300)]  # in order, every one
    assert peak <= 10 + ENTRY_MAX


async def test_what_an_instance_stored_comes_back_to_it_as_put_and_others_read_it(
    redis_server: RedisServer, pair: Pair
) -> None:
    one = await pair.add(redis_server.url)
    parsed = object()  # what the dispatcher would have made of it
    mine = Entry(0, "message:send", payload("session_g", "kept here"), "webhook", False, parsed)
    stored = one.inbox.put(mine, None)
    assert stored is not None
    await stored
    await eventually(lambda: one.texts() == ["kept here"])
    assert one.got[0] is mine and mine.event is parsed  # neither read back nor parsed
    assert str(mine.id).startswith(f"{partition_of(WEBSITE, 'session_g', 4)}/")
    # Put by an instance that owns none of the partitions: read from Redis by the owner.
    two = await pair.add(redis_server.url)
    theirs = Entry(0, "message:send", payload("session_g", "from two"), "webhook", False, parsed)
    stored = two.inbox.put(theirs, None)
    assert stored is not None
    await stored
    await eventually(lambda: one.texts() == ["kept here", "from two"])
    assert one.got[1] is not theirs and one.got[1].event is None
    assert theirs.event is None  # let go once stored: nothing of it is kept on two


@pytest.mark.parametrize(
    ("name", "source"),
    [("message:send", "webhook"), ("odd:na,me\n:with 3:0:", "so:ur,ce"), ("été ✓", "")],
)
def test_a_batch_keeps_any_name_source_and_payload(name: str, source: str) -> None:
    body = {"website_id": WEBSITE, "text": "line\nbreak \udc80 ✓", "x": float("nan"), "n": 2**70}
    first = entry_value(Entry(0, name, body, source, True))
    second = entry_value(Entry(0, "message:send", {"text": "ünïcode"}, "rtm"))
    text = batch_value(b"elsewhere.1", [first, second]).decode()  # valid UTF-8 throughout
    origin, events = read_batch({"b": text})
    assert origin == "elsewhere.1" and [k for k, _ in events] == [0, 1]
    got_name, got_source, again, got = read_value(events[0][1])
    assert (got_name, got_source, again) == (name, source, True)
    assert got["text"] == body["text"] and got["n"] == 2**70 and math.isnan(got["x"])
    assert read_value(events[1][1]) == ("message:send", "rtm", False, {"text": "ünïcode"})
    assert [k for k, _ in read_batch({"b": text, "x": "0"})[1]] == [1]  # a duplicate: skipped


@pytest.mark.parametrize("value", ["", "x", "1,2:", "a,b,c:xyz", "-1,0,0:{}", "0,0,0:[1]"])
def test_a_value_that_is_not_an_event_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        read_value(value)


@pytest.mark.parametrize(
    "text", ["", "no newline", "o 5\nab", "o x\n", "o 2,-1\nabc", "1\n1", "o \nx"]
)
def test_a_batch_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        read_batch({"b": text})


async def test_duplicates_within_one_flush_and_a_flush_of_only_duplicates_store_nothing(
    redis_server: RedisServer, pair: Pair
) -> None:
    one = await pair.add(redis_server.url)
    parsed = object()
    same = [
        Entry(0, "message:send", payload("session_h", text), "webhook", False, parsed)
        for text in ("first", "copy of first", "second")
    ]
    stored = [one.inbox.put(e, k) for e, k in zip(same, (21, 21, 22), strict=True)]
    await asyncio.gather(*[s for s in stored if s is not None])  # one flush, one batch
    await eventually(lambda: sorted(one.texts()) == ["first", "second"])
    assert same[1].event is None  # a duplicate: not kept to be handed back
    again = one.inbox.put(Entry(0, "message:send", payload("session_h", "x"), "webhook"), 22)
    assert again is not None
    await again  # every event of the flush a duplicate: no entry at all
    link = pair.links[0]
    stream = stream_of(link, "session_h")
    assert await link.client.xlen(stream) == 1 and len(one.got) == 2


async def test_an_entry_fenced_by_a_late_renewal_is_handed_over_again_once_renewed(
    redis_server: RedisServer, pair: Pair
) -> None:
    one = await pair.add(redis_server.url)
    await put(one, "session_k", "fenced then run", None)
    await eventually(lambda: one.texts() == ["fenced then run"])
    first = one.got[0]
    p = partition_of(WEBSITE, "session_k", 4)
    # The renewal is late: by this process's clock the lease ran out, Redis still has it.
    one.inbox.leases._renewed[p] = time.monotonic() - 60
    assert not one.inbox.current(first) and p in one.inbox.leases.owned
    one.inbox.fenced(first)  # what the dispatcher does with an event it may not run
    await eventually(lambda: len(one.got) == 2, timeout=10)  # renewed, then read again
    again = one.got[1]
    assert again.payload["content"] == "fenced then run" and again.redelivery
    assert one.inbox.current(again)
    one.inbox.done(again)
    await until_emptied(pair.links[0], stream_of(pair.links[0], "session_k"))
