"""RTM that misses nothing: visitors keep writing while the relay is away, and every
message is answered once, in order, late rather than never (``[rtm.backfill]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
from backfill_kit import Echo, Visitors, assert_each_answered_once_in_order, wait_for_replies
from transport_kit import eventually, settings_for

from crisp_plugin.runner import Runner
from crisp_plugin.sandbox import Sandbox

RATE = 100.0  # visitor messages a second, over all conversations


async def _run(sandbox: Sandbox, transport: str = "rtm", **sections: dict[str, Any]) -> Runner:
    runner = Runner(settings_for(sandbox, transport, **sections), plugin_class=Echo)
    await runner.start()
    return runner


def _bot(runner: Runner) -> Echo:
    assert isinstance(runner.plugin, Echo)
    return runner.plugin


async def _sessions(sandbox: Sandbox, count: int) -> list[str]:
    return [await sandbox.control.create_conversation() for _ in range(count)]


async def _outage_while_writing(sandbox: Sandbox, outage: float) -> None:
    runner = await _run(sandbox)
    try:
        assert runner.backfill is not None and runner.rtm is not None
        visitors = Visitors(sandbox.control, await _sessions(sandbox, 10), RATE)
        visitors.start()
        await eventually(lambda: visitors.count >= 50)
        await sandbox.control.relay_outage(outage)
        await eventually(lambda: runner.rtm is not None and runner.rtm.auth_count >= 2, 10 + outage)
        await eventually(lambda: visitors.count >= 50 + RATE)  # a second of live traffic
        written = await visitors.stop()
        replies = await wait_for_replies(sandbox.control, visitors)
        bot = _bot(runner)
        assert_each_answered_once_in_order(bot, visitors, replies)
        recovery = runner.backfill.recovery
        await recovery.wait_idle()
        [gap] = runner.backfill.tracker.gaps
        assert gap.cause == "drop" and gap.seconds >= outage * 0.9
        [report] = recovery.reports
        assert report.complete and report.calls > 0
        assert bot.recovered, "the gap's messages came from the recovery"
        print(
            f"\nrelay away {outage} s at {RATE:g} messages/s: {written} written, gap "
            f"{gap.seconds:.2f} s, {len(bot.recovered)} recovered, {report.calls} REST calls"
        )
    finally:
        await runner.stop()


async def test_a_half_second_outage_loses_nothing(sandbox: Sandbox) -> None:
    await _outage_while_writing(sandbox, 0.5)


async def test_a_five_second_outage_loses_nothing(sandbox: Sandbox) -> None:
    await _outage_while_writing(sandbox, 5.0)


async def test_a_ten_second_stop_and_restart_loses_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    files = {
        "state": {"backend": "sqlite", "path": str(tmp_path / "state.sqlite3")},
        "inbox": {"backend": "sqlite", "path": str(tmp_path / "inbox.sqlite3")},
    }
    visitors = Visitors(sandbox.control, await _sessions(sandbox, 10), RATE)
    first = await _run(sandbox, **files)
    try:
        visitors.start()
        await eventually(lambda: visitors.count >= RATE)
    finally:
        await first.stop()
    stopped_at = visitors.count
    await eventually(lambda: visitors.count >= stopped_at + 10 * RATE, 20)  # 10 s stopped
    second = await _run(sandbox, **files)
    try:
        assert second.backfill is not None
        await eventually(lambda: visitors.count >= stopped_at + 11 * RATE, 10)
        written = await visitors.stop()
        replies = await wait_for_replies(sandbox.control, visitors)
        bot = _bot(second)
        for session, texts in _bot(first).seen.items():  # both runs, in order
            bot.seen[session][:0] = texts
        assert_each_answered_once_in_order(bot, visitors, replies)
        await second.backfill.recovery.wait_idle()
        [gap] = second.backfill.tracker.gaps
        assert gap.cause == "restart" and gap.seconds >= 10
        [report] = second.backfill.recovery.reports
        assert report.complete
        print(
            f"\nstopped {gap.seconds:.1f} s at {RATE:g} messages/s: {written} written, "
            f"{len(bot.recovered)} recovered, {report.calls} REST calls"
        )
    finally:
        await second.stop()


async def test_with_both_what_a_hook_delivered_during_the_gap_is_not_handled_again(
    sandbox: Sandbox,
) -> None:
    runner = await _run(sandbox, "both")
    try:
        assert runner.backfill is not None and runner.webhooks is not None
        assert runner.rtm is not None and runner.dispatcher is not None
        await sandbox.control.add_hook(runner.webhooks.url)
        visitors = Visitors(sandbox.control, await _sessions(sandbox, 10), RATE)
        visitors.start()
        await eventually(lambda: visitors.count >= 50)
        await sandbox.control.relay_outage(4.0)
        during = visitors.count
        await eventually(lambda: visitors.count >= during + RATE)  # a second in the gap
        await visitors.stop()
        await sandbox.wait_hooks()  # each of them delivered by hook, while the relay is away
        assert sandbox.relay.away_for > 0, "the relay came back before the hooks were in"
        await eventually(lambda: runner.rtm is not None and runner.rtm.auth_count >= 2, 10)
        replies = await wait_for_replies(sandbox.control, visitors)
        recovery = runner.backfill.recovery
        await recovery.wait_idle()
        await runner.dispatcher.wait_idle()
        bot = _bot(runner)
        assert_each_answered_once_in_order(bot, visitors, replies)
        [report] = recovery.reports
        assert report.complete and report.messages >= RATE  # the gap's messages, read again
        assert bot.recovered == []  # each had come by hook: dropped as duplicates
    finally:
        await runner.stop()


async def test_recovery_stops_at_its_call_budget_and_says_what_it_left(
    sandbox: Sandbox,
) -> None:
    runner = await _run(sandbox, rtm={"backfill": {"max_calls_per_gap": 3}})
    try:
        assert runner.backfill is not None and runner.rtm is not None
        sessions = await _sessions(sandbox, 5)
        with structlog.testing.capture_logs() as logs:
            await sandbox.control.relay_outage(0.3)
            for session in sessions:
                await sandbox.control.visitor_says(None, session, "while away")
            await eventually(lambda: runner.rtm is not None and runner.rtm.auth_count >= 2, 10)
            recovery = runner.backfill.recovery
            await eventually(lambda: bool(recovery.reports), 10)
        [report] = recovery.reports
        assert not report.complete and report.calls == 3
        assert "max_calls_per_gap" in (report.error or "")
        # websites listed (2 calls), their conversations (1): none of the 5 read
        assert _bot(runner).seen == {}
        [warning] = [e for e in logs if e["event"].startswith("recovery cut short")]
        assert warning["log_level"] == "warning" and warning["calls"] == 3
        assert warning["reason"] == "rtm.backfill.max_calls_per_gap (3) spent"
        website = sandbox.websites[0]
        assert {f"{website}/{s}" for s in sessions} <= set(warning["not_recovered"])
    finally:
        await runner.stop()
