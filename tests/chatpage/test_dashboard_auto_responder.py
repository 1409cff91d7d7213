"""The example auto-responder on the sandbox dashboard, in a real browser: the
framework's settings page in the dashboard's iframe (framed as Crisp's app frames it),
a save there used by the running bot at once, and its widget's status line and button
answered by the framework's Action URL."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import PluginRunner, sandbox_visitor

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "auto_responder"
sys.path.insert(0, str(EXAMPLE))
from auto_responder import AutoResponder, SiteSettings  # noqa: E402

SHOP = "5a5e0d3c-3333-4333-8333-333333333333"
ALWAYS_OPEN = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "00:00",
               "close": "00:00"}  # fmt: skip


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(port=0, websites=[SHOP]) as sandbox:
        await sandbox.control.save_settings(SHOP, ALWAYS_OPEN)
        yield sandbox


async def test_edit_the_settings_in_the_dashboard_and_the_bot_uses_them(
    browser: Browser, sb: Sandbox, tmp_path: Path
) -> None:
    kit = PluginRunner(sb)
    state = {"path": str(tmp_path / "state.sqlite3")}
    async with kit(AutoResponder, config=EXAMPLE / "plugin.toml", state=state) as bot:
        page = await browser.new_page()
        await page.goto(sb.dashboard_url)
        await expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=10_000)
        frame_el = page.get_by_test_id("settings-frame")
        await expect(frame_el).to_have_attribute("src", kit.settings_page(bot, SHOP))
        frame = page.frame_locator("[data-testid=settings-frame]")
        welcome = frame.locator("textarea[name=welcome]")
        await expect(welcome).to_have_value(SiteSettings().welcome)
        await welcome.fill("Hello from the dashboard!")
        await frame.locator("button[type=submit]").click()
        await expect(frame.locator("body")).to_contain_text("Saved.")
        assert sb.store.websites[SHOP].settings["welcome"] == "Hello from the dashboard!"

        # The running bot uses them for the next visitor: no restart.
        visitor = await sandbox_visitor(sb, SHOP, settle=kit.settle)
        await visitor.say("hi")
        assert (await visitor.expect_reply()).text == "Hello from the dashboard!"

        # The widget of that conversation: its status fetched, its button clicked.
        await page.reload()
        await expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=10_000)
        await expect(page.get_by_test_id("messages")).to_contain_text("Hello from the dashboard!")
        await expect(page.get_by_test_id("widget-status")).to_contain_text("sent")
        await page.get_by_test_id("widget-send_canned").click()
        await expect(page.get_by_test_id("widget-result")).to_have_attribute("data-ok", "true")
        texts = [m.text for m in await visitor.replies()]
        assert texts == ["Hello from the dashboard!", SiteSettings().canned]
