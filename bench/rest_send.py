"""W4 REST: N send-message calls against the sandbox, ours against the official clients.

Contenders, each in its own process, the sandbox in another (pinned to other cores
when there are enough):

- ``ours``: ``RestClient.send_message`` with 32 calls in flight (one client: its pool
  of kept-alive connections), on the event loop ``crisp-plugin run`` starts (uvloop
  when installed);
- ``pypi``: the PyPI ``crisp-api`` client, sequential, as its users write it (it opens a
  new connection per call);
- ``pypi-threads``: the same client in a 32-thread pool;
- ``node``: the npm ``crisp-api`` client with 32 calls in flight (``node/rest_send.js``,
  run when Node and ``bench/node/node_modules`` are there).

Every contender prints ``{"calls", "seconds", "per_s", "errors", "cpu_us"}`` (its own CPU
per send while timed); any error fails the
run. Standalone::

    python -m bench.rest_send                       # all contenders, 3 rounds, a table
    python -m bench.rest_send --calls 500 --rounds 1 --contenders ours,pypi

The harness (``python -m bench --only w4``) uses ``workload`` and ``targets`` below.
One contender by hand (credentials from ``CRISP_API_URL``, ``CRISP_IDENTIFIER``,
``CRISP_KEY``)::

    python -m bench.rest_send run ours WEBSITE_ID SESSION_ID N [IN_FLIGHT]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from bench.model import Contender, Metric, Options, Workload, ratio, rotation
from bench.payloads import IDENTIFIER, KEY
from bench.procs import NODE_DIR, PYTHON, Proc, child_env, cpu_count
from crisp_plugin.event_loop import loop_factory

URN = "urn:crisp-plugin:bench:1"
FAST_WEBSITE = "8c842203-7ed8-4e29-a608-7cf78a7d2fcc"  # any ids: nginx answers every path
FAST_SESSION = "session_b8d0b6a5-0d6a-4c14-bb6b-4e0b3a6b0a3f"
Server = Literal["sandbox", "nginx"]
IN_FLIGHT = 32
SANDBOX_CPU = 0
CONTENDER_CPU = 1


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _figures(calls: int, seconds: float, errors: int, cpu_s: float) -> dict[str, Any]:
    """What a contender prints: ``cpu_s`` is its own CPU time (every thread) while timed."""
    return {
        "calls": calls,
        "seconds": seconds,
        "per_s": calls / seconds,
        "errors": errors,
        "cpu_us": cpu_s * 1e6 / calls,
    }


# -- contenders (each runs in its own process) -----------------------------------------


async def _ours(api_url: str, website: str, session: str, total: int, in_flight: int) -> None:
    from crisp_plugin.rest import RestClient

    errors = 0
    async with RestClient(
        os.environ["CRISP_IDENTIFIER"], os.environ["CRISP_KEY"], api_url=api_url, urn=URN
    ) as rest:
        await rest.send_message(website, session, "warm-up")
        next_i = 0

        async def worker() -> None:
            nonlocal next_i, errors
            while next_i < total:
                i = next_i
                next_i += 1
                try:
                    await rest.send_message(website, session, f"message {i}")
                except Exception as exc:
                    errors += 1
                    if errors < 5:
                        print(f"send failed: {exc!r}", file=sys.stderr)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    _say(_figures(total, seconds, errors, cpu))


def _pypi_client(api_url: str) -> Any:
    from crisp_api import Crisp

    client = Crisp()
    client.set_rest_host(api_url)
    client.set_tier("plugin")
    client.authenticate(os.environ["CRISP_IDENTIFIER"], os.environ["CRISP_KEY"])
    return client


def _pypi(api_url: str, website: str, session: str, total: int, threads: int) -> None:
    client = _pypi_client(api_url)

    def send(i: int) -> bool:
        try:
            client.website.send_message_in_conversation(
                website,
                session,
                {"type": "text", "from": "operator", "origin": URN, "content": f"message {i}"},
            )
        except Exception as exc:
            print(f"send failed: {exc!r}", file=sys.stderr)
            return False
        return True

    send(-1)  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    if threads <= 1:
        results = [send(i) for i in range(total)]
    else:
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(send, range(total)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    _say(_figures(total, seconds, results.count(False), cpu))


async def _serve_sandbox() -> None:
    """The sandbox in this process: prints its coordinates, runs until SIGTERM."""
    from crisp_plugin import gc_tuning
    from crisp_plugin.sandbox import Sandbox

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with Sandbox(identifier=IDENTIFIER, key=KEY) as sb:
        gc_tuning.tune()  # the process is the sandbox's own, as with `crisp_plugin sandbox`
        website = sb.websites[0]
        session = sb.store.new_conversation(sb.store.websites[website]).session_id
        _say({"ready": True, "url": sb.url, "website_id": website, "session_id": session})
        await stop.wait()


# -- orchestration -----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    url: str
    website_id: str
    session_id: str


def _cpu(core: int) -> int | None:
    return core if cpu_count() > core else None


@contextlib.asynccontextmanager
async def sandbox_process() -> AsyncIterator[Target]:
    proc = await Proc.start(
        "sandbox", [PYTHON, "-m", "bench.rest_send", "serve-sandbox"], cpu=_cpu(SANDBOX_CPU)
    )
    try:
        info = await proc.ready()
        yield Target(info["url"], info["website_id"], info["session_id"])
    finally:
        await proc.stop()


def contender_argv(key: str, target: Target, calls: int) -> tuple[list[str], Any]:
    """The command line of one contender and its working directory."""
    ids = [target.website_id, target.session_id]
    if key == "ours":
        return [PYTHON, "-m", "bench.rest_send", "run", "ours", *ids, str(calls)], None
    if key == "pypi":
        return [PYTHON, "-m", "bench.rest_send", "run", "pypi", *ids, str(calls), "1"], None
    if key == "pypi-threads":
        return [PYTHON, "-m", "bench.rest_send", "run", "pypi", *ids, str(calls)], None
    if key == "node":
        script = str(NODE_DIR / "rest_send.js")
        return ["node", script, *ids, str(calls), str(IN_FLIGHT)], NODE_DIR
    raise ValueError(f"unknown contender {key!r}")


def node_available() -> bool:
    return shutil.which("node") is not None and (NODE_DIR / "node_modules" / "crisp-api").is_dir()


@contextlib.asynccontextmanager
async def server_process(server: Server) -> AsyncIterator[Target]:
    """The sandbox, or nginx answering every call at once (fast_server.py)."""
    if server == "sandbox":
        async with sandbox_process() as target:
            yield target
        return
    from bench.fast_server import nginx_server

    async with nginx_server(_cpu(SANDBOX_CPU)) as url:
        yield Target(url, FAST_WEBSITE, FAST_SESSION)


async def measure(key: str, calls: int, server: Server = "sandbox") -> dict[str, float]:
    """One run of one contender against a fresh server: sends per second and the
    contender's own CPU microseconds per send."""
    async with server_process(server) as target:
        argv, cwd = contender_argv(key, target, calls)
        env = child_env(
            CRISP_API_URL=target.url, CRISP_IDENTIFIER=IDENTIFIER, CRISP_KEY=KEY, CRISP_URN=URN
        )
        proc = await Proc.start(f"w4 {key}", argv, cpu=_cpu(CONTENDER_CPU), cwd=cwd, env=env)
        try:
            figures = await proc.next_json(within=300.0)
        finally:
            await proc.stop()
    if figures.get("errors"):
        raise RuntimeError(f"{key}: {figures['errors']} of {figures['calls']} sends failed")
    return {"per_s": float(figures["per_s"]), "cpu_us": float(figures["cpu_us"])}


def _runner(key: str) -> Any:
    async def run(opts: Options) -> dict[str, float]:
        return await measure(key, opts.rest_calls)

    return run


def workload(opts: Options) -> Workload:
    contenders = [
        Contender("ours", f"ours: RestClient, {IN_FLIGHT} in flight", _runner("ours"), ours=True),
        Contender("pypi", "PyPI crisp-api, sequential", _runner("pypi")),
        Contender("pypi-threads", f"PyPI crisp-api, {IN_FLIGHT} threads", _runner("pypi-threads")),
    ]
    if node_available():
        contenders.append(
            Contender("node", f"npm crisp-api, {IN_FLIGHT} in flight", _runner("node"))
        )
    return Workload(
        key="w4",
        title="W4 REST send-message",
        metrics=[
            Metric("per_s", "sends/s", higher_is_better=True),
            Metric("cpu_us", "client CPU us/send", higher_is_better=False, digits=1),
        ],
        contenders=contenders,
        limits=(
            "The sandbox (one Python process on its own core) stores each message and "
            "publishes message:received; with 32 calls in flight it is the bottleneck for "
            "both ours and the Node client. The PyPI client opens a new TCP connection for "
            "every call (requests without a Session) and blocks, so it is bound by "
            "connection set-up and one round trip at a time; threads help it only up to the "
            "GIL."
        ),
    )


def targets(w: Workload) -> list[tuple[str, str, bool | None]]:
    ours, pypi, node = (w.median(k, "per_s") for k in ("ours", "pypi", "node"))
    r_pypi = ratio(ours, pypi, True)
    r_node = ratio(ours, node, True)
    return [
        (
            "W4: at least 10x the PyPI client's sequential throughput",
            "n/a" if r_pypi is None else f"{r_pypi:.1f}x",
            None if r_pypi is None else r_pypi >= 10,
        ),
        (
            "W4: at least the Node client's throughput",
            "n/a" if r_node is None else f"{r_node:.2f}x",
            None if r_node is None else r_node >= 1,
        ),
    ]


async def standalone(args: argparse.Namespace) -> int:
    opts = Options(rounds=args.rounds, rest_calls=args.calls)
    w = workload(opts)
    if args.contenders:
        keep = set(args.contenders.split(","))
        w.contenders = [c for c in w.contenders if c.key in keep]
    for r in range(opts.rounds):
        for c in rotation(w.contenders, r):
            figures = await c.run(opts)
            w.add(c.key, figures)
            print(f"round {r + 1}: {c.label}: {figures['per_s']:,.0f} sends/s", flush=True)
    ref = w.median("ours", "per_s")
    print(f"\n{'contender':<36} {'sends/s':>10} {'ours is':>9}")
    for c in w.contenders:
        value = w.median(c.key, "per_s")
        times = ratio(ref, value, True)
        shown = "-" if c.ours or times is None else f"{times:.1f}x"
        print(f"{c.label:<36} {value or 0:>10,.0f} {shown:>9}")
    for text, measured, ok in targets(w):
        verdict = "met" if ok else "MISSED" if ok is False else "n/a"
        print(f"target: {text}: {measured} -> {verdict}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve-sandbox"]:
        asyncio.run(_serve_sandbox())
        return 0
    if argv[:1] == ["run"]:
        kind, website, session, total = argv[1], argv[2], argv[3], int(argv[4])
        width = int(argv[5]) if len(argv) > 5 else IN_FLIGHT
        api_url = os.environ["CRISP_API_URL"]
        if kind == "ours":
            # on the loop `crisp-plugin run` starts (uvloop when installed), as W1 does
            with asyncio.Runner(loop_factory=loop_factory("auto")) as process:
                process.run(_ours(api_url, website, session, total, width))
        elif kind == "pypi":
            _pypi(api_url, website, session, total, width)
        else:
            print(f"unknown contender {kind!r}", file=sys.stderr)
            return 2
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.rest_send", description="W4 REST")
    parser.add_argument("--calls", type=int, default=2_000, help="sends per run (N)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--contenders", default="", help="ours,pypi,pypi-threads,node")
    return asyncio.run(standalone(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
