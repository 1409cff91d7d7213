"""The garbage collector is the process's: only ``run`` (which owns its process) tunes
it, and only with ``[runtime] gc_tuning`` on. A runner or a sandbox embedded in someone
else's process (a user's pytest session, an application) leaves it as it was."""

from __future__ import annotations

import asyncio
import gc

from transport_kit import Recorder, settings_for

from crisp_plugin import gc_tuning
from crisp_plugin.runner import Runner
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.serve import serve


async def test_an_embedded_runner_and_sandbox_leave_the_collector_alone() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    async with Sandbox() as sandbox:
        async with Runner(settings_for(sandbox, "webhooks"), plugin_class=Recorder) as runner:
            assert runner.webhooks is not None
            await sandbox.control.add_hook(runner.webhooks.url)
            session = await sandbox.control.create_conversation()
            await sandbox.control.visitor_says(None, session, "still here")
            plugin = runner.plugin
            assert isinstance(plugin, Recorder)
            assert await plugin.next_text() == "still here"
            assert gc.get_threshold() == before
            assert gc.get_freeze_count() == frozen
    assert gc.get_threshold() == before


async def test_run_tunes_the_collector_while_it_runs_and_gives_it_back() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    async with Sandbox() as sandbox:
        settings = settings_for(sandbox, "rtm")
        stop, ready = asyncio.Event(), asyncio.Event()
        running = asyncio.create_task(serve(settings, Recorder, stop=stop, ready=ready))
        await asyncio.wait_for(ready.wait(), 10)
        assert gc.get_threshold()[0] >= gc_tuning.YOUNG_THRESHOLD
        if frozen == 0:
            assert gc.get_freeze_count() > 0  # start-up objects frozen
        stop.set()
        assert await asyncio.wait_for(running, 10) == 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


async def test_gc_tuning_off_leaves_the_collector_alone_under_run() -> None:
    before = gc.get_threshold()
    async with Sandbox() as sandbox:
        settings = settings_for(sandbox, "rtm", runtime={"gc_tuning": False})
        stop, ready = asyncio.Event(), asyncio.Event()
        running = asyncio.create_task(serve(settings, Recorder, stop=stop, ready=ready))
        await asyncio.wait_for(ready.wait(), 10)
        assert gc.get_threshold() == before
        stop.set()
        assert await asyncio.wait_for(running, 10) == 0
