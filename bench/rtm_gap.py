"""``python -m bench.rtm_gap``: REST calls recovery spends per second of relay gap.

Visitors write ``--rate`` messages a second (100 by default), spread over
``--conversations`` conversations (10, then 100), to a sandbox; a runner (RTM, an echo bot) answers
them. The sandbox takes the relay away for each of ``--gaps`` seconds in turn, while the
visitors keep writing; once every message is answered, the figures of that gap's
recovery are read from the runner. One process plays the sandbox, the runner and the
visitors: only the count of calls is measured, not their speed.

It prints JSON: per gap, its measured length, the messages recovered (handled late),
the conversations it read, the REST calls it spent, calls per second of gap, and
whether every message got exactly one reply. Each gap runs on a sandbox and a runner
of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from crisp_plugin import Config, Plugin, on
from crisp_plugin.events import MessageSend
from crisp_plugin.log import configure_logging
from crisp_plugin.runner import Runner
from crisp_plugin.sandbox import Sandbox, SandboxControl


class _Echo(Plugin):
    @on("message:send")
    async def answer(self, event: MessageSend) -> None:
        await event.reply(f"re: {event.text}")


async def _write(
    control: SandboxControl, sessions: list[str], rate: float, stop: asyncio.Event
) -> int:
    sent, began = 0, time.monotonic()
    while not stop.is_set():
        session = sessions[sent % len(sessions)]
        await control.visitor_says(None, session, f"m{sent}")
        sent += 1
        pause = began + sent / rate - time.monotonic()
        if pause > 0:
            try:
                await asyncio.wait_for(stop.wait(), pause)
            except TimeoutError:
                pass
    return sent


async def _until(check: Any, timeout: float) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


def _settings(sb: Sandbox) -> Config:
    return Config.model_validate(
        {
            "plugin": {"class": "bench:Unused", "urn": "urn:bench:echo:1"},
            "crisp": {"identifier": sb.identifier, "key": sb.key, "api_url": sb.url},
            "rtm": {"reconnect_delay": 0.05, "reconnect_max": 0.5},
        }
    )


async def _one_gap(
    sb: Sandbox, runner: Runner, gap: float, conversations: int, rate: float
) -> dict[str, Any]:
    assert runner.backfill is not None and runner.rtm is not None
    control = sb.control
    sessions = [await control.create_conversation() for _ in range(conversations)]
    stop = asyncio.Event()
    writer = asyncio.ensure_future(_write(control, sessions, rate, stop))
    await asyncio.sleep(0.5)  # live traffic first
    tracker, recovery = runner.backfill.tracker, runner.backfill.recovery
    auths, gaps_before, reports = runner.rtm.auth_count, len(tracker.gaps), len(recovery.reports)
    await control.relay_outage(gap)
    await _until(lambda: runner.rtm is not None and runner.rtm.auth_count > auths, gap + 15)
    await asyncio.sleep(0.5)  # live traffic after
    stop.set()
    written = await writer
    site = sb.store.websites[sb.websites[0]]

    def replies() -> list[int]:
        return [
            sum(1 for m in site.conversations[s].messages if m["from"] == "operator")
            for s in sessions
        ]

    try:
        await _until(lambda: sum(replies()) >= written, 30)
    except TimeoutError:
        pass  # reported: each_answered_once is false, unanswered says how many
    await recovery.wait_idle()
    done = recovery.reports[reports:]
    gaps = tracker.gaps[gaps_before:]  # the outage's; another drop meanwhile is counted too
    seconds = sum(g.seconds for g in gaps)
    calls = sum(r.calls for r in done)
    visitor = [
        sum(1 for m in site.conversations[s].messages if m["from"] == "user") for s in sessions
    ]
    return {
        "outage_s": gap,
        "gaps": len(gaps),
        "gap_s": round(seconds, 3),
        "conversations": conversations,
        "written": written,
        "read_back": sum(r.messages for r in done),
        "listed": sum(r.conversations for r in done),
        "calls": calls,
        "calls_per_gap_second": round(calls / max(seconds, 0.001), 1),
        "each_answered_once": replies() == visitor,
        "unanswered": sum(visitor)
        - sum(min(r, v) for r, v in zip(replies(), visitor, strict=True)),
        "complete": all(r.complete for r in done),
    }


async def main(gaps: list[float], conversations: list[int], rate: float) -> dict[str, Any]:
    configure_logging(level="error", format="json", stream=sys.stderr)
    rows = []
    for count in conversations:
        for gap in gaps:  # a sandbox and a runner of its own: no window sees another's
            async with (
                Sandbox(port=0) as sb,
                Runner(_settings(sb), plugin_class=_Echo) as runner,
            ):
                rows.append(await _one_gap(sb, runner, gap, count, rate))
                print(json.dumps(rows[-1]), file=sys.stderr)
    return {"rate": rate, "gaps": rows}


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rtm_gap", description=__doc__)
    parser.add_argument("--rate", type=float, default=100.0, help="visitor messages a second")
    parser.add_argument("--conversations", default="10,100", help="counts, one run each")
    parser.add_argument("--gaps", default="0.5,2,5,10", help="relay outages, seconds")
    args = parser.parse_args(argv)
    gaps = [float(g) for g in args.gaps.split(",") if g.strip()]
    counts = [int(c) for c in args.conversations.split(",") if c.strip()]
    report = asyncio.run(main(gaps, counts, args.rate))
    print(json.dumps(report, indent=2))
    return 0 if all(r["each_answered_once"] for r in report["gaps"]) else 1


if __name__ == "__main__":
    sys.exit(_cli(sys.argv[1:]))
