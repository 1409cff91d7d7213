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
from bench.procs import PYTHON, cpu_seconds, free_port
from bench.redis_proc import redis_server
from bench.w1_hooks import measure


def contender(inbox: str) -> Contender:
    async def run(opts: Options) -> dict[str, float]:
        port = free_port()
        argv = [PYTHON, "-m", "bench.contenders.ours_hooks", str(port), HOOK_PATH, inbox, "0"]
        if inbox != "redis":
            return await measure(opts, argv, port, f"ours {inbox} inbox")
        # Redis runs on the load generator's core: the plugin keeps its own to itself,
        # and Redis's own CPU per hook is measured apart.
        async with redis_server(cpu=opts.load_cpu) as redis:
            argv.append(redis.url)
            before = (await redis.commands(), cpu_seconds(redis.pid))
            figures = await measure(opts, argv, port, "ours redis inbox", count=True)
            commands = await redis.commands() - before[0]
            cpu = cpu_seconds(redis.pid) - before[1]
            xadds = await redis.benchmark(
                cpu=opts.server_cpu, requests=50_000 if opts.quick else 200_000
            )
        hooks = max(1.0, figures.pop("hooks"))
        per_hook = commands / hooks
        redis_us = cpu / hooks * 1e6
        return {
            **figures,
            "redis_cmds": per_hook,
            "redis_cpu_us": redis_us,
            # How many instances at this rate one Redis core carries: from its CPU per
            # hook, and from redis-benchmark's pipelined XADDs per second and the commands
            # per hook (a cruder bound: an XADD is cheaper than the script's SET + XADD).
            "carry_cpu": 1e6 / max(redis_us, 1e-9) / max(figures["rps"], 1.0),
            "carry_bench": xadds / max(per_hook, 1e-9) / max(figures["rps"], 1.0),
        }

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
            Metric("redis_cmds", "Redis commands/hook", higher_is_better=False, digits=2),
            Metric("redis_cpu_us", "Redis CPU us/hook", higher_is_better=False, digits=1),
            Metric("carry_cpu", "instances 1 Redis core carries (by its CPU)", True, digits=1),
            Metric("carry_bench", "instances (by redis-benchmark)", True, digits=1),
        ],
        contenders=[contender("memory"), contender("sqlite"), contender("redis")],
        limits=(
            "As W1, with every request a new event (dedupe off, so no dedupe key is "
            "computed or kept either). The memory inbox is CPU-bound since new "
            "conversations of one read share a worker wake-up (it was not before, at "
            "about 27,000 hooks/s: the durable inboxes' shares of it read higher then). "
            "The SQLite inbox adds, "
            "per event, the JSON text of the payload (orjson) and a queue hand-off to the writer "
            "thread; the commit (one per batch, hundreds of events under this load) and "
            "the answer waiting for it cost latency more than CPU. synchronous = normal "
            "(WAL): a committed event survives kill -9, not a power loss. The Redis inbox "
            "(one instance owning all 16 partitions, Redis with appendfsync everysec on "
            "the load core) stores each flush in one script call: per partition, one "
            "stream entry holding that partition's events (an XADD per partition and "
            "flush, not per event), reads them back with XREADGROUP and acknowledges an "
            "entry once all its events ran (XACK + XDEL, one script call per flush). "
            "What it stored itself comes back without its JSON read or the event parsed "
            "again. What is left over the memory inbox is redis-py's own work per "
            "command (pipeline, packing, parsing the answers: about a fifth of the "
            "process), the JSON text of each payload, and the wait for Redis's answer "
            "(the process is busy about 93% of the time)."
        ),
    )


def targets(w: Workload) -> list[tuple[str, str, bool | None]]:
    found = []
    for inbox, floor in (("sqlite", 0.5), ("redis", 0.4)):
        share = ratio(w.median(inbox, "rps"), w.median("memory", "rps"), True)
        found.append(
            (
                f"W5: the {inbox} inbox at least {floor:.0%} of the memory inbox's hooks/s",
                "n/a" if share is None else f"{share:.0%} of memory",
                None if share is None else share >= floor,
            )
        )
    return found
