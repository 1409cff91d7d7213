"""W5 durable ingest: signed hooks POSTed by wrk into each inbox, side by side.

The W1 set-up (wrk on one core, the plugin alone on the other, a no-op handler), with
the dedupe off, so every request is a new event the inbox must keep before the hook
is answered 200: ``memory`` (kept in the queues only: at most once on a crash) against
``sqlite`` (committed to a file first, group commit in a writer thread). Figures:
hooks/s, the p99 of the answer (the acknowledgement), and the server's CPU time per
hook. Target per core: SQLite at least 50% of memory's rate.
"""

from __future__ import annotations

from bench.model import Contender, Metric, Options, Workload, ratio
from bench.payloads import HOOK_PATH
from bench.procs import PYTHON, free_port
from bench.w1_hooks import measure


def contender(inbox: str) -> Contender:
    async def run(opts: Options) -> dict[str, float]:
        port = free_port()
        argv = [PYTHON, "-m", "bench.contenders.ours_hooks", str(port), HOOK_PATH, inbox, "0"]
        return await measure(opts, argv, port, f"ours {inbox} inbox")

    return Contender(inbox, f"ours: {inbox} inbox", run, ours=inbox == "memory")


def workload(opts: Options) -> Workload:
    return Workload(
        key="w5",
        rounds=opts.noisy_rounds,
        title="W5 durable ingest",
        metrics=[
            Metric("rps", "hooks/s", higher_is_better=True),
            Metric("p99_ms", "ack p99 ms", higher_is_better=False, digits=2),
            Metric("cpu_us", "server CPU us/hook", higher_is_better=False, digits=1),
        ],
        contenders=[contender("memory"), contender("sqlite")],
        limits=(
            "As W1, with every request a new event (dedupe off). The SQLite inbox adds, "
            "per event, the JSON text of the payload and a queue hand-off to the writer "
            "thread; the commit (one per batch, hundreds of events under this load) and "
            "the answer waiting for it cost latency more than CPU. synchronous = normal "
            "(WAL): a committed event survives kill -9, not a power loss."
        ),
    )


def targets(w: Workload) -> list[tuple[str, str, bool | None]]:
    share = ratio(w.median("sqlite", "rps"), w.median("memory", "rps"), True)
    return [
        (
            "W5: the SQLite inbox at least 50% of the memory inbox's hooks/s",
            "n/a" if share is None else f"{share:.0%} of memory",
            None if share is None else share >= 0.5,
        )
    ]
