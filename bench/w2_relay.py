"""W2 relay events: the sandbox's RTM relay pushes N ``message:send`` events; how long
until the plugin's handler has seen all N.

The sandbox (its own process, on the load generator's core) stores N visitor messages
over 100 conversations as fast as it can; each becomes a ``message:send`` pushed over
Socket.IO. Contenders (on the other core): our runner with the RTM transport and a
counting handler, and the official Node client's ``on("message:send")`` counting.
The clock runs from the harness's order to push to the contender's "seen all N".
"""

from __future__ import annotations

import asyncio
import time

from bench import ours
from bench.model import Contender, Metric, Options, Workload, ratio
from bench.procs import NODE_DIR, Proc, cpu_seconds
from bench.sandbox_proc import SandboxProc, running_sandbox


async def _timed(sb: SandboxProc, contender: Proc, n: int) -> dict[str, float]:
    cpu0 = cpu_seconds(contender.pid)
    started = time.perf_counter()
    sb.proc.send({"cmd": "burst", "n": n, "conversations": 100})
    done = asyncio.ensure_future(contender.next_json(90.0))
    pushed = await sb.proc.next_json(90.0)
    if "error" in pushed:
        done.cancel()
        raise RuntimeError(f"sandbox: {pushed['error']}")
    answer = await done
    seconds = time.perf_counter() - started
    cpu = cpu_seconds(contender.pid) - cpu0
    if answer.get("done") != n:
        raise RuntimeError(f"contender answered {answer}")
    return {
        "seconds": seconds,
        "per_s": n / seconds,
        "push_s": float(pushed["push_s"]),
        "cpu_us": cpu / n * 1e6,
    }


async def run_ours(opts: Options) -> dict[str, float]:
    async with running_sandbox(opts) as sb:
        data = ours.settings("Counter", api_url=sb.url, transport="rtm")
        proc = await ours.start_runner("ours rtm", data, opts, expect=opts.relay_events)
        try:
            return await _timed(sb, proc, opts.relay_events)
        finally:
            await proc.stop()


async def run_node(opts: Options) -> dict[str, float]:
    async with running_sandbox(opts) as sb:
        argv = ["node", str(NODE_DIR / "rtm_listener.js"), str(opts.relay_events)]
        proc = await Proc.start(
            "node rtm", argv, cpu=opts.server_cpu, cwd=NODE_DIR, env=sb.node_env()
        )
        try:
            await proc.ready()
            return await _timed(sb, proc, opts.relay_events)
        finally:
            await proc.stop()


def workload(opts: Options) -> Workload:
    n = opts.relay_events
    return Workload(
        key="w2",
        title=f"W2 relay {n:,} events",
        metrics=[
            Metric("seconds", "s to see all", higher_is_better=False, digits=3),
            Metric("per_s", "events/s", higher_is_better=True),
            Metric("push_s", "sandbox push s", higher_is_better=False, digits=3),
            Metric("cpu_us", "client CPU us/event", higher_is_better=False, digits=1),
        ],
        contenders=[
            Contender("ours", "ours: RTM transport", run_ours, ours=True),
            Contender("node", "npm crisp-api: RTM", run_node),
        ],
        limits=(
            "The sandbox's relay (python-socketio server in one Python process, on the "
            'other core) stores and pushes the events; "sandbox push s" is how long it '
            "took to emit all N, and each emit waits on the socket, so a slow reader "
            "slows the push too. Both contenders see the last event close behind the "
            "last push: the relay sets the pace, not the client. The client's own "
            "cost is its CPU per event: for ours, the python-socketio client decoding "
            "each frame, the typed event, dedupe, ordering and one handler run."
        ),
    )


def targets(w: Workload) -> list[tuple[str, str, bool | None]]:
    r = ratio(w.median("ours", "per_s"), w.median("node", "per_s"), True)
    return [
        (
            "W2: relay events, ours against the Node client (no target set)",
            "n/a" if r is None else f"{r:.2f}x the Node client's events/s",
            None if r is None else True,
        )
    ]
