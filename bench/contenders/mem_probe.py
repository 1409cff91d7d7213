"""Memory of our runner: RSS idle, after N conversations, and once their state expired.

    python -m bench.contenders.mem_probe SETTINGS_JSON N SETTLE_SECONDS

Starts the Runner (web hook transport, no-op plugin, short dedupe TTL), reads VmRSS
from /proc/self/status idle, feeds N ``message:send`` events of N distinct
conversations through the runner's dispatcher (the path every transport takes), 100
at a time (the dispatcher's concurrency, as W3's 100 conversations in flight), reads
VmRSS once all are handled (every dedupe key still alive), waits SETTLE_SECONDS for
the dedupe and ordering state to expire, feeds one more event (expiry may be lazy),
and reads VmRSS again.
Prints one JSON line with the three figures in MB.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from pathlib import Path

from bench.payloads import WEBSITE_ID, message_send, session_id
from crisp_plugin import gc_tuning
from crisp_plugin.config import Config
from crisp_plugin.dispatch import Dispatcher
from crisp_plugin.runner import Runner


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def dispatcher_of(runner: Runner) -> Dispatcher:
    if runner.dispatcher is None:
        raise RuntimeError("the runner is not running")
    return runner.dispatcher


async def feed_all(d: Dispatcher, count: int, start: int, batch: int = 100) -> None:
    for i in range(start, start + count):
        data = message_send(WEBSITE_ID, session_id(i), 10**12 + i, "hello there")
        while not d.feed("message:send", data, "webhook"):
            await d.wait_idle()
        if (i + 1) % batch == 0:
            await d.wait_idle()


async def main(settings: Config, count: int, settle: float) -> None:
    runner = Runner(settings)
    await runner.start()
    if settings.runtime.gc_tuning:
        gc_tuning.tune()  # as `run` does for the process it owns
    d = dispatcher_of(runner)
    await asyncio.sleep(0.5)
    gc.collect()
    idle = rss_mb()
    await feed_all(d, count, 0)
    await d.wait_idle()
    gc.collect()
    loaded = rss_mb()
    await asyncio.sleep(settle)
    await feed_all(d, 1, count)
    await d.wait_idle()
    await asyncio.sleep(0.2)
    gc.collect()
    expired = rss_mb()
    print(
        json.dumps({"ready": True, "idle_mb": idle, "loaded_mb": loaded, "expired_mb": expired}),
        flush=True,
    )
    await runner.stop()


if __name__ == "__main__":
    config = Config.model_validate(json.loads(Path(sys.argv[1]).read_text()))
    asyncio.run(main(config, int(sys.argv[2]), float(sys.argv[3])))
