"""The Dispatcher: order per conversation, concurrency across, dedupe, echoes, errors, drain.

Plugins are built with ``rest=None`` and fed directly: the dispatcher's own boundary.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from core_helpers import message
from structlog.testing import capture_logs

from crisp_plugin import Config, EventError, Plugin, on
from crisp_plugin.dispatch import Dispatcher
from crisp_plugin.events import Event, GenericEvent, MessageSend
from crisp_plugin.observer import Observer
from crisp_plugin.rest import RestClient
from crisp_plugin.sandbox import Sandbox
from tests.waiting import until


def settings(**dispatch: Any) -> Config:
    return Config.model_validate({"plugin": {"urn": "urn:test:bot:1"}, "dispatch": dispatch})


class Recorder(Plugin):
    """Records (handler, session, fingerprint) in the order handlers finish."""

    def __init__(self, config: Config | None = None) -> None:
        super().__init__(config or settings())
        self.done: list[tuple[str, str | None, int]] = []
        self.errors: list[tuple[Event, BaseException]] = []

    async def on_error(self, event: Event, exc: BaseException) -> None:
        self.errors.append((event, exc))


async def test_a_raising_handler_does_not_stop_others_or_later_events() -> None:

    class Bot(Recorder):
        @on("message:send")
        async def broken(self, event: MessageSend) -> None:
            if event.fingerprint == 1:
                raise RuntimeError("boom")

        @on("message:send")
        async def fine(self, event: MessageSend) -> None:
            self.done.append(("fine", event.session_id, event.fingerprint))

    plugin = Bot()
    dispatcher = Dispatcher(plugin)
    with capture_logs() as logs:
        assert dispatcher.feed("message:send", message("s1", 1))
        assert dispatcher.feed("message:send", message("s1", 2))
        await dispatcher.wait_idle()
    assert plugin.done == [("fine", "s1", 1), ("fine", "s1", 2)]
    assert len(plugin.errors) == 1
    event, exc = plugin.errors[0]
    assert event.session_id == "s1" and isinstance(exc, RuntimeError)
    failure = [line for line in logs if line.get("outcome") == "error"]
    assert len(failure) == 1
    assert failure[0]["name"] == "message:send"
    assert failure[0]["website_id"] == "website_1"
    assert failure[0]["session_id"] == "s1"
    assert failure[0]["handler"] == "Bot.broken"
    assert failure[0]["log_level"] == "error"
    assert "boom" in failure[0]["error"]
    ok = [line for line in logs if line.get("outcome") == "ok"]
    assert len(ok) == 3 and all("duration_ms" in line for line in ok)
    assert dispatcher.stats.failed == {"message:send": 1}
    assert dispatcher.stats.handled == {"message:send": 1}


async def test_one_conversation_runs_in_order_even_when_the_first_is_slowest() -> None:
    class Bot(Recorder):
        @on("message:send")
        async def handle(self, event: MessageSend) -> None:
            # The first message of each conversation is the slowest.
            await asyncio.sleep(0.05 if event.fingerprint == 1 else 0)
            self.done.append(("handle", event.session_id, event.fingerprint))

    plugin = Bot()
    dispatcher = Dispatcher(plugin)
    for fingerprint in (1, 2, 3, 4):
        for session in ("a", "b"):
            dispatcher.feed("message:send", message(session, fingerprint))
    await dispatcher.wait_idle()
    for session in ("a", "b"):
        assert [f for _, s, f in plugin.done if s == session] == [1, 2, 3, 4]


async def test_a_thousand_conversations_run_concurrently() -> None:
    total = 1000
    arrived = 0
    everyone_in = asyncio.Event()

    class Bot(Recorder):
        @on("message:send")
        async def handle(self, event: MessageSend) -> None:
            nonlocal arrived
            arrived += 1
            if arrived == total:
                everyone_in.set()
            # Each handler waits for all the others: only possible if all run at once.
            await asyncio.wait_for(everyone_in.wait(), 10)
            self.done.append(("handle", event.session_id, event.fingerprint))

    plugin = Bot(settings(concurrency=total))
    dispatcher = Dispatcher(plugin)
    for i in range(total):
        assert dispatcher.feed("message:send", message(f"s{i}", 1))
    await asyncio.wait_for(dispatcher.wait_idle(), 20)
    assert len(plugin.done) == total and not plugin.errors


async def test_new_conversations_of_one_read_share_a_worker_unless_their_handlers_wait() -> None:
    waiting = 0
    release = asyncio.Event()
    all_waiting = asyncio.Event()

    class Bot(Recorder):
        @on("message:send")
        async def handle(self, event: MessageSend) -> None:
            nonlocal waiting
            if event.fingerprint >= 100:  # the second batch waits on each other
                waiting += 1
                if waiting == 50:
                    all_waiting.set()
                await asyncio.wait_for(release.wait(), 10)
            self.done.append(("handle", event.session_id, event.fingerprint))

    plugin = Bot(settings(concurrency=100))
    dispatcher = Dispatcher(plugin)
    assert dispatcher.feed("message:send", message("warm", 1))
    await dispatcher.wait_idle()
    assert len(dispatcher._workers) == 1  # parked, for the next conversation

    # 50 new conversations fed in one go, as from one read of many connections: the
    # woken worker takes them one after the other (handlers that do not wait).
    for i in range(50):
        assert dispatcher.feed("message:send", message(f"a{i}", 2))
    await asyncio.wait_for(dispatcher.wait_idle(), 10)
    assert len(plugin.done) == 51 and len(dispatcher._workers) == 1

    # 50 more whose handlers wait: the ones left behind go to more workers, all at once.
    for i in range(50):
        assert dispatcher.feed("message:send", message(f"b{i}", 100 + i))
    await asyncio.wait_for(all_waiting.wait(), 10)
    assert len(dispatcher._workers) == 50 and dispatcher.active_conversations == 50
    release.set()
    await asyncio.wait_for(dispatcher.wait_idle(), 10)
    assert len(plugin.done) == 101 and not plugin.errors
    assert await dispatcher.drain(1.0)


async def test_a_drain_gives_conversations_lined_up_for_a_spill_to_parked_workers() -> None:
    gate: asyncio.Event | None = asyncio.Event()
    waiting = 0

    class Bot(Recorder):
        @on("message:send")
        async def handle(self, event: MessageSend) -> None:
            nonlocal waiting
            if gate is not None:  # the warm-up: six workers, each held, then parked
                waiting += 1
                await gate.wait()
            else:
                await asyncio.sleep(0.3)
            self.done.append(("handle", event.session_id, event.fingerprint))

    plugin = Bot(settings(concurrency=6))  # the six parked are all the workers allowed
    dispatcher = Dispatcher(plugin)
    for i in range(6):
        assert dispatcher.feed("message:send", message(f"warm{i}", 1))
    await until(lambda: waiting == 6)
    gate.set()
    gate = None
    await dispatcher.wait_idle()
    assert len(dispatcher._parked) == 6
    # Six new conversations in one go: the first wakes a worker, the others line up for
    # the spill; the drain starts before the loop runs either. Each must get a worker:
    # one after the other on the first, 1.8 s, would pass the 1 s deadline.
    for i in range(6):
        assert dispatcher.feed("message:send", message(f"late{i}", 2))
    assert await dispatcher.drain(1.0)
    assert len(plugin.done) == 12 and not plugin.errors


async def test_concurrency_is_bounded_and_nothing_lingers_afterwards() -> None:
    running = peak = 0

    class Bot(Recorder):
        @on("message:send")
        async def handle(self, event: MessageSend) -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.001)
            running -= 1
            self.done.append(("handle", event.session_id, event.fingerprint))

    plugin = Bot(settings(concurrency=10, dedupe_max=500))
    dispatcher = Dispatcher(plugin)
    for i in range(2000):
        assert dispatcher.feed("message:send", message(f"s{i % 400}", i))
    await dispatcher.wait_idle()
    assert peak == 10
    assert len(plugin.done) == 2000
    # Bounded memory: no queue, dedupe keys capped, and no worker but the few parked
    # for the next conversations (never more than concurrency), which a drain lets go.
    assert dispatcher.active_conversations == 0 and dispatcher.in_flight == 0
    assert 0 < len(dispatcher._workers) <= 10
    assert len(dispatcher.dedupe) <= 500
    parked = list(dispatcher._workers)
    assert await dispatcher.drain(1.0)
    await asyncio.wait_for(asyncio.gather(*parked), 5)
    assert not dispatcher._workers


async def test_a_redelivered_message_inside_the_ttl_runs_once() -> None:
    class Bot(Recorder):
        @on("message:send")
        async def handle(self, event: MessageSend) -> None:
            self.done.append(("handle", event.session_id, event.fingerprint))

    plugin = Bot(settings(dedupe_ttl=0.2))
    dispatcher = Dispatcher(plugin)
    assert dispatcher.feed("message:send", message("s", 5), source="rtm")
    assert dispatcher.feed("message:send", message("s", 5), source="webhook")
    await dispatcher.wait_idle()
    assert plugin.done == [("handle", "s", 5)]
    assert dispatcher.stats.duplicates == {"message:send": 1}
    await asyncio.sleep(0.25)  # past the TTL: a new delivery runs again
    assert dispatcher.feed("message:send", message("s", 5))
    await dispatcher.wait_idle()
    assert len(plugin.done) == 2


async def test_other_events_repeat_from_one_source_but_pair_across_sources() -> None:
    seen: list[str] = []

    class Bot(Recorder):
        @on("session:set_state")
        async def state_changed(self, event: Any) -> None:
            seen.append(event.state)

        @on("message:compose:send")
        async def composing(self, event: Any) -> None:
            seen.append(event.raw["type"])

    plugin = Bot()
    dispatcher = Dispatcher(plugin)
    resolved = {"website_id": "w", "session_id": "s", "state": "resolved"}
    for state in ("resolved", "unresolved", "resolved"):  # one source: all genuine
        dispatcher.feed("session:set_state", {**resolved, "state": state}, "rtm")
    compose = {"website_id": "w", "session_id": "s", "excerpt": ""}
    for kind in ("start", "stop", "start", "stop"):
        dispatcher.feed("message:compose:send", {**compose, "type": kind}, "webhook")
    await dispatcher.wait_idle()
    assert seen == ["resolved", "unresolved", "resolved", "start", "stop", "start", "stop"]
    # transport = both: each event comes once per source, and runs once
    seen.clear()
    dispatcher.feed("session:set_state", resolved, "rtm")
    dispatcher.feed("session:set_state", dict(resolved), "webhook")
    dispatcher.feed("session:set_state", dict(resolved), "webhook")  # a new one
    dispatcher.feed("session:set_state", dict(resolved), "rtm")  # its RTM copy
    await dispatcher.wait_idle()
    assert seen == ["resolved", "resolved"]
    # a hook redelivery (attempt 2+) of an event already taken is dropped
    seen.clear()
    unresolved = {**resolved, "session_id": "s2", "state": "unresolved"}
    dispatcher.feed("session:set_state", unresolved, "webhook")
    dispatcher.feed("session:set_state", dict(unresolved), "webhook", redelivery=True)
    await dispatcher.wait_idle()
    assert seen == ["unresolved"]


async def test_the_plugins_own_messages_are_dropped_as_echoes() -> None:
    class Bot(Recorder):
        @on("message:received")
        async def operator_said(self, event: Any) -> None:
            self.done.append(("op", event.session_id, event.fingerprint))

    plugin = Bot()
    dispatcher = Dispatcher(plugin)
    dispatcher.feed("message:received", message("s", 1, origin="urn:test:bot:1"))
    dispatcher.echoes.message_sent("website_1", "s", 2)  # the REST client reports sends
    dispatcher.feed("message:received", message("s", 2, origin="chat"))
    dispatcher.feed("message:received", message("s", 3, origin="chat"))  # a human
    await dispatcher.wait_idle()
    assert plugin.done == [("op", "s", 3)]
    assert dispatcher.stats.echoes == {"message:received": 2}


async def test_echoes_are_kept_when_drop_echoes_is_off() -> None:
    class Bot(Recorder):
        @on("message:received")
        async def operator_said(self, event: Any) -> None:
            self.done.append(("op", event.session_id, event.fingerprint))

    plugin = Bot(settings(drop_echoes=False))
    dispatcher = Dispatcher(plugin)
    dispatcher.feed("message:received", message("s", 1, origin="urn:test:bot:1"))
    await dispatcher.wait_idle()
    assert plugin.done == [("op", "s", 1)]


async def test_a_slow_handler_times_out_and_reaches_on_error() -> None:
    class Bot(Recorder):
        @on("message:send")
        async def slow(self, event: MessageSend) -> None:
            await asyncio.sleep(5)

        @on("message:send")
        async def after(self, event: MessageSend) -> None:
            self.done.append(("after", event.session_id, event.fingerprint))

    plugin = Bot(settings(handler_timeout=0.05))
    dispatcher = Dispatcher(plugin)
    with capture_logs() as logs:
        dispatcher.feed("message:send", message("s", 1))
        await dispatcher.wait_idle()
    assert plugin.done == [("after", "s", 1)]
    [(_, exc)] = plugin.errors
    assert isinstance(exc, TimeoutError) and "handler_timeout" in str(exc)
    assert [line["handler"] for line in logs if line.get("outcome") == "timeout"] == ["Bot.slow"]
    assert dispatcher.stats.timeouts == {"message:send": 1}


async def test_an_exception_in_on_error_is_logged_and_goes_no_further() -> None:
    class Bot(Plugin):
        done: list[int] = []

        @on("message:send")
        async def broken(self, event: MessageSend) -> None:
            if event.fingerprint == 1:
                raise ValueError("handler")
            self.done.append(event.fingerprint)

        async def on_error(self, event: Event, exc: BaseException) -> None:
            raise RuntimeError("hook")

    plugin = Bot(settings())
    dispatcher = Dispatcher(plugin)
    with capture_logs() as logs:
        dispatcher.feed("message:send", message("s", 1))
        dispatcher.feed("message:send", message("s", 2))
        await dispatcher.wait_idle()
    assert plugin.done == [2]
    hook = [line for line in logs if line["event"] == "on_error hook failed"]
    assert len(hook) == 1 and "hook" in hook[0]["error"] and hook[0]["session_id"] == "s"


async def test_filters_select_events() -> None:
    class Bot(Recorder):
        @on("message:send", text=r"(?i)\bprice\b")
        async def text(self, event: MessageSend) -> None:
            self.done.append(("text", event.session_id, event.fingerprint))

        @on("message:send", type=["file", "audio"])
        async def files(self, event: MessageSend) -> None:
            self.done.append(("files", event.session_id, event.fingerprint))

        @on("message:*", origin="email", website="w2")
        async def email(self, event: MessageSend) -> None:
            self.done.append(("email", event.session_id, event.fingerprint))

        @on("message:send", when=lambda event: event.fingerprint > 100)
        async def sync_predicate(self, event: MessageSend) -> None:
            self.done.append(("sync", event.session_id, event.fingerprint))

        @on("message:send", when=lambda e: e.fingerprint == 7)
        async def predicate_again(self, event: MessageSend) -> None:
            self.done.append(("again", event.session_id, event.fingerprint))

    async def is_vip(event: MessageSend) -> bool:
        await asyncio.sleep(0)
        return event.session_id == "vip"

    plugin = Bot()

    @plugin.on("message:send", when=is_vip)
    async def vip(event: MessageSend) -> None:
        plugin.done.append(("vip", event.session_id, event.fingerprint))

    dispatcher = Dispatcher(plugin)
    dispatcher.feed("message:send", message("s", 1, "What's the PRICE?"))
    dispatcher.feed("message:send", message("s", 2, "no match"))
    file_msg = message("s", 3, name_type="file")
    file_msg["content"] = {"name": "price.pdf", "url": "https://x", "type": "application/pdf"}
    dispatcher.feed("message:send", file_msg)
    dispatcher.feed("message:send", message("e", 4, "hi", website="w2", origin="email"))
    dispatcher.feed("message:send", message("e", 5, "hi", website="w1", origin="email"))
    dispatcher.feed("message:send", message("s", 101, "late"))
    dispatcher.feed("message:send", message("vip", 6, "hello"))
    dispatcher.feed("message:send", message("s", 7, "seven"))
    await dispatcher.wait_idle()
    assert sorted(plugin.done) == sorted(
        [
            ("text", "s", 1),
            ("files", "s", 3),
            ("email", "e", 4),
            ("sync", "s", 101),
            ("vip", "vip", 6),
            ("again", "s", 7),
        ]
    )


async def test_wildcards_and_unknown_events_reach_star_handlers() -> None:
    names: list[str] = []

    class Bot(Recorder):
        @on("*")
        async def everything(self, event: Event) -> None:
            names.append(event.name)

    plugin = Bot()
    dispatcher = Dispatcher(plugin)
    dispatcher.feed("brand:new:event", {"website_id": "w", "x": 1})
    dispatcher.feed("bucket:url:upload:generated", {"from": "x", "id": "1"})
    await dispatcher.wait_idle()
    assert names == ["brand:new:event", "bucket:url:upload:generated"]


async def test_events_nobody_handles_are_accepted_and_counted() -> None:
    dispatcher = Dispatcher(Plugin(settings()))
    assert dispatcher.feed("message:send", message())
    assert dispatcher.in_flight == 0
    assert dispatcher.stats.ignored == {"message:send": 1}


async def test_malformed_payload_raises_event_error() -> None:
    dispatcher = Dispatcher(Plugin(settings()))
    with pytest.raises(EventError, match="fingerprint"):
        dispatcher.feed("message:send", message(fingerprint="x"))
    assert dispatcher.stats.malformed == {"message:send": 1}


async def test_a_full_queue_pushes_back() -> None:
    gate = asyncio.Event()

    class Bot(Recorder):
        @on("message:send")
        async def blocked(self, event: MessageSend) -> None:
            await gate.wait()

    dispatcher = Dispatcher(Bot(settings(queue_limit=3)))
    assert [dispatcher.feed("message:send", message("s", i)) for i in range(5)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert dispatcher.stats.rejected == {"message:send": 2}
    gate.set()
    await dispatcher.wait_idle()
    # The refused deliveries were not marked as seen: a retry is accepted.
    assert dispatcher.feed("message:send", message("s", 4))
    await dispatcher.wait_idle()


async def test_drain_finishes_in_flight_handlers_and_refuses_new_events() -> None:
    class Bot(Recorder):
        @on("message:send")
        async def slow(self, event: MessageSend) -> None:
            await asyncio.sleep(0.05)
            self.done.append(("slow", event.session_id, event.fingerprint))

    plugin = Bot()
    dispatcher = Dispatcher(plugin)
    for i in range(3):
        dispatcher.feed("message:send", message("s", i))
    dispatcher.feed("message:send", message("t", 9))
    assert await dispatcher.drain(5) is True
    assert len(plugin.done) == 4
    assert not dispatcher.accepting
    assert dispatcher.feed("message:send", message("s", 10)) is False


async def test_drain_deadline_cancels_what_is_left_and_says_so() -> None:
    class Bot(Recorder):
        @on("message:send")
        async def stuck(self, event: MessageSend) -> None:
            await asyncio.sleep(30)

    dispatcher = Dispatcher(Bot())
    dispatcher.feed("message:send", message("s", 1))
    dispatcher.feed("message:send", message("s", 2))
    with capture_logs() as logs:
        assert await dispatcher.drain(0.05) is False
    assert dispatcher.in_flight == 0
    [warning] = [line for line in logs if line["log_level"] == "warning"]
    assert warning["abandoned"] == 2


async def test_runtime_handlers_join_a_running_dispatcher() -> None:
    plugin = Plugin(settings())
    dispatcher = Dispatcher(plugin)
    got: list[GenericEvent | Event] = []
    assert dispatcher.feed(
        "session:set_email", {"website_id": "w", "session_id": "s", "email": "a@b"}
    )

    @plugin.on("session:set_email")
    async def remember(event: Event) -> None:
        got.append(event)

    dispatcher.feed("session:set_email", {"website_id": "w", "session_id": "s", "email": "c@d"})
    await dispatcher.wait_idle()
    assert [e.raw["email"] for e in got] == ["c@d"]


async def test_messages_the_rest_client_sent_come_back_as_echoes_and_are_dropped() -> None:
    received: list[int] = []

    class Bot(Plugin):
        @on("message:received")
        async def operator_said(self, event: Any) -> None:
            received.append(event.fingerprint)

    async with Sandbox(port=0) as sandbox:
        website = sandbox.websites[0]
        session = await sandbox.control.create_conversation(website)
        # A different origin than the plugin's URN: only the fingerprint can tell.
        async with RestClient(
            sandbox.identifier, sandbox.key, api_url=sandbox.url, urn="urn:someone:else:1"
        ) as rest:
            plugin = Bot(settings(), rest=rest)
            dispatcher = Dispatcher(plugin)
            rest.add_observer(dispatcher.echoes)  # as the runner does
            sent = await rest.send_message(website, session, "Hi from the bot")
            echo = message(session, sent.fingerprint, "Hi from the bot", website=website)
            human = message(session, sent.fingerprint + 1, "Hi from a human", website=website)
            dispatcher.feed("message:received", echo)
            dispatcher.feed("message:received", human)
            await dispatcher.wait_idle()
    assert received == [sent.fingerprint + 1]
    assert dispatcher.stats.echoes == {"message:received": 1}


async def test_observers_see_every_run_with_its_outcome() -> None:
    class Bot(Plugin):
        @on("message:send")
        async def maybe(self, event: MessageSend) -> None:
            if event.fingerprint == 2:
                raise ValueError("no")

    runs: list[tuple[str, str, str]] = []
    failures: list[tuple[str, str]] = []

    class Recording(Observer):
        def handler_ran(self, event: str, handler: str, seconds: float, outcome: str) -> None:
            runs.append((event, outcome, handler))

        def handler_failed(self, event: str, handler: str, error: BaseException) -> None:
            failures.append((handler, repr(error)))

    class Broken(Observer):
        def handler_ran(self, event: str, handler: str, seconds: float, outcome: str) -> None:
            raise ZeroDivisionError  # a broken observer changes nothing

    dispatcher = Dispatcher(Bot(settings()), observers=[Recording(), Broken()])
    dispatcher.feed("message:send", message("s", 1))
    dispatcher.feed("message:send", message("s", 2))
    await dispatcher.wait_idle()
    assert runs == [
        ("message:send", "ok", "Bot.maybe"),
        ("message:send", "error", "Bot.maybe"),
    ]
    assert failures == [("Bot.maybe", "ValueError('no')")]
    assert dispatcher.stats.handled == {"message:send": 1}
    assert dispatcher.stats.failed == {"message:send": 1}


async def test_timeouts_of_concurrent_handlers_fire_on_time_and_only_for_the_slow() -> None:
    class Bot(Recorder):
        @on("message:send")
        async def sometimes_slow(self, event: MessageSend) -> None:
            await asyncio.sleep(5 if event.fingerprint % 2 else 0.01)
            self.done.append(("ok", event.session_id, event.fingerprint))

    plugin = Bot(settings(handler_timeout=0.1))
    dispatcher = Dispatcher(plugin)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(1, 11):
        dispatcher.feed("message:send", message(f"s{i}", i))
    await dispatcher.wait_idle()
    elapsed = loop.time() - started
    # one watchdog tick (a tenth of the timeout) late at most, plus scheduling slack
    assert 0.1 <= elapsed < 0.1 + 0.01 + 0.15
    assert sorted(fp for _, _, fp in plugin.done) == [2, 4, 6, 8, 10]
    assert sorted(event.fingerprint for event, _ in plugin.errors) == [1, 3, 5, 7, 9]  # type: ignore[attr-defined]
    assert all(isinstance(exc, TimeoutError) for _, exc in plugin.errors)
    assert dispatcher.stats.timeouts == {"message:send": 5}
    # the worker tasks are not left with a pending cancellation
    dispatcher.feed("message:send", message("s2", 12))
    await dispatcher.wait_idle()
    assert ("ok", "s2", 12) in plugin.done


async def test_a_handler_that_swallows_its_timeout_and_returns_counts_as_handled() -> None:
    class Bot(Recorder):
        @on("message:send")
        async def stubborn(self, event: MessageSend) -> None:
            try:
                await asyncio.sleep(5)
            except asyncio.CancelledError:
                pass
            self.done.append(("stubborn", event.session_id, event.fingerprint))

    plugin = Bot(settings(handler_timeout=0.05))
    dispatcher = Dispatcher(plugin)
    dispatcher.feed("message:send", message("s", 1))
    dispatcher.feed("message:send", message("s", 2))
    await dispatcher.wait_idle()
    assert plugin.done == [("stubborn", "s", 1), ("stubborn", "s", 2)]
    assert plugin.errors == []
    assert dispatcher.stats.handled == {"message:send": 2}


async def test_a_payload_too_deep_to_read_is_refused_and_later_events_still_run() -> None:
    seen: list[str] = []

    class Bot(Plugin):
        @on("session:set_data")
        async def data(self, event: Event) -> None:
            seen.append(str(event.raw["data"])[:10])

    deep: Any = "x"
    for _ in range(100_000):  # deeper than json.dumps can go (a hook this deep is a 400)
        deep = {"a": deep}
    wrong: Any = "x"
    for _ in range(100_000):
        wrong = [wrong]
    dispatcher = Dispatcher(Bot(settings()))
    with pytest.raises(EventError, match="session:set_data: payload nested too deep"):
        dispatcher.feed("session:set_data", {"website_id": "w", "session_id": "s", "data": deep})
    with pytest.raises(EventError, match="session:set_data: field 'data'"):
        dispatcher.feed("session:set_data", {"website_id": "w", "session_id": "s", "data": wrong})
    dispatcher.feed("session:set_data", {"website_id": "w", "session_id": "s", "data": {"a": 1}})
    await dispatcher.wait_idle()
    assert seen == ["{'a': 1}"]
