"""The sandbox in its own process, with the visitor side of W2 and W3 built in.

    python -m bench.contenders.sandbox_proc

Starts ``crisp_plugin.sandbox.Sandbox`` on a free loopback port with the bench's fixed
credentials and one website that installed the plugin, prints ``{"ready": true, "url":
..., ...}``, then takes JSON commands on stdin, one a line, and answers each with one
JSON line:

- ``{"cmd": "add_hook", "url": U}``: deliver signed hooks to U from now on.
- ``{"cmd": "hook_stats"}``: deliveries in the log, how many needed a retry and the
  statuses of the failed attempts.
- ``{"cmd": "conversation"}``: a new conversation -> ``{"session_id": ...}``.
- ``{"cmd": "burst", "n": N, "conversations": C}`` (W2): N visitor messages round-robin
  over C conversations, as fast as the sandbox stores and pushes them ->
  ``{"pushed": N, "push_s": ...}``.
- ``{"cmd": "autoreply", "conversations": K, "messages": M, "think_ms": T}`` (W3): K
  visitors each say M messages, one at a time, each waiting for the operator's reply
  and then a random pause of 0 to 2T ms before the next (T = 0: no pause, the bot is
  saturated); latency is from just before the visitor's message is stored to the moment the
  reply is stored (both inside this process, ``perf_counter``) -> ``{"replies", "seconds",
  "p50_ms", "p99_ms", "per_s", "missing", "cpu_s"}`` (``cpu_s``: this process's CPU time).

The visitor plays through the sandbox's own actions (the code behind its control
API), not over HTTP, so the harness adds no HTTP round trips to what is measured.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import statistics
import sys
import time
from typing import Any

from bench.payloads import IDENTIFIER, KEY, SECRET, WEBSITE_ID
from crisp_plugin import gc_tuning
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.sandbox.actions import post_message

URN = "urn:crisp-plugin:bench:1"
PLUGIN_ID = "3f6d4a2e-5b7c-4e8f-9a0b-1c2d3e4f5a6b"


def say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


class Visitor:
    """Plays visitors against the sandbox's store and event bus."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.site = sb.store.websites[WEBSITE_ID]
        self.waiters: dict[str, asyncio.Future[float]] = {}
        sb.bus.watch_all(self._on_event)

    def _on_event(self, name: str, payload: dict[str, Any]) -> None:
        if name != "message:received":
            return
        fut = self.waiters.pop(str(payload.get("session_id")), None)
        if fut is not None and not fut.done():
            fut.set_result(time.perf_counter())

    def conversation(self) -> Any:
        return self.sb.store.new_conversation(self.site)

    async def says(self, conv: Any, text: str) -> None:
        body = {"type": "text", "from": "user", "origin": "chat", "content": text}
        await post_message(self.sb.bus, self.site, conv, body, self.sb.plugin_id)

    async def burst(self, n: int, conversations: int) -> dict[str, Any]:
        convs = [self.conversation() for _ in range(max(1, conversations))]
        started = time.perf_counter()
        for i in range(n):
            await self.says(convs[i % len(convs)], f"message {i}")
        return {"pushed": n, "push_s": time.perf_counter() - started}

    async def autoreply(
        self, conversations: int, messages: int, think_ms: float, wait: float
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        missing = 0

        rng = random.Random(7)

        async def one(conv: Any) -> None:
            nonlocal missing
            if think_ms > 0:  # do not start all visitors in the same instant
                await asyncio.sleep(rng.uniform(0, 2 * think_ms) / 1000)
            for m in range(messages):
                fut: asyncio.Future[float] = loop.create_future()
                self.waiters[conv.session_id] = fut
                t0 = time.perf_counter()
                await self.says(conv, f"question {m}")
                try:
                    t1 = await asyncio.wait_for(fut, wait)
                except TimeoutError:
                    missing += 1
                    self.waiters.pop(conv.session_id, None)
                    continue
                latencies.append(t1 - t0)
                if think_ms > 0:
                    await asyncio.sleep(rng.uniform(0, 2 * think_ms) / 1000)

        convs = [self.conversation() for _ in range(conversations)]
        started = time.perf_counter()
        cpu0 = time.process_time()
        await asyncio.gather(*(one(c) for c in convs))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu0
        ms = [x * 1000 for x in latencies]
        return {
            "replies": len(ms),
            "missing": missing,
            "seconds": seconds,
            "per_s": len(ms) / seconds if seconds > 0 else 0.0,
            "p50_ms": statistics.median(ms) if ms else float("nan"),
            "p99_ms": percentile(ms, 99),
            "cpu_s": cpu,
        }


async def serve(sb: Sandbox, visitor: Visitor) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = json.loads(line)
        what = cmd.get("cmd")
        try:
            if what == "add_hook":
                sb.hooks.add_url(cmd["url"])
                say({"ok": True})
            elif what == "hook_stats":
                records = list(sb.hooks.log)
                retried = [r for r in records if len(r["attempts"]) > 1]
                statuses: dict[str, int] = {}
                for r in retried:
                    for a in r["attempts"][:-1]:
                        statuses[str(a["status"])] = statuses.get(str(a["status"]), 0) + 1
                say({"deliveries": len(records), "retried": len(retried), "failed": statuses})
            elif what == "conversation":
                say({"session_id": visitor.conversation().session_id})
            elif what == "burst":
                say(await visitor.burst(int(cmd["n"]), int(cmd.get("conversations", 100))))
            elif what == "autoreply":
                result = await visitor.autoreply(
                    int(cmd["conversations"]),
                    int(cmd["messages"]),
                    float(cmd.get("think_ms", 0)),
                    float(cmd.get("wait", 5)),
                )
                await sb.wait_hooks(5.0)
                say(result)
            else:
                say({"error": f"unknown command {what!r}"})
        except Exception as exc:
            say({"error": f"{type(exc).__name__}: {exc}"})


async def main() -> None:
    sb = Sandbox(
        port=0,
        identifier=IDENTIFIER,
        key=KEY,
        secret=SECRET,
        plugin_id=PLUGIN_ID,
        urn=URN,
        websites=[WEBSITE_ID],
    )
    async with sb:
        gc_tuning.tune()  # this process is the sandbox's: tuned as `run` tunes its own
        visitor = Visitor(sb)
        say(
            {
                "ready": True,
                "url": sb.url,
                "relay_url": sb.relay_url,
                "website_id": WEBSITE_ID,
                "plugin_id": sb.plugin_id,
            }
        )
        server = asyncio.ensure_future(serve(sb, visitor))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait([server, stopper], return_when=asyncio.FIRST_COMPLETED)
        server.cancel()
        stopper.cancel()


if __name__ == "__main__":
    asyncio.run(main())
