"""Thousands of mutated and slow requests against a running hook server, over loopback.

Seeded (replayable) cases from ``bench.hook_mutations``: byte flips, truncations,
duplicated and missing headers, huge and odd lengths, forged signatures, bad framing,
big heads, deep JSON, garbage, each split at random points, some pipelined after a
good hook, some left stalled; plus slowloris connections. The server must answer only
4xx (or 200 for what a mutation left valid, 100 for an ``Expect``), never 5xx; close
every connection it did not answer within its deadline; feed nothing but payloads
that were really signed; and keep answering a good hook 200 during and after.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from bench.hook_mutations import Case, Forge, Outcome, run_case, trickle
from crisp_plugin.transports.webhook import WebhookServer
from tests.transports.test_webhook_server import SECRET

TIMEOUT = 0.5
# Past every deadline the server has: by then it must have closed whatever it did not
# answer. A stalled case (nothing after its request) is done sooner: it is closed at its
# deadline, or it was answered and is kept alive, which is fine too.
WAIT = 4 * TIMEOUT + 2
STALL_WAIT = 4 * TIMEOUT


class CheckingSink:
    """Accepts everything, and notes whatever it was fed."""

    def __init__(self) -> None:
        self.fed: list[dict[str, Any]] = []

    def feed(
        self, name: str, payload: dict[str, Any], source: str, redelivery: bool = False
    ) -> bool:
        self.fed.append(payload)
        return True


async def canary(server: WebhookServer, forge: Forge, stop: asyncio.Event) -> list[int]:
    """Good hooks on fresh connections, each sent once the last was answered, while the
    abuse runs."""
    statuses: list[int] = []
    while not stop.is_set():
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(forge.good(close=True))
        status_line = await asyncio.wait_for(reader.readline(), WAIT)
        statuses.append(int(status_line.split()[1]))
        writer.close()
    return statuses


@pytest.mark.parametrize(("fast", "count"), [(True, 2500), (False, 800)])
async def test_mutated_and_slow_requests_get_4xx_and_good_hooks_still_200(
    fast: bool, count: int
) -> None:
    sink = CheckingSink()
    server = WebhookServer(
        sink,
        host="127.0.0.1",
        port=0,
        secret=SECRET,
        fast_path=fast,
        request_timeout=TIMEOUT,
        max_connections=10_000,  # the cap is not what this test is about
    )
    await server.start()
    forge = Forge(SECRET, server.path, seed=20261201 + fast)
    cases = [forge.case(stall_share=0.03) for _ in range(count)]
    slow_bytes = [forge.good() for _ in range(8)]
    gate = asyncio.Semaphore(100)

    async def one(case_index: int) -> Outcome:
        async with gate:
            case = cases[case_index]
            wait = STALL_WAIT if case.stall else WAIT
            return await run_case("127.0.0.1", server.port, case, wait)

    stop = asyncio.Event()
    try:
        watcher = asyncio.create_task(canary(server, forge, stop))
        slow = [trickle("127.0.0.1", server.port, raw, TIMEOUT / 5, WAIT * 2) for raw in slow_bytes]
        slow_outcomes, outcomes = await asyncio.gather(
            asyncio.gather(*slow), asyncio.gather(*(one(i) for i in range(count)))
        )
        stop.set()
        during = await watcher
        good = Case("good", [forge.good(close=True)], stall=False)
        after = await run_case("127.0.0.1", server.port, good, WAIT)
    finally:
        stop.set()
        await server.stop()

    statuses = Counter(s for o in outcomes for s in o.statuses)
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {100, 200} | set(range(400, 500)), statuses
    hanging = [(c.kind, o) for c, o in zip(cases, outcomes, strict=True) if not o.closed]
    hanging = [(k, o) for k, o in hanging if not o.statuses]  # answered, kept alive: fine
    assert hanging == [], hanging[:5]
    stalled = [o for c, o in zip(cases, outcomes, strict=True) if c.stall]
    assert sum(o.closed for o in stalled) > len(stalled) // 4
    assert all(o.closed and o.seconds < WAIT for o in slow_outcomes), slow_outcomes
    assert server.guard.timed_out >= len(slow_bytes)
    assert statuses[400] + statuses[403] > count // 2  # the mutations did bite
    # nothing was fed that was not signed, exactly as signed
    assert sink.fed, "not even the good hooks got through"
    for payload in sink.fed:
        assert payload == forge.signed.get(payload.get("fingerprint")), payload
    assert during and set(during) == {200}, Counter(during)
    assert after.statuses == [200]
