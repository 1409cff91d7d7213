"""Events without an id of their own (session:set_state, compose...) that repeat: a
genuine repeat from one source runs every time; the same event arriving twice (over
RTM and as a hook, or as a hook redelivery) runs once."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest
from transport_kit import eventually, settings_for

from crisp_plugin import Config, Plugin, on
from crisp_plugin.events import Event
from crisp_plugin.runner import Runner
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.signing import sign


class States(Plugin):
    """Records every conversation state its handler saw."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.states: list[str] = []

    @on("session:set_state")
    async def state_changed(self, event: Event) -> None:
        self.states.append(str(event.raw.get("state")))


async def run(settings: Config, sb: Sandbox) -> tuple[Runner, States]:
    runner = Runner(settings, plugin_class=States)
    await runner.start()
    if runner.webhooks is not None:
        await sb.control.add_hook(runner.webhooks.url)
    assert isinstance(runner.plugin, States)
    return runner, runner.plugin


async def settle(runner: Runner, sb: Sandbox, received: int) -> None:
    assert runner.dispatcher is not None
    stats = runner.dispatcher.stats
    await eventually(lambda: stats.received.get("session:set_state", 0) >= received)
    await sb.wait_hooks()
    await runner.dispatcher.wait_idle()


async def test_resolved_unresolved_resolved_over_rtm_runs_three_times(sandbox: Sandbox) -> None:
    runner, plugin = await run(settings_for(sandbox, "rtm"), sandbox)
    try:
        session = await sandbox.control.create_conversation()
        for state in ("resolved", "unresolved", "resolved"):
            await sandbox.control.set_state(None, session, state)
        await settle(runner, sandbox, 3)
        assert plugin.states == ["resolved", "unresolved", "resolved"]
    finally:
        await runner.stop()


async def test_resolved_unresolved_resolved_over_hooks_runs_three_times(
    sandbox: Sandbox,
) -> None:
    runner, plugin = await run(settings_for(sandbox, "webhooks"), sandbox)
    try:
        session = await sandbox.control.create_conversation()
        for state in ("resolved", "unresolved", "resolved"):
            await sandbox.control.set_state(None, session, state)
        await settle(runner, sandbox, 3)
        assert plugin.states == ["resolved", "unresolved", "resolved"]
    finally:
        await runner.stop()


async def test_one_state_change_over_rtm_and_hook_runs_once(sandbox: Sandbox) -> None:
    runner, plugin = await run(settings_for(sandbox, "both"), sandbox)
    try:
        session = await sandbox.control.create_conversation()
        await sandbox.control.set_state(None, session, "resolved")
        await settle(runner, sandbox, 2)  # one copy per transport
        assert plugin.states == ["resolved"]
        assert runner.dispatcher is not None
        assert runner.dispatcher.stats.duplicates == {"session:set_state": 1}
        # and a genuine repeat later still runs (once, though it comes twice again)
        await sandbox.control.set_state(None, session, "unresolved")
        await sandbox.control.set_state(None, session, "resolved")
        await settle(runner, sandbox, 6)
        assert plugin.states == ["resolved", "unresolved", "resolved"]
    finally:
        await runner.stop()


async def post_hook(url: str, secret: str, state: str, attempt: int) -> int:
    body = json.dumps(
        {
            "website_id": "w1",
            "event": "session:set_state",
            "data": {"website_id": "w1", "session_id": "session_1", "state": state},
            "timestamp": 1700000000000,
        }
    ).encode()
    stamp = str(int(time.time() * 1000))
    headers = {
        "Content-Type": "application/json",
        "X-Crisp-Request-Timestamp": stamp,
        "X-Crisp-Signature": sign(secret, stamp, body),
        "X-Delivery-Attempt-Count": str(attempt),
        "X-Delivery-Attempt-Limit": "3",
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=body, headers=headers) as resp:
            return resp.status


@pytest.mark.parametrize("route", ["fast path", "aiohttp route"])
async def test_a_hook_redelivery_runs_once_a_new_delivery_again(
    sandbox: Sandbox, route: str
) -> None:
    runner, plugin = await run(settings_for(sandbox, "webhooks"), sandbox)
    try:
        assert runner.webhooks is not None
        url = runner.webhooks.url + ("?via=aiohttp" if route == "aiohttp route" else "")
        secret = sandbox.secret
        assert await post_hook(url, secret, "resolved", 1) == 200
        assert await post_hook(url, secret, "resolved", 2) == 200  # our 200 was lost
        assert runner.dispatcher is not None
        await runner.dispatcher.wait_idle()
        assert plugin.states == ["resolved"]
        assert await post_hook(url, secret, "resolved", 1) == 200  # resolved again
        await runner.dispatcher.wait_idle()
        assert plugin.states == ["resolved", "resolved"]
    finally:
        await runner.stop()
