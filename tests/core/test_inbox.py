"""The inbox: the SQLite one keeps accepted events until handled, hands back what was
pending in order, with the dedupe keys and sent fingerprints; the dispatcher queues an
event only once it is stored, and replays a crashed run's events first."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from core_helpers import message

from crisp_plugin import Config, Plugin, on
from crisp_plugin.dispatch import Dispatcher
from crisp_plugin.events import MessageReceived, MessageSend
from crisp_plugin.inbox import Entry, InboxUnavailable, SqliteInbox, stable_key


def config(**dispatch: Any) -> Config:
    return Config.model_validate({"plugin": {"urn": "urn:test:bot:1"}, "dispatch": dispatch})


class Recorder(Plugin):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[str | None, int]] = []
        self.gate: asyncio.Event | None = None

    @on("message:send")
    async def handle(self, event: MessageSend) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.seen.append((event.session_id, event.fingerprint))

    @on("message:received")
    async def operator(self, event: MessageReceived) -> None:
        self.seen.append(("operator", event.fingerprint))


async def test_entries_come_back_in_order_until_done(tmp_path: Path) -> None:
    inbox = SqliteInbox(tmp_path / "inbox.sqlite3")
    assert (await inbox.open()).pending == []
    entries = [Entry(0, "message:send", {"n": i}, "webhook") for i in range(5)]
    await asyncio.gather(*[inbox.put(e, stable_key(("k", i))) for i, e in enumerate(entries)])
    assert inbox.depth == 5
    inbox.done(entries[1])
    inbox.done(entries[3])
    inbox.sent(stable_key(("sent", 1)))
    await inbox.close()

    again = SqliteInbox(tmp_path / "inbox.sqlite3")
    recovered = await again.open()
    assert [e.payload["n"] for e in recovered.pending] == [0, 2, 4]
    assert sorted(recovered.dedupe_keys) == sorted(stable_key(("k", i)) for i in range(5))
    assert recovered.sent_keys == [stable_key(("sent", 1))]
    new = Entry(0, "message:send", {"n": 5}, "rtm")
    await again.put(new, None)  # ids go on after the old ones: order holds across runs
    assert new.id > recovered.pending[-1].id
    await again.close()


async def test_an_inbox_file_is_one_running_instances(tmp_path: Path) -> None:
    first = SqliteInbox(tmp_path / "inbox.sqlite3")
    await first.open()
    with pytest.raises(InboxUnavailable, match="in use by another running instance"):
        await SqliteInbox(tmp_path / "inbox.sqlite3").open()
    await first.close()
    second = SqliteInbox(tmp_path / "inbox.sqlite3")
    await second.open()  # free again once the first closed (or died: the OS drops locks)
    await second.close()


async def test_a_write_that_fails_refuses_the_event_and_the_inbox_recovers(
    tmp_path: Path,
) -> None:
    inbox = SqliteInbox(tmp_path / "inbox.sqlite3")
    await inbox.open()
    lock = sqlite3.connect(tmp_path / "inbox.sqlite3", timeout=0)
    lock.execute("BEGIN EXCLUSIVE")  # another writer holds the file: writes fail
    try:
        with pytest.raises(InboxUnavailable, match="SQLite says"):
            await inbox.put(Entry(0, "message:send", {"n": 1}), None)
    finally:
        lock.rollback()
        lock.close()
    await inbox.put(Entry(0, "message:send", {"n": 2}), None)  # works again
    assert inbox.failure is None
    await inbox.close()


async def test_the_dispatcher_queues_an_event_once_it_is_stored(tmp_path: Path) -> None:
    plugin = Recorder(config())
    dispatcher = Dispatcher(plugin, inbox=SqliteInbox(tmp_path / "inbox.sqlite3"))
    await dispatcher.recover()
    accepted = dispatcher.feed("message:send", message("s", 1), "webhook")
    assert isinstance(accepted, asyncio.Future)
    assert plugin.seen == []  # not handled before it is stored
    assert await accepted is True
    await dispatcher.wait_idle()
    assert plugin.seen == [("s", 1)]
    await dispatcher.inbox.close()


async def test_a_crashed_runs_events_are_handled_first_and_its_keys_remembered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "inbox.sqlite3"
    first = Recorder(config())
    first.gate = asyncio.Event()  # handlers hang: as if the process died in them
    crashed = Dispatcher(first, inbox=SqliteInbox(path))
    await crashed.recover()
    for i in range(1, 4):
        assert await crashed.feed("message:send", message("s", i), "webhook") is True
    crashed.echoes.message_sent("website_1", "s", 99)  # the plugin sent message 99
    await asyncio.sleep(0)
    await crashed.inbox.close()  # what a kill -9 leaves on disk: stored, not done

    second = Recorder(config())
    dispatcher = Dispatcher(second, inbox=SqliteInbox(path))
    assert await dispatcher.recover() == 3
    assert await dispatcher.feed("message:send", message("s", 4), "webhook") is True
    again = dispatcher.feed("message:send", message("s", 2), "webhook", redelivery=True)
    assert again is True  # Crisp delivers event 2 again: a known key, dropped at once
    await dispatcher.feed("message:received", message("s", 99, origin="chat"), "rtm")
    await dispatcher.wait_idle()
    assert second.seen == [("s", 1), ("s", 2), ("s", 3), ("s", 4)]  # its echo: dropped
    assert dispatcher.stats.duplicates == {"message:send": 1}
    assert dispatcher.stats.echoes == {"message:received": 1}
    await dispatcher.inbox.close()
    assert (await SqliteInbox(path).open()).pending == []  # all done now


async def test_without_message_dedupe_no_key_is_kept_and_each_copy_runs(tmp_path: Path) -> None:
    path = tmp_path / "inbox.sqlite3"
    plugin = Recorder(config(dedupe_ttl=0))
    dispatcher = Dispatcher(plugin, inbox=SqliteInbox(path))
    await dispatcher.recover()
    for _ in range(2):  # the same message twice: both run, nothing remembers the first
        assert await dispatcher.feed("message:send", message("s", 1), "webhook") is True
    await dispatcher.wait_idle()
    assert plugin.seen == [("s", 1), ("s", 1)]
    await dispatcher.drain(1.0)  # (its parked worker goes: nothing left pending)
    await dispatcher.inbox.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM crisp_seen").fetchone() == (0,)


async def test_a_refused_store_forgets_the_dedupe_key_so_the_redelivery_gets_in(
    tmp_path: Path,
) -> None:
    plugin = Recorder(config())
    dispatcher = Dispatcher(plugin, inbox=SqliteInbox(tmp_path / "inbox.sqlite3"))
    await dispatcher.recover()
    lock = sqlite3.connect(tmp_path / "inbox.sqlite3", timeout=0)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        assert await dispatcher.feed("message:send", message("s", 7), "webhook") is False
    finally:
        lock.rollback()
        lock.close()
    assert await dispatcher.feed("message:send", message("s", 7), "webhook", True) is True
    await dispatcher.wait_idle()
    assert plugin.seen == [("s", 7)]
    assert dispatcher.stats.rejected == {"message:send": 1}
    await dispatcher.inbox.close()


async def test_ack_on_handled_answers_once_the_handlers_finished() -> None:
    plugin = Recorder(config())
    plugin.gate = asyncio.Event()
    dispatcher = Dispatcher(plugin, ack_handled=True)
    accepted = dispatcher.feed("message:send", message("s", 1), "webhook")
    assert isinstance(accepted, asyncio.Future)
    await asyncio.sleep(0.05)
    assert not accepted.done()  # the handler is still running
    plugin.gate.set()
    assert await accepted is True
    # at the drain deadline, what was not handled is answered False (a 503: redelivered)
    plugin.gate.clear()
    waiting = dispatcher.feed("message:send", message("s", 2), "webhook")
    assert isinstance(waiting, asyncio.Future)
    assert await dispatcher.drain(0.05) is False
    assert await waiting is False


async def test_the_memory_inbox_refuses_hooks_a_drain_could_not_finish() -> None:
    plugin = Recorder(config(concurrency=2, drain_timeout=1.0, handler_timeout=0.5))
    plugin.gate = asyncio.Event()
    dispatcher = Dispatcher(plugin)
    fed = [dispatcher.feed("message:send", message(f"s{i}", i), "webhook") for i in range(6)]
    # not learned yet: one round of `concurrency` events at the worst (handler_timeout),
    # and one round more fits the one-second budget
    assert fed == [True, True, True, True, False, False]
    rtm = [dispatcher.feed("message:send", message(f"r{i}", 10 + i), "rtm") for i in range(3)]
    assert rtm == [True, True, True]  # never refused: the relay would not deliver them again
    assert dispatcher.stats.rejected == {"message:send": 2}
    plugin.gate.set()
    await dispatcher.wait_idle()
