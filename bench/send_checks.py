"""``python -m bench.send_checks``: what checked sends cost, and what they save.

Not part of the table of ``python -m bench``: this counts REST calls, not time. One
sandbox in this process; for each fault mix, ``--sends`` messages over
``--conversations`` conversations (sent in order within each, the conversations at
once) by a client with ``verify_sends`` on, then by one with it off. Every call the
client makes is counted through an observer (``rest_answered``: retries and checks
included), and the sandbox's transcripts say how many messages landed once, twice or
not at all.

Printed (JSON, one entry per mix and mode): sends, calls and their kinds (POSTs,
GETs: the checks), calls and extra calls per 100 sends, sends that raised, messages
lost (never stored), doubled (stored twice), stored behind an error the caller saw, and
returned but missing (reported sent, not stored). The exit status is 1 when any
message was doubled or returned but missing.

The mixes: ``none`` (no fault), ``before`` (20% of all calls answered 500 before
anything is stored), ``after`` (20% of sends stored, then answered 500), ``timeout``
(20% of sends stored, then held past the client's timeout), ``split`` (10% + 10%,
before and after the store), ``mixed`` (the test's: 20% before, 20% after, 10%
timeouts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from typing import Any

from crisp_plugin.log import configure_logging
from crisp_plugin.observer import Observer
from crisp_plugin.rest import RestClient, RetryPolicy
from crisp_plugin.sandbox import Sandbox

MIXES: dict[str, dict[str, float]] = {
    "none": {},
    "before": {"error_rate": 0.2},
    "after": {"error_after_store_rate": 0.2},
    "timeout": {"hang_after_store_rate": 0.2},
    "split": {"error_rate": 0.1, "error_after_store_rate": 0.1},
    "mixed": {"error_rate": 0.2, "error_after_store_rate": 0.2, "hang_after_store_rate": 0.1},
}


class Calls(Observer):
    def __init__(self) -> None:
        self.by: Counter[str] = Counter()

    def rest_answered(self, method: str, status: int | None, seconds: float) -> None:
        self.by[method] += 1


async def run(sb: Sandbox, args: argparse.Namespace, mix: str, verify: bool) -> dict[str, Any]:
    await sb.control.clear_faults()
    website = sb.websites[0]
    sessions = [await sb.control.create_conversation(website) for _ in range(args.conversations)]
    await sb.control.set_faults(**MIXES[mix], hang_ms=args.timeout * 1000 * 4)  # type: ignore[arg-type]
    calls = Calls()
    raised = 0
    returned: set[str] = set()
    per = args.sends // args.conversations
    policy = RetryPolicy(
        max_retries=args.max_retries, base_delay=0.002, max_delay=0.02, rate_limited_delay=0.01
    )

    async def conversation(rest: RestClient, session: str) -> None:
        nonlocal raised
        for i in range(per):
            text = f"{session}-{i}"
            try:
                await rest.send_message(website, session, text)
            except Exception:
                raised += 1
            else:
                returned.add(text)

    async with RestClient(
        sb.identifier,
        sb.key,
        api_url=sb.url,
        retry=policy,
        timeout=args.timeout,
        observers=[calls],
        verify_sends=verify,
    ) as rest:
        await asyncio.gather(*(conversation(rest, s) for s in sessions))
    await sb.control.clear_faults()
    landed: Counter[str] = Counter()
    for session in sessions:
        for message in await sb.control.transcript(website, session):
            landed[message["content"]] += 1
    sent = per * len(sessions)
    total = sum(calls.by.values())
    return {
        "mix": mix,
        "verify_sends": verify,
        "sends": sent,
        "calls": total,
        "posts": calls.by["POST"],
        "gets": calls.by["GET"],
        "calls_per_100_sends": round(100 * total / sent, 1),
        "extra_calls_per_100_sends": round(100 * (total - sent) / sent, 1),
        "checks_per_100_sends": round(100 * calls.by["GET"] / sent, 1),
        "raised": raised,
        "lost": sent - len(landed),
        "doubled": sum(1 for n in landed.values() if n > 1),
        "stored_behind_an_error": raised - (sent - len(landed)),
        "returned_but_missing": len(returned - set(landed)),
    }


async def main(args: argparse.Namespace) -> int:
    configure_logging("error", stream=sys.stderr)  # the retries' warnings are the point
    mixes = args.only.split(",") if args.only else list(MIXES)
    report = []
    async with Sandbox() as sb:
        for mix in mixes:
            for verify in (True, False):
                report.append(await run(sb, args, mix, verify))
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    # what must never happen, whatever the budget: a copy, or a send reported done
    # that is not there (a send that raised is the caller's to handle)
    bad = [r for r in report if r["doubled"] or r["returned_but_missing"]]
    return 1 if bad else 0


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.send_checks", description=__doc__)
    p.add_argument("--sends", type=int, default=2000)
    p.add_argument("--conversations", type=int, default=50)
    p.add_argument("--max-retries", type=int, default=3, help="the client's (3: the default)")
    p.add_argument("--timeout", type=float, default=0.5, help="the client's, in seconds")
    p.add_argument("--only", help=f"comma-separated mixes of {', '.join(MIXES)}")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
