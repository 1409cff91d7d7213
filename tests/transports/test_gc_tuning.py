"""The runner (and the sandbox) tune the garbage collector while they run, and give it
back once the last of them stopped."""

from __future__ import annotations

import gc

from transport_kit import Recorder, settings_for

from crisp_plugin import gc_tuning
from crisp_plugin.runner import Runner
from crisp_plugin.sandbox import Sandbox


async def test_gc_is_tuned_while_runners_run_and_restored_after_the_last() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    sandbox = Sandbox()
    await sandbox.start()
    first = Runner(settings_for(sandbox, "webhooks"), plugin_class=Recorder)
    second = Runner(settings_for(sandbox, "webhooks"), plugin_class=Recorder)
    try:
        await first.start()
        assert gc.get_threshold()[0] >= gc_tuning.YOUNG_THRESHOLD
        if frozen_before == 0:
            assert gc.get_freeze_count() > 0  # start-up objects frozen
        await second.start()
        await first.stop()
        assert gc.get_threshold()[0] >= gc_tuning.YOUNG_THRESHOLD  # others still run
        # a plugin still works with the collector tuned: events reach the handler
        assert second.webhooks is not None
        await sandbox.control.add_hook(second.webhooks.url)
        session = await sandbox.control.create_conversation()
        await sandbox.control.visitor_says(None, session, "still here")
        plugin = second.plugin
        assert isinstance(plugin, Recorder)
        assert await plugin.next_text() == "still here"
        await second.stop()
        assert gc.get_threshold()[0] >= gc_tuning.YOUNG_THRESHOLD  # the sandbox runs
    finally:
        await first.stop()
        await second.stop()
        await sandbox.stop()
    assert gc.get_threshold() == before
    if frozen_before == 0:
        assert gc.get_freeze_count() == 0
    await second.stop()  # a second stop does not restore twice
    await sandbox.stop()
    assert gc.get_threshold() == before
