"""Runs one of our plugins with the framework's Runner, the way ``crisp_plugin run`` does
(the event loop it picks, the Runner, then the garbage-collector tuning ``run`` applies
to the process it owns).

    python -m bench.contenders.ours_runner SETTINGS_JSON [EXPECT]

SETTINGS_JSON is a file holding the settings as a dict (the same keys as plugin.toml).
Prints ``{"ready": true, "hook_url": ...}`` once the transports are up (the RTM
socket authenticated); with EXPECT (W2),
prints ``{"done": EXPECT, "last_ms": ...}`` when the Counter plugin has seen that many
events. SIGTERM drains and stops.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

from bench.contenders.bots import Counter
from crisp_plugin import gc_tuning
from crisp_plugin.config import Config, configure_logging_for
from crisp_plugin.event_loop import loop_factory
from crisp_plugin.runner import Runner


async def main(settings: Config, expect: int | None) -> None:
    configure_logging_for(settings)
    if expect is not None:
        Counter.expect = expect
        Counter.reached = asyncio.Event()
    runner = Runner(settings)
    await runner.start()
    if settings.runtime.gc_tuning:
        gc_tuning.tune()
    if runner.rtm is not None:
        await asyncio.wait_for(runner.rtm.wait_ready(), 10.0)
    hook_url = runner.webhooks.url if runner.webhooks is not None else None
    print(json.dumps({"ready": True, "hook_url": hook_url}), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if Counter.reached is not None:
        waiter = asyncio.ensure_future(Counter.reached.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait([waiter, stopper], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()
        if Counter.reached.is_set():
            print(json.dumps({"done": Counter.seen, "last_ms": time.time() * 1000}), flush=True)
    await stop.wait()
    await runner.stop()


def run_as_run_does(config: Config, expect: int | None = None) -> None:
    """``main`` on the event loop ``crisp_plugin run`` would start for ``config``
    (``[runtime] event_loop``: uvloop when installed, unless it says otherwise)."""
    with asyncio.Runner(loop_factory=loop_factory(config.runtime.event_loop)) as process:
        process.run(main(config, expect))


if __name__ == "__main__":
    config = Config.model_validate(json.loads(Path(sys.argv[1]).read_text()))
    run_as_run_does(config, int(sys.argv[2]) if len(sys.argv) > 2 else None)
