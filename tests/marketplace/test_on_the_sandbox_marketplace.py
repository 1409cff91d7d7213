"""The framework's marketplace plugin meets the sandbox's Marketplace: the example
auto-responder registered with what ``crisp_plugin schema`` / ``widget`` print, its
settings validated by the sandbox against that schema, its widget clicked through the
sandbox (Crisp's body, signed) and answered by the framework's Action URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from crisp_plugin.marketplace import settings_schema, widget_schema
from crisp_plugin.sandbox import Sandbox, SandboxControlError
from crisp_plugin.testing import PluginRunner, sandbox_visitor
from examples.auto_responder.auto_responder import AutoResponder, SiteSettings

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "auto_responder" / "plugin.toml"
URN = "urn:crisp-plugin-examples:auto-responder:1"
SHOP = "5a5e0d3c-1111-4111-8111-111111111111"
ALWAYS_OPEN: dict[str, Any] = {
    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "open": "00:00",
    "close": "00:00",
}


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(
        urn=URN,
        websites=[SHOP],
        hook_retry_delays=(0.1,),
        settings_schema=settings_schema(SiteSettings, URN),
        widget_schema=widget_schema(AutoResponder.widget_items_, AutoResponder.widget_sections),
    ) as sandbox:
        yield sandbox


async def test_the_sandbox_checks_saves_against_the_printed_schema(sb: Sandbox) -> None:
    await sb.control.save_settings(SHOP, {"welcome": "Hi!", **ALWAYS_OPEN})
    assert sb.store.websites[SHOP].settings["welcome"] == "Hi!"
    defaults = SiteSettings().model_dump(mode="json")
    await sb.control.save_settings(SHOP, defaults)  # every default fits its own schema
    with pytest.raises(SandboxControlError, match=r"data\.enabled should be boolean"):
        await sb.control.save_settings(SHOP, {"enabled": "sometimes"})
    assert sb.store.websites[SHOP].settings == defaults


async def test_a_click_on_the_sandbox_reaches_the_frameworks_action_url(
    sb: Sandbox, tmp_path: Path
) -> None:
    await sb.control.save_settings(SHOP, {"welcome": "Welcome to the shop!", **ALWAYS_OPEN})
    kit = PluginRunner(sb)
    state = {"path": str(tmp_path / "auto_responder.sqlite3")}
    async with kit(AutoResponder, config=CONFIG, state=state) as bot:
        await sb.control.set_plugin(action_url=kit.action_url(bot))
        visitor = await sandbox_visitor(sb, SHOP, settle=kit.settle)
        await visitor.say("hello")
        await visitor.expect_reply(match="Welcome to the shop!")
        rendered = await sb.control.widget(SHOP, visitor.session_id)
        items = {i["id"]: (s["id"], i) for s in rendered["sections"] for i in s["items"]}
        section, status = items["status"]
        record = await sb.control.widget_action(SHOP, visitor.session_id, section, status["id"])
        assert record["status"] == 200, record
        assert record["answer"] == {"data": {"value": "sent"}}
        section, button = items["send_canned"]
        record = await sb.control.widget_action(SHOP, visitor.session_id, section, button["id"])
        assert record["status"] == 200 and record["answer"] == {}, record
        texts = [m.text for m in await visitor.replies()]
        assert texts == ["Welcome to the shop!", SiteSettings().canned]
