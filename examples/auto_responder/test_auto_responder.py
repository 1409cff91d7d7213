"""The auto-responder on a sandbox with two websites that installed it: each answers
with its own settings (or not at all), once per conversation; an admin's save on the
settings page applies to the next conversation; the widget's button and status line
work as Crisp's inbox would call them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from auto_responder import AutoResponder, SiteSettings, is_open

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import PluginRunner, sandbox_visitor

CONFIG = Path(__file__).with_name("plugin.toml")
SHOP = "5a5e0d3c-1111-4111-8111-111111111111"
CLINIC = "5a5e0d3c-2222-4222-8222-222222222222"
ALWAYS_OPEN = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "00:00",
               "close": "00:00"}  # fmt: skip
NEVER_OPEN = {"days": []}


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(port=0, websites=[SHOP, CLINIC], hook_retry_delays=(0.1, 0.3)) as sandbox:
        control = sandbox.control
        await control.save_settings(SHOP, {"welcome": "Welcome to the shop!", **ALWAYS_OPEN})
        await control.save_settings(CLINIC, {"away": "The clinic is closed.", **NEVER_OPEN})
        yield sandbox


def run(kit: PluginRunner, tmp_path: Path) -> Any:
    state = {"path": str(tmp_path / "auto_responder.sqlite3")}
    return kit(AutoResponder, config=CONFIG, state=state)


async def test_each_website_answers_with_its_own_settings_once_per_conversation(
    sb: Sandbox, tmp_path: Path
) -> None:
    kit = PluginRunner(sb)
    async with run(kit, tmp_path):
        shop = await sandbox_visitor(sb, SHOP, settle=kit.settle)
        clinic = await sandbox_visitor(sb, CLINIC, settle=kit.settle)
        await shop.say("hello")
        await clinic.say("hello")
        assert (await shop.expect_reply()).text == "Welcome to the shop!"
        assert (await clinic.expect_reply()).text == "The clinic is closed."
        await shop.say("are you there?")
        await shop.expect_no_reply()  # once per conversation

        await sb.control.save_settings(SHOP, {"enabled": False})
        other = await sandbox_visitor(sb, SHOP, settle=kit.settle)
        await kit.settle()
        await other.say("hello?")
        await other.expect_no_reply()


async def test_an_admin_saves_the_settings_page_and_the_next_visitor_sees_it(
    sb: Sandbox, tmp_path: Path
) -> None:
    kit = PluginRunner(sb)
    async with run(kit, tmp_path) as bot, aiohttp.ClientSession() as http:
        url = kit.settings_page(bot, SHOP)
        async with http.get(url) as resp:
            assert resp.status == 200
            page = await resp.text()
        assert ">Welcome to the shop!</textarea>" in page
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
        form.update(enabled="on", welcome="New welcome", timezone="Mars/Olympus")
        async with http.post(url.split("?")[0], data=form) as resp:
            refused = await resp.text()
        assert "is not a time zone name" in refused  # said next to the field, nothing saved
        assert sb.store.websites[SHOP].settings["welcome"] == "Welcome to the shop!"

        form.update(timezone="Europe/Paris", days="\n".join(ALWAYS_OPEN["days"]),
                    open="00:00", close="00:00")  # fmt: skip
        form.update({k: v for k, v in SiteSettings().model_dump(mode="json").items()
                     if k in ("away", "canned")})  # fmt: skip
        async with http.post(url.split("?")[0], data=form) as resp:
            assert "Saved." in await resp.text()
        visitor = await sandbox_visitor(sb, SHOP, settle=kit.settle)
        await visitor.say("hi")
        assert (await visitor.expect_reply()).text == "New welcome"


async def test_the_widget_sends_the_canned_reply_and_shows_the_status(
    sb: Sandbox, tmp_path: Path
) -> None:
    kit = PluginRunner(sb)
    async with run(kit, tmp_path) as bot, aiohttp.ClientSession() as http:
        visitor = await sandbox_visitor(sb, SHOP, settle=kit.settle)
        token = sb.store.websites[SHOP].token

        async def click(item: str, kind: str) -> Any:
            body = {
                "origin": {"website_id": SHOP, "session_id": visitor.session_id, "token": token},
                "widget": {"section_id": "auto_reply", "item_id": item},
                "action": {"type": kind},
                "payload": {"data": {}},
            }
            async with http.post(kit.action_url(bot), json=body) as resp:
                assert resp.status == 200, await resp.text()
                return await resp.json()

        assert await click("status", "data") == {"data": {"value": "not sent yet"}}
        await visitor.say("hello")
        await visitor.expect_reply(match="Welcome to the shop!")
        assert await click("status", "data") == {"data": {"value": "sent"}}
        assert await click("send_canned", "button") == {}
        texts = [m.text for m in await visitor.replies()]
        assert texts == ["Welcome to the shop!", SiteSettings().canned]


def test_office_hours_follow_the_website_time_zone() -> None:
    hours = SiteSettings(timezone="America/New_York", days=["tue"], open="09:00", close="18:00")
    # 14:30 UTC on Tuesday 2026-11-24 is 09:30 in New York: open; 13:30 UTC is 08:30.
    at = datetime(2026, 11, 24, 14, 30, tzinfo=ZoneInfo("UTC"))
    assert is_open(hours, at)
    assert not is_open(hours, at.replace(hour=13))
    assert not is_open(hours, at.replace(day=25))  # a Wednesday
    night = hours.model_copy(update={"open": time(22), "close": time(6)})
    assert is_open(night, at.replace(day=25, hour=3))  # 22:30 on Tuesday in New York
    assert not is_open(night, at.replace(hour=14))
