"""The official npm ``crisp-api`` client (11.3.0), unchanged, on the sandbox's Marketplace
routes, and its ``verifyWidget`` on the widget actions the sandbox posts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.sandbox.store import now_ms

NodeRunner = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]

WIDGET: dict[str, Any] = {
    "version": "1.0",
    "sections": [
        {
            "id": "main",
            "title": "Main",
            "items": [
                {
                    "id": "canned",
                    "type": "button",
                    "value": {
                        "type": "hook",
                        "label": "Send",
                        "data": {"visitor": "{conversation.meta.nickname}"},
                    },
                },
                {"id": "status", "type": "data", "value": {"label": "Status"}},
            ],
        }
    ],
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"message": {"type": "string", "minLength": 1}, "enabled": {"type": "boolean"}},
}


@dataclass
class ActionUrl:
    """Records the raw posts; answers a button ``{}``."""

    url: str = ""
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.read()))
        self.arrived.set()
        return web.json_response({})


@pytest.fixture
async def market() -> AsyncIterator[tuple[Sandbox, ActionUrl]]:
    receiver = ActionUrl()
    app = web.Application()
    app.router.add_post("/widget", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}/widget"
    websites = [f"site-{i:02}" for i in range(23)]
    try:
        async with Sandbox(
            websites=websites,
            hook_retry_delays=(0.05,),
            settings_schema=SCHEMA,
            action_url=receiver.url,
            widget_schema=WIDGET,
        ) as sb:
            yield sb, receiver
    finally:
        await runner.cleanup()


async def test_marketplace_routes(market: tuple[Sandbox, ActionUrl], node: NodeRunner) -> None:
    sb, receiver = market
    # A date after every website's creation (ms), and the save after it.
    created = max(site.changed_at for site in sb.store.websites.values())
    while now_ms() <= created:  # noqa: ASYNC110 - the condition is the clock itself
        await asyncio.sleep(0.001)
    since = datetime.fromtimestamp((created + 1) / 1000, UTC).isoformat().replace("+00:00", "Z")
    await sb.control.save_settings("site-05", {"message": "configured"})
    wid = "site-00"
    session = await sb.control.create_conversation(wid, nickname="Zoë 👋")
    out = await node(
        "marketplace",
        {
            "rest_host": sb.url,
            "identifier": sb.identifier,
            "key": sb.key,
            "plugin_id": sb.plugin_id,
            "website_id": wid,
            "session_id": session,
            "since": since,
        },
    )
    assert "crashed" not in out, out.get("crashed")
    assert [w["website_id"] for w in out["page1"] + out["page2"]] == sb.websites
    assert len(out["page1"]) == 20 and all("plan" in w for w in out["page1"])
    assert [w["website_id"] for w in out["configured"]] == ["site-05"]
    assert [(w["website_id"], w["difference"]) for w in out["since"]] == [("site-05", "updated")]
    assert out["before"]["schema"] == SCHEMA and out["before"]["token"]
    assert out["after"]["settings"] == {"message": "Hi", "enabled": False}
    assert out["invalid"]["code"] == 400 and out["invalid"]["message"] == "invalid_data"
    assert "data.message" in out["invalid"]["data"]["message"]
    assert sb.store.websites[wid].settings == {"message": "Hi", "enabled": False}
    assert set(out["delivered"]) == {"correlation_id", "strategy"}
    await sb.wait_widget_actions()
    (event,) = sb.bus.events(event="widget:action:processed")
    assert event["data"]["correlation_id"] == out["delivered"]["correlation_id"]
    assert event["data"]["outcome"] == "success"
    assert len(receiver.posts) == 1


async def test_verify_widget_accepts_the_sandboxs_signatures(
    market: tuple[Sandbox, ActionUrl], node: NodeRunner
) -> None:
    sb, receiver = market
    session = await sb.control.create_conversation("site-00", nickname="Zoë 👋")
    await sb.control.widget_action("site-00", session, "main", "canned")
    await sb.control.widget_action("site-00", session, "main", "status")
    assert len(receiver.posts) == 2
    actions = [
        {
            "body": raw.decode(),
            "timestamp": headers["X-Crisp-Request-Timestamp"],
            "signature": headers["X-Crisp-Signature"],
        }
        for headers, raw in receiver.posts
    ]
    assert "Zoë 👋" in actions[0]["body"]  # UTF-8 as is, as JSON.stringify writes it
    forged = {**actions[0], "secret": "not the secret"}
    out = await node("verify_widget", {"secret": sb.secret, "actions": [*actions, forged]})
    assert out == {"results": [True, True, False]}
