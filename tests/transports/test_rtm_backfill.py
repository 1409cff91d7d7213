"""RTM that misses nothing: visitors keep writing while the relay is away, and every
message is answered once, in order, late rather than never (``[rtm.backfill]``)."""

from __future__ import annotations

from typing import Any

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
