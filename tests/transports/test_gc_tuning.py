"""The runner tunes the garbage collector while it runs and gives it back on stop."""

from __future__ import annotations

import gc

from transport_kit import Recorder, settings_for

from crisp_plugin import gc_tuning
from crisp_plugin.runner import Runner
from crisp_plugin.sandbox import Sandbox


async def test_gc_is_tuned_while_runners_run_and_restored_after_the_last(
    sandbox: Sandbox,
) -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    first = Runner(settings_for(sandbox, "webhooks"), plugin_class=Recorder)
    second = Runner(settings_for(sandbox, "webhooks"), plugin_class=Recorder)
    await first.start()
    try:
        assert gc.get_threshold()[0] >= gc_tuning.YOUNG_THRESHOLD
        if frozen_before == 0:
            assert gc.get_freeze_count() > 0  # start-up objects frozen
        await second.start()
        await first.stop()
        assert gc.get_threshold()[0] >= gc_tuning.YOUNG_THRESHOLD  # one still runs
        # a plugin still works with the collector tuned: events reach the handler
        await sandbox.control.add_hook(second.webhooks.url)  # type: ignore[union-attr]
        session = await sandbox.control.create_conversation()
        await sandbox.control.visitor_says(None, session, "still here")
        plugin = second.plugin
        assert isinstance(plugin, Recorder)
        assert await plugin.next_text() == "still here"
    finally:
        await first.stop()
        await second.stop()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before
    await second.stop()  # a second stop does not restore twice
    assert gc.get_threshold() == before
