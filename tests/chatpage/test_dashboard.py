"""The sandbox dashboard in a real headless browser, against a small plugin of the test's
own: a settings page (checks the token, saves through the REST settings route) and an
Action URL (checks the signature, answers as a plugin does).

1. The settings page is embedded at ``<Settings URL>?website_id=<w>&token=<t>`` with the
   website's subscription token, as Crisp does; saving in the iframe stores the settings
   and the dashboard shows them.
2. The widget sidebar is rendered from the widget schema; a click reaches the Action URL
   with Crisp's body, signed, and its answer is shown; a data item is fetched.
3. Install and uninstall from the dashboard and from the chat page.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, expect

from crisp_plugin import signing
from crisp_plugin.rest import RestClient
from crisp_plugin.sandbox import Sandbox

WIDGET: dict[str, Any] = {
    "version": "1.0",
    "sections": [
        {
            "id": "replies",
            "title": "Auto responder",
            "items": [
                {
                    "id": "canned",
                    "type": "button",
                    "value": {
                        "type": "hook",
                        "label": "Send the canned reply",
                        "color": "green",
                        "data": {"visitor": "{conversation.meta.nickname}"},
                    },
                },
                {
                    "id": "sent",
                    "type": "data",
                    "value": {"label": "Replies sent", "editable": False},
                },
            ],
        }
    ],
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"message": {"type": "string", "minLength": 1}},
}


@dataclass
class PluginPages:
    """The plugin's two pages, served on one loopback port."""

    sb: Sandbox
    rest: RestClient
    url: str = ""
    pages: list[dict[str, str]] = field(default_factory=list)  # the settings page's queries
    actions: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    acted: asyncio.Event = field(default_factory=asyncio.Event)

    def _token_ok(self, website_id: str, token: str) -> bool:
        site = self.sb.store.websites.get(website_id)
        return site is not None and token == site.token

    async def settings_page(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.pages.append(query)
        wid, token = query.get("website_id", ""), query.get("token", "")
        if not self._token_ok(wid, token):
            return web.Response(status=401, text="The provided token is not valid")
        return web.Response(
            content_type="text/html",
            text=(
                f"<!doctype html><p id=who>{html.escape(wid)}</p>"
                "<form method=post action=/settings>"
                f"<input type=hidden name=website_id value={html.escape(wid)}>"
                f"<input type=hidden name=token value={html.escape(token)}>"
                "<input id=message name=message aria-label=message>"
                "<button id=save>Save</button></form>"
            ),
        )

    async def save(self, request: web.Request) -> web.Response:
        form = await request.post()
        wid, token = str(form.get("website_id", "")), str(form.get("token", ""))
        if not self._token_ok(wid, token):
            return web.Response(status=401, text="The provided token is not valid")
        await self.rest.save_settings(wid, {"message": str(form.get("message", ""))})
        return web.Response(content_type="text/html", text="<p id=saved>Saved</p>")

    async def action(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.actions.append((dict(request.headers), raw))
        self.acted.set()
        ts = request.headers.get("X-Crisp-Request-Timestamp", "")
        if not signing.verify(
            self.sb.secret, ts, raw, request.headers.get("X-Crisp-Signature", "")
        ):
            return web.json_response({"error": "bad signature"}, status=401)
        body = json.loads(raw)
        if body["action"]["type"] == "data":
            return web.json_response({"data": {"value": "3 today"}})
        return web.json_response({})


@pytest.fixture
async def market() -> AsyncIterator[tuple[Sandbox, PluginPages]]:
    async with (
        Sandbox(websites=["site-a", "site-b"], settings_schema=SCHEMA) as sb,
        RestClient(sb.identifier, sb.key, api_url=sb.url, allow_insecure_http=True) as rest,
    ):
        plugin = PluginPages(sb, rest)
        app = web.Application()
        app.router.add_get("/settings", plugin.settings_page)
        app.router.add_post("/settings", plugin.save)
        app.router.add_post("/action", plugin.action)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        plugin.url = f"http://127.0.0.1:{port}"
        await sb.control.set_plugin(
            settings_url=plugin.url + "/settings",
            action_url=plugin.url + "/action",
            widget_schema=WIDGET,
        )
        try:
            yield sb, plugin
        finally:
            await runner.cleanup()


async def test_settings_iframe_and_widget_click(
    browser: Browser, market: tuple[Sandbox, PluginPages]
) -> None:
    sb, plugin = market
    token = sb.store.websites["site-a"].token
    sid = await sb.control.create_conversation("site-a", nickname="Ada")
    await sb.control.visitor_says("site-a", sid, "hello there")
    page = await browser.new_page()
    await page.goto(sb.dashboard_url)
    await expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=10_000)

    # 1. The settings page, embedded exactly as Crisp embeds it.
    frame_el = page.get_by_test_id("settings-frame")
    expected = f"{plugin.url}/settings?website_id=site-a&token={token}"
    await expect(frame_el).to_have_attribute("src", expected)
    frame = page.frame_locator("[data-testid=settings-frame]")
    await expect(frame.locator("#who")).to_have_text("site-a")
    assert plugin.pages[-1] == {"website_id": "site-a", "token": token}
    await frame.locator("#message").fill("Back at 9")
    await frame.locator("#save").click()
    await expect(frame.locator("#saved")).to_have_text("Saved")
    assert sb.store.websites["site-a"].settings == {"message": "Back at 9"}
    await page.locator("details.stored summary").click()
    await expect(page.get_by_test_id("settings-stored")).to_contain_text("Back at 9")

    # 2. The widget sidebar for the conversation, and a click on its button.
    await expect(page.get_by_test_id("messages")).to_contain_text("hello there")
    await expect(page.get_by_test_id("widget-sent")).to_contain_text("3 today")  # fetched
    plugin.actions.clear()
    plugin.acted.clear()
    await page.get_by_test_id("widget-canned").click()
    await asyncio.wait_for(plugin.acted.wait(), 10)
    headers, raw = plugin.actions[-1]
    assert json.loads(raw) == {
        "origin": {"website_id": "site-a", "session_id": sid, "token": token},
        "widget": {"section_id": "replies", "item_id": "canned"},
        "action": {"type": "button"},
        "payload": {"data": {"visitor": "Ada"}, "value": {}},
    }
    assert signing.verify(
        sb.secret, headers["X-Crisp-Request-Timestamp"], raw, headers["X-Crisp-Signature"]
    )
    result = page.get_by_test_id("widget-result")
    await expect(result).to_contain_text(f"POST {plugin.url}/action -> 200")
    await expect(result).to_have_attribute("data-ok", "true")
    await expect(result).to_have_attribute("data-item", "canned")

    # Another website: its own token in the iframe.
    await page.locator("#websites li[data-website=site-b] .name").click()
    token_b = sb.store.websites["site-b"].token
    await expect(frame_el).to_have_attribute(
        "src", f"{plugin.url}/settings?website_id=site-b&token={token_b}"
    )
    await expect(frame.locator("#who")).to_have_text("site-b")


async def test_install_and_uninstall_from_the_dashboard_and_the_chat_page(
    browser: Browser, market: tuple[Sandbox, PluginPages]
) -> None:
    sb, _ = market
    page = await browser.new_page()
    await page.goto(sb.dashboard_url)
    await expect(page.locator("body[data-ready=true]")).to_be_attached(timeout=10_000)
    await page.get_by_test_id("install-site-b").click()
    await expect(page.locator("#websites li[data-website=site-b]")).to_have_attribute(
        "data-installed", "false"
    )
    assert sb.store.websites["site-b"].subscribed is False
    await page.get_by_test_id("install").click()  # site-a, the one shown
    await expect(page.get_by_test_id("site-state")).to_have_text("plugin not installed")
    await expect(page.get_by_test_id("settings-frame")).to_be_hidden()
    await expect(page.get_by_test_id("settings-note")).to_contain_text("Install the plugin")
    assert sb.store.websites["site-a"].subscribed is False
    await page.get_by_test_id("install").click()
    await expect(page.get_by_test_id("site-state")).to_have_text("plugin installed")
    await expect(page.get_by_test_id("settings-frame")).to_be_visible()
    events = sb.bus.events(event="plugin:subscription:updated")
    assert [(e["data"]["website_id"], e["data"]["bound"]) for e in events] == [
        ("site-b", False),
        ("site-a", False),
        ("site-a", True),
    ]

    chat = await browser.new_page()
    await chat.goto(sb.chat_url + "#site-b")
    await expect(chat.locator("body[data-ready=true]")).to_be_attached(timeout=10_000)
    await expect(chat.get_by_test_id("installed")).to_have_attribute("data-installed", "false")
    await chat.get_by_test_id("install").click()
    await expect(chat.get_by_test_id("installed")).to_have_text("Plugin installed")
    assert sb.store.websites["site-b"].subscribed is True
    await chat.get_by_test_id("install").click()
    await expect(chat.get_by_test_id("installed")).to_have_attribute("data-installed", "false")
    assert sb.store.websites["site-b"].subscribed is False
