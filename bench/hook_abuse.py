"""``python -m bench.hook_abuse``: a hook server under hostile traffic, with figures.

The server (our ``WebhookServer``, default settings but the ones given) runs in a
process of its own; this process plays the clients, all over loopback:

1. ``pieces``: one signed hook with a 1 MiB body, written in 64-byte pieces with a
   pause after each, so the server reads them one by one: the server's CPU seconds
   for it (run it against an older checkout to compare).
2. ``abuse``: ``--requests`` mutated requests (``bench.hook_mutations``: byte flips,
   truncations, duplicated and missing headers, huge lengths, forged signatures, bad
   framing, big heads, deep JSON, garbage, split at random points, some stalled)
   from ``--concurrency`` connections at once, while ``--slow`` slowloris
   connections send a byte every ``--slow-every`` seconds and a canary sends good
   hooks one after another, timing each answer.
3. ``cap``: ``--max-connections`` + 200 connections opened at once and held; the
   ones past the cap must be refused; then a good hook once they are gone.

Printed: requests sent, answers by status, connections closed by deadline or
refused at the cap, the server's CPU seconds and peak RSS, the canary's latency, and
whether anything unsigned was fed (it must not be). ``--only pieces`` runs the first
part alone (it works against older versions of the server too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import inspect
import json
import resource
import socket
import statistics
import sys
import time
from collections import Counter
from typing import Any

from bench.hook_mutations import Case, Forge, Outcome, run_case, trickle
from bench.procs import PYTHON, Proc, child_env, cpu_seconds

SECRET = "bench-abuse-secret"
PATH = "/crisp/hooks"
HOST = "127.0.0.1"
MIB = 1_048_576


def digest(payload: dict[str, Any]) -> str:
    """A short digest of a payload as fed, to compare what was fed with what was signed."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


# -- the server process --------------------------------------------------------------


async def serve(args: argparse.Namespace) -> None:
    from aiohttp import web

    from crisp_plugin.transports import hook_protocol
    from crisp_plugin.transports.webhook import WebhookServer

    fed: list[str] = []
    reads = [0]

    class Sink:
        def feed(self, name: str, payload: dict[str, Any], source: str, r: bool = False) -> bool:
            fed.append(digest(payload))
            return True

    read = hook_protocol.HookProtocol.data_received

    def counted(self: Any, data: bytes) -> None:
        reads[0] += 1
        read(self, data)

    hook_protocol.HookProtocol.data_received = counted  # type: ignore[method-assign]
    server: Any = None

    async def stats(request: web.Request) -> web.Response:
        guard = getattr(server, "guard", None)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return web.json_response(
            {
                "cpu": usage.ru_utime + usage.ru_stime,
                "maxrss_kb": usage.ru_maxrss,
                "reads": reads[0],
                "fed": fed,
                "timed_out": getattr(guard, "timed_out", None),
                "refused": getattr(guard, "refused", None),
                "idle_closed": getattr(guard, "idle_closed", None),
                "open": len(guard.open) if guard is not None else None,
            }
        )

    def routes(app: web.Application) -> None:
        app.router.add_get("/bench/stats", stats)

    wanted: dict[str, Any] = {
        "request_timeout": args.request_timeout,
        "max_connections": args.max_connections,
    }
    known = inspect.signature(WebhookServer.__init__).parameters
    extra = {k: v for k, v in wanted.items() if k in known}
    server = WebhookServer(
        Sink(), host=HOST, port=0, path=PATH, secret=SECRET, extra_routes=routes, **extra
    )
    await server.start()
    import crisp_plugin

    print(
        json.dumps({"ready": True, "port": server.port, "package": crisp_plugin.__file__, **extra}),
        flush=True,
    )
    try:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await server.stop()


# -- the clients -----------------------------------------------------------------------


async def server_stats(port: int) -> dict[str, Any]:
    """The server's figures; retried while it refuses connections at its cap."""
    for _ in range(600):
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(b"GET /bench/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            data = await asyncio.wait_for(reader.read(), 30)
            if data.startswith(b"HTTP/1.1 200"):
                result: dict[str, Any] = json.loads(data.split(b"\r\n\r\n", 1)[1])
                return result
        writer.close()
        await asyncio.sleep(0.05)
    raise RuntimeError("the server gave no figures")


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def mib_hook(forge: Forge) -> bytes:
    fingerprint = forge.fingerprint()
    short = forge.body(fingerprint, "")
    body = forge.body(fingerprint, "x" * (MIB - len(short)))
    lines = forge.head_lines(body)
    return (("\r\n".join([f"POST {PATH} HTTP/1.1", *lines]) + "\r\n\r\n").encode()) + body


def send_in_pieces(port: int, raw: bytes, piece: int, pause: float) -> bytes:
    """The answer's first bytes (``b""`` when the server closed first: a request slower
    than its ``request_timeout``)."""
    with socket.create_connection((HOST, port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for i in range(0, len(raw), piece):
                sock.sendall(raw[i : i + piece])
                time.sleep(pause)
            sock.settimeout(60)
            return sock.recv(4096)
        except ConnectionError:
            return b""


async def pieces(port: int, pid: int, forge: Forge) -> dict[str, Any]:
    raw = mib_hook(forge)
    before = await server_stats(port)
    cpu0 = cpu_seconds(pid)
    started = time.monotonic()
    answer = await asyncio.to_thread(send_in_pieces, port, raw, 64, 0.00005)
    wall = time.monotonic() - started
    cpu = cpu_seconds(pid) - cpu0
    after = await server_stats(port)
    return {
        "status": int(answer.split()[1]) if answer.startswith(b"HTTP/") else None,
        "bytes": len(raw),
        "server_reads": after["reads"] - before["reads"] - 1,  # less the stats request
        "server_cpu_s": round(cpu, 3),
        "wall_s": round(wall, 2),
    }


async def canary(port: int, forge: Forge, stop: asyncio.Event) -> list[tuple[int, float]]:
    """Good hooks, one after another on fresh connections: (status, seconds) each."""
    out: list[tuple[int, float]] = []
    while not stop.is_set():
        started = time.monotonic()
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(forge.good(close=True))
            line = await asyncio.wait_for(reader.readline(), 30)
            writer.close()
            status = int(line.split()[1]) if line.startswith(b"HTTP/") else 0
        except (OSError, TimeoutError):
            status = 0
        out.append((status, time.monotonic() - started))
        await asyncio.sleep(0.02)  # a good hook every ~20 ms
    return out


async def abuse(args: argparse.Namespace, port: int, forge: Forge) -> dict[str, Any]:
    cases = [forge.case(stall_share=0.03) for _ in range(args.requests)]
    gate = asyncio.Semaphore(args.concurrency)
    wait = 3 * args.request_timeout + 5

    stall_wait = args.request_timeout + 2  # past its deadline (a stall answered and kept alive)

    async def one(case: Case) -> Outcome:
        async with gate:
            return await run_case(HOST, port, case, stall_wait if case.stall else wait)

    stop = asyncio.Event()
    watcher = asyncio.create_task(canary(port, forge, stop))
    slow_wait = 4 * args.request_timeout + 10
    slow = [trickle(HOST, port, forge.good(), args.slow_every, slow_wait) for _ in range(args.slow)]
    started = time.monotonic()
    slow_outcomes, outcomes = await asyncio.gather(
        asyncio.gather(*slow), asyncio.gather(*(one(c) for c in cases))
    )
    wall = time.monotonic() - started
    stop.set()
    good = await watcher
    statuses = Counter(s for o in outcomes for s in o.statuses)
    latencies = sorted(t for s, t in good if s == 200)
    return {
        "note": "answers count every answer on the abuse connections, the good closing "
        "hook most cases end with included",
        "requests": len(cases),
        "wall_s": round(wall, 1),
        "answers_by_status": dict(sorted(statuses.items())),
        "connections_closed_without_answer": sum(o.closed and not o.statuses for o in outcomes),
        "connections_left_hanging": sum(not o.closed and not o.statuses for o in outcomes),
        "slowloris": len(slow_outcomes),
        "slowloris_closed": sum(o.closed for o in slow_outcomes),
        "slowloris_seconds_max": round(max((o.seconds for o in slow_outcomes), default=0), 1),
        "good_hooks": len(good),
        "good_hooks_not_200": sum(s != 200 for s, _ in good),
        "good_latency_ms": _percentiles(latencies),
    }


async def until_quiet(port: int) -> None:
    """Until the server has no connection open but the stats request (30 s at most)."""
    for _ in range(600):
        if (await server_stats(port))["open"] in (None, 0, 1):
            return
        await asyncio.sleep(0.05)


async def cap(args: argparse.Namespace, port: int, forge: Forge) -> dict[str, Any]:
    """Fill the server to its cap, then try 200 more, then a good hook once they go."""
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    for _ in range(0, args.max_connections - 1, 100):  # one slot kept for the stats
        batch = min(100, args.max_connections - 1 - len(held))
        held += await asyncio.gather(*(asyncio.open_connection(HOST, port) for _ in range(batch)))
    for _ in range(600):  # until the server has accepted them all (and this request)
        if (await server_stats(port))["open"] >= args.max_connections:
            break
        await asyncio.sleep(0.05)
    extra = await asyncio.gather(*(asyncio.open_connection(HOST, port) for _ in range(200)))

    async def answered_503(reader: asyncio.StreamReader) -> bool:
        with contextlib.suppress(TimeoutError, ConnectionError):
            return (await asyncio.wait_for(reader.read(12), 5)).startswith(b"HTTP/1.1 503")
        return False

    refused = sum(await asyncio.gather(*(answered_503(r) for r, _ in extra)))
    for _, writer in held + extra:
        writer.close()
    await until_quiet(port)
    outcome = await run_case(HOST, port, Case("good", [forge.good(close=True)], False), 30)
    return {
        "held_open": len(held),
        "tried_past_the_cap": len(extra),
        "answered_503": refused,
        "good_hook_after": outcome.statuses,
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ms = [v * 1000 for v in values]
    cuts = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    return {
        "p50": round(cuts[49], 2),
        "p99": round(cuts[98], 2),
        "max": round(ms[-1], 2),
    }


async def main(args: argparse.Namespace) -> int:
    argv = [PYTHON, "-m", "bench.hook_abuse", "--serve"]
    argv += ["--request-timeout", str(args.request_timeout)]
    argv += ["--max-connections", str(args.max_connections)]
    proc = await Proc.start("hook server", argv, env=child_env())
    report: dict[str, Any] = {}
    try:
        ready = await proc.ready(30)
        port = int(ready["port"])
        report["server"] = {k: v for k, v in ready.items() if k != "ready"}
        forge = Forge(SECRET, PATH, seed=args.seed)
        cpu0 = cpu_seconds(proc.pid)
        report["pieces_1mib_64b"] = await pieces(port, proc.pid, forge)
        if args.only != "pieces":
            await until_quiet(port)
            before = await server_stats(port)
            abuse_cpu0 = cpu_seconds(proc.pid)
            report["abuse"] = await abuse(args, port, forge)
            report["abuse"]["server_cpu_s"] = round(cpu_seconds(proc.pid) - abuse_cpu0, 2)
            after = await server_stats(port)
            report["abuse"]["closed_by_deadline"] = after["timed_out"] - before["timed_out"]
            report["abuse"]["refused_at_cap"] = after["refused"] - before["refused"]
            report["abuse"]["server_peak_rss_mb"] = round(peak_rss_mb(proc.pid), 1)
            await until_quiet(port)
            report["cap"] = await cap(args, port, forge)
            final = await server_stats(port)
            report["cap"]["refused_at_cap"] = final["refused"] - after["refused"]
        stats = await server_stats(port)
        report["server_cpu_s"] = round(cpu_seconds(proc.pid) - cpu0, 2)
        report["server_peak_rss_mb"] = round(peak_rss_mb(proc.pid), 1)
        report["closed_by_deadline"] = stats["timed_out"]
        report["refused_at_cap"] = stats["refused"]
        fed = stats["fed"]
        report["fed"] = len(fed)
        signed = {digest(p) for p in forge.signed.values()}
        report["fed_unsigned"] = sum(1 for f in fed if f not in signed)
    finally:
        if proc.proc.stdin is not None:
            proc.proc.stdin.close()
        await proc.stop()
    print(json.dumps(report, indent=2))
    bad = report.get("fed_unsigned", 0) or any(
        s >= 500 for s in report.get("abuse", {}).get("answers_by_status", {})
    )
    return 1 if bad else 0


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.hook_abuse", description=__doc__)
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--only", choices=["pieces"], help="run only the 1 MiB in pieces part")
    p.add_argument("--requests", type=int, default=20_000)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--slow", type=int, default=200, help="slowloris connections")
    p.add_argument("--slow-every", type=float, default=5.0, help="seconds between their bytes")
    p.add_argument("--request-timeout", type=float, default=10.0)
    p.add_argument("--max-connections", type=int, default=1000)
    p.add_argument("--seed", type=int, default=20261201)
    return p.parse_args(argv)


if __name__ == "__main__":
    options = parse(sys.argv[1:])
    if options.serve:
        asyncio.run(serve(options))
        raise SystemExit(0)
    raise SystemExit(asyncio.run(main(options)))
