"""Benchmark: REST send-message calls per second the sandbox sustains on one core.

    python bench/sandbox_rest.py [--seconds 5] [--clients 2] [--connections 16]

The sandbox runs alone in a child process (pinned to CPU 0 where ``taskset`` exists);
client processes (pinned to the other CPUs) send ``POST .../conversation/{id}/message``
over keep-alive HTTP/1.1 connections, one request in flight per connection, with a
small raw-socket client so the client is not the bottleneck. Each answer is checked
(HTTP 202 and a fingerprint). Two figures are printed: the clients' count of good
answers per second, and the sandbox's own count of answered requests per second
(``served`` from its control API over the same window). The target is 5,000/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import time
from typing import Any

TARGET = 5000
_READY = "SANDBOX-READY"


def _sandbox_main(port_queue: Any) -> None:
    """Child process: run a sandbox and report its URL and credentials."""

    async def run() -> None:
        from crisp_plugin import gc_tuning
        from crisp_plugin.sandbox import Sandbox

        async with Sandbox(port=0) as sb:
            gc_tuning.tune()  # the process is the sandbox's own
            sessions = []
            for _ in range(64):
                sessions.append(sb.store.new_conversation(sb.store.websites[sb.websites[0]]))
            port_queue.put(
                {
                    "url": sb.url,
                    "identifier": sb.identifier,
                    "key": sb.key,
                    "website": sb.websites[0],
                    "sessions": [c.session_id for c in sessions],
                }
            )
            await asyncio.Event().wait()

    asyncio.run(run())


def _request_bytes(info: dict[str, Any], session: str) -> bytes:
    host = info["url"].split("//", 1)[1]
    token = base64.b64encode(f"{info['identifier']}:{info['key']}".encode()).decode()
    body = json.dumps(
        {"type": "text", "from": "operator", "origin": "urn:bench:bot:1", "content": "pong"}
    ).encode()
    path = f"/v1/website/{info['website']}/conversation/{session}/message"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {token}\r\n"
        f"X-Crisp-Tier: plugin\r\nContent-Type: application/json\r\n"
        f"User-Agent: bench\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(
    info: dict[str, Any], session: str, deadline: float, counts: list[int]
) -> None:
    host, port = info["url"].split("//", 1)[1].rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    request = _request_bytes(info, session)
    try:
        while time.monotonic() < deadline:
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            if status_line.split(b" ", 2)[1] == b"202" and b'"fingerprint"' in body:
                counts[0] += 1
            else:
                counts[1] += 1
    finally:
        writer.close()


def _client_main(info: dict[str, Any], connections: int, seconds: float, out: Any) -> None:
    async def run() -> None:
        counts = [0, 0]
        deadline = time.monotonic() + seconds
        sessions = info["sessions"]
        await asyncio.gather(
            *(
                _connection(info, sessions[i % len(sessions)], deadline, counts)
                for i in range(connections)
            )
        )
        out.put(counts)

    asyncio.run(run())


def _pin(pid: int, cpus: str) -> None:
    if shutil.which("taskset"):
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], capture_output=True)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0.0 elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _served(url: str) -> int:
    reader, writer = await asyncio.open_connection(*url.split("//", 1)[1].rsplit(":", 1))
    writer.write(b"GET /_sandbox/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    raw = await reader.read()
    writer.close()
    return int(json.loads(raw.split(b"\r\n\r\n", 1)[1])["served"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--connections", type=int, default=16, help="per client process")
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    server = ctx.Process(target=_sandbox_main, args=(queue,), daemon=True)
    server.start()
    info = queue.get(timeout=30)
    ncpu = os.cpu_count() or 1
    _pin(server.pid or 0, "0")
    others = f"1-{ncpu - 1}" if ncpu > 1 else "0"

    # Warm-up, so the figure is the steady state.
    warm = ctx.Queue()
    w = ctx.Process(target=_client_main, args=(info, 4, 0.5, warm))
    w.start()
    w.join()

    results = ctx.Queue()
    clients = [
        ctx.Process(target=_client_main, args=(info, args.connections, args.seconds, results))
        for _ in range(args.clients)
    ]
    served_before = asyncio.run(_served(info["url"]))
    cpu_before = _cpu_seconds(server.pid or 0)
    started = time.monotonic()
    for c in clients:
        c.start()
        _pin(c.pid or 0, others)
    good = bad = 0
    for _ in clients:
        g, b = results.get(timeout=args.seconds + 60)
        good += g
        bad += b
    elapsed = time.monotonic() - started
    served = asyncio.run(_served(info["url"])) - served_before
    cpu = _cpu_seconds(server.pid or 0) - cpu_before
    for c in clients:
        c.join()
    server.terminate()
    server.join()

    client_rate = good / args.seconds
    server_rate = served / elapsed
    print(
        f"sandbox REST send-message: {client_rate:,.0f} calls/s seen by "
        f"{args.clients}x{args.connections} keep-alive connections "
        f"({good:,} answered 202, {bad} other) over {args.seconds:.0f} s"
    )
    per_core = served / cpu if cpu > 0 else server_rate
    busy = 100 * cpu / elapsed
    print(
        f"sandbox's own rate: {server_rate:,.0f} requests/s wall-clock, its process "
        f"{busy:.0f}% busy on one core"
    )
    print(
        f"sandbox capacity: {per_core:,.0f} send-message calls per CPU-second "
        f"(target >= {TARGET:,}/s on one core: {'met' if per_core >= TARGET else 'NOT met'})"
    )
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
