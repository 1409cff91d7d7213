"""Widgets on the sandbox: the Generic widget rendered for a conversation, an operator's
click posted to the plugin's Action URL (Crisp's body, signed like a hook, the answer
relayed), and the deliver-widget REST routes with their ``widget:action:processed``.
The Action URL is a small aiohttp app on a loopback port, playing the plugin."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from sbtools import RelayFactory

from crisp_plugin import signing
from crisp_plugin.errors import InvalidData, NotFound
from crisp_plugin.rest import RestClient
from crisp_plugin.sandbox import Sandbox, SandboxControlError

WIDGET: dict[str, Any] = {
    "version": "1.0",
    "sections": [
        {
            "id": "customer",
            "title": "Customer of {website.name}",
            "items": [
                {
                    "id": "canned",
                    "type": "button",
                    "value": {
                        "type": "hook",
                        "label": "Send the canned reply",
                        "color": "blue",
                        "data": {"email": "{conversation.meta.email}", "plan": "pro"},
                    },
                },
                {
                    "id": "orders",
                    "type": "data",
                    "value": {"label": "Orders", "editable": False},
                },
                {
                    "id": "note",
                    "type": "data",
                    "value": {"label": "Note", "value": "none", "editable": True},
                },
                {
                    "id": "crm",
                    "type": "button",
                    "value": {
                        "type": "link",
                        "label": "Open in CRM",
                        "url": "https://crm.example/people",
                        "data": {"email": "{conversation.meta.email}"},
                    },
                },
                {
                    "id": "vip",
                    "type": "button",
                    "condition": "{conversation.meta.data.vip}",
                    "value": {"type": "hook", "label": "VIP only"},
                },
            ],
        },
        {
            "id": "ticket",
            "title": "Ticket",
            "items": [
                {
                    "id": "subject",
                    "type": "data",
                    "value": {"label": "Subject", "group": "t", "immediate": False},
                },
                {
                    "id": "open",
                    "type": "button",
                    "value": {"type": "submit", "label": "Open", "group": "t"},
                },
            ],
        },
    ],
}


@dataclass
class ActionUrl:
    """The plugin's Action URL: records each post, verifies its signature against the
    secret, answers as a plugin does (data items ``{"data": {"value"}}``, buttons ``{}``)
    unless ``statuses`` scripts failures first."""

    secret: str
    url: str = ""
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.posts.append((dict(request.headers), raw))
        self.arrived.set()
        if self.statuses:
            return web.json_response({"error": "scripted"}, status=self.statuses.pop(0))
        ts = request.headers.get("X-Crisp-Request-Timestamp", "")
        sig = request.headers.get("X-Crisp-Signature", "")
        if not signing.verify(self.secret, ts, raw, sig):
            return web.json_response({"error": "bad signature"}, status=401)
        body = json.loads(raw)
        if body["action"]["type"] == "data":
            value = body["payload"]["value"].get(body["widget"]["item_id"], "7 orders")
            return web.json_response({"data": {"value": value}})
        return web.json_response({})

    def bodies(self) -> list[Any]:
        return [json.loads(raw) for _, raw in self.posts]


@pytest.fixture
async def action_url(sb: Sandbox) -> AsyncIterator[ActionUrl]:
    plugin = ActionUrl(sb.secret)
    app = web.Application()
    app.router.add_post("/widget", plugin.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    plugin.url = f"http://127.0.0.1:{port}/widget"
    await sb.control.set_plugin(action_url=plugin.url, widget_schema=WIDGET)
    yield plugin
    await runner.cleanup()


@pytest.fixture
async def client(sb: Sandbox) -> AsyncIterator[RestClient]:
    async with RestClient(sb.identifier, sb.key, api_url=sb.url, allow_insecure_http=True) as rest:
        yield rest


async def _conversation(sb: Sandbox, **meta: Any) -> str:
    sid = await sb.control.create_conversation(None, email="ada@example.com")
    if meta:
        await sb.control.set_meta(None, sid, **meta)
    return sid


async def test_the_widget_is_rendered_for_the_conversation(
    sb: Sandbox, action_url: ActionUrl
) -> None:
    sid = await _conversation(sb)
    site = next(iter(sb.store.websites.values()))
    rendered = await sb.control.widget(None, sid)
    assert rendered["installed"] is True and rendered["action_url"] == action_url.url
    customer, ticket = rendered["sections"]
    assert customer["title"] == f"Customer of {site.name}"
    items = {i["id"]: i for i in customer["items"]}
    assert items["canned"]["data"] == {"email": "ada@example.com", "plan": "pro"}
    assert items["canned"]["kind"] == "hook" and items["canned"]["color"] == "blue"
    assert items["orders"]["fetch"] is True and items["orders"]["editable"] is False
    assert items["note"]["value"] == "none" and items["note"]["fetch"] is False
    assert items["crm"]["url"] == "https://crm.example/people?email=ada%40example.com"
    assert items["vip"]["visible"] is False  # no meta.data.vip on this conversation
    await sb.control.set_meta(None, sid, data={"vip": True})
    vip = (await sb.control.widget(None, sid))["sections"][0]["items"][4]
    assert vip["visible"] is True
    assert [i["immediate"] for i in ticket["items"] if i["type"] == "data"] == [False]


async def test_a_click_posts_crisps_body_signed_and_relays_the_answer(
    sb: Sandbox, action_url: ActionUrl
) -> None:
    sid = await _conversation(sb)
    site = next(iter(sb.store.websites.values()))
    record = await sb.control.widget_action(None, sid, "customer", "canned")
    assert record["ok"] is True and record["status"] == 200 and record["answer"] == {}
    headers, raw = action_url.posts[-1]
    assert json.loads(raw) == {
        "origin": {"website_id": site.website_id, "session_id": sid, "token": site.token},
        "widget": {"section_id": "customer", "item_id": "canned"},
        "action": {"type": "button"},
        "payload": {"data": {"email": "ada@example.com", "plan": "pro"}, "value": {}},
    }
    assert raw == signing.compact_json(json.loads(raw))  # compact, as Crisp sends
    ts = headers["X-Crisp-Request-Timestamp"]
    assert signing.verify(sb.secret, ts, raw, headers["X-Crisp-Signature"])
    assert not signing.verify("another secret", ts, raw, headers["X-Crisp-Signature"])
    assert sb.secret not in json.dumps(await sb.control.widget_actions())

    fetched = await sb.control.widget_action(None, sid, "customer", "orders")
    assert fetched["answer"] == {"data": {"value": "7 orders"}}
    assert action_url.bodies()[-1]["action"] == {"type": "data"}
    assert action_url.bodies()[-1]["payload"]["value"] == {}
    edited = await sb.control.widget_action(None, sid, "customer", "note", "call back")
    assert edited["answer"] == {"data": {"value": "call back"}}
    assert action_url.bodies()[-1]["payload"]["value"] == {"note": "call back"}
    submitted = await sb.control.widget_action(None, sid, "ticket", "open", {"subject": "Refund"})
    assert submitted["ok"] is True
    assert action_url.bodies()[-1]["payload"]["value"] == {"subject": "Refund"}
    log = await sb.control.widget_actions()
    assert [r["request"]["body"]["widget"]["item_id"] for r in log] == [
        "canned",
        "orders",
        "note",
        "open",
    ]
    assert await sb.control.widget_actions(clear=True) == []


async def test_an_action_url_that_fails_is_shown_as_an_error(
    sb: Sandbox, action_url: ActionUrl
) -> None:
    sid = await _conversation(sb)
    action_url.statuses = [500]
    record = await sb.control.widget_action(None, sid, "customer", "canned")
    assert record["ok"] is False and record["status"] == 500
    assert record["error"] == "the Action URL answered 500"
    assert record["answer"] == {"error": "scripted"}
    await sb.control.set_plugin(action_url="http://127.0.0.1:9/nothing-listens")
    record = await sb.control.widget_action(None, sid, "customer", "canned")
    assert record["ok"] is False and record["status"] is None
    assert "could not reach the Action URL" in record["error"]


@pytest.mark.parametrize(
    ("section", "item", "value", "status", "says"),
    [
        ("customer", "nothing", None, 404, "is not in the schema"),
        ("nowhere", "canned", None, 404, "is not in the schema"),
        ("customer", "crm", None, 400, "a link button opens its URL"),
        ("customer", "vip", None, 400, "hidden by its condition"),
        ("customer", "orders", "x", 400, "is not editable"),
        ("customer", "note", 3, 400, "value should be a string"),
        ("ticket", "open", {"stranger": "x"}, 400, "not data items of this button's group"),
    ],
)
async def test_a_click_the_widget_does_not_allow_is_refused_and_posts_nothing(
    sb: Sandbox,
    action_url: ActionUrl,
    section: str,
    item: str,
    value: Any,
    status: int,
    says: str,
) -> None:
    sid = await _conversation(sb)
    with pytest.raises(SandboxControlError, match=says) as caught:
        await sb.control.widget_action(None, sid, section, item, value)
    assert caught.value.status == status
    assert action_url.posts == [] and await sb.control.widget_actions() == []


async def test_no_click_without_an_install_an_action_url_or_a_schema(
    sb: Sandbox, action_url: ActionUrl
) -> None:
    sid = await _conversation(sb)
    await sb.control.uninstall()
    with pytest.raises(SandboxControlError, match="not installed") as caught:
        await sb.control.widget_action(None, sid, "customer", "canned")
    assert caught.value.status == 409
    await sb.control.install()
    await sb.control.clear_plugin("action_url")
    with pytest.raises(SandboxControlError, match="no Action URL"):
        await sb.control.widget_action(None, sid, "customer", "canned")
    await sb.control.clear_plugin("widget_schema")
    with pytest.raises(SandboxControlError, match="no widget schema") as caught:
        await sb.control.widget(None, sid)
    assert caught.value.status == 404
    assert action_url.posts == []


async def test_a_delivered_button_action_ends_in_widget_action_processed(
    sb: Sandbox, action_url: ActionUrl, client: RestClient, relay: RelayFactory
) -> None:
    sid = await _conversation(sb)
    site = next(iter(sb.store.websites.values()))
    listener = await relay(["widget:action:processed"])
    await listener.wait_for("authenticated")
    answer = await client.website.deliver_widget_button_action_for_conversation(
        site.website_id,
        sid,
        sb.plugin_id,
        {"section_id": "customer", "item_id": "canned", "data": {"order": "42"}},
    )
    assert set(answer) == {"correlation_id", "strategy"}
    assert answer["strategy"] == {"attempts": 3, "exhaustion": 0.15}  # the hook budget
    processed = await listener.wait_for("widget:action:processed")
    assert processed == {
        "website_id": site.website_id,
        "session_id": sid,
        "inbox_id": None,
        "plugin_id": sb.plugin_id,
        "correlation_id": answer["correlation_id"],
        "outcome": "success",
        "result": {},
    }
    body = action_url.bodies()[-1]
    assert body["payload"] == {"data": {"order": "42"}, "value": {}}
    assert body["origin"]["token"] == site.token


async def test_delivered_data_actions_fetch_and_edit(
    sb: Sandbox, action_url: ActionUrl, client: RestClient
) -> None:
    sid = await _conversation(sb)
    wid = next(iter(sb.store.websites))
    fetch = await client.website.deliver_widget_data_fetch_action_for_conversation(
        wid, sid, sb.plugin_id, {"section_id": "customer", "item_id": "orders", "data": {}}
    )
    edit = await client.website.deliver_widget_data_edit_action_for_conversation(
        wid, sid, sb.plugin_id, {"section_id": "customer", "item_id": "note", "value": "VIP"}
    )
    await sb.wait_widget_actions()
    results = {
        e["data"]["correlation_id"]: e["data"]
        for e in sb.bus.events(event="widget:action:processed")
    }
    assert results[fetch["correlation_id"]]["result"] == {"data": {"value": "7 orders"}}
    assert results[edit["correlation_id"]]["result"] == {"data": {"value": "VIP"}}
    assert [b["payload"]["value"] for b in action_url.bodies()] == [{}, {"note": "VIP"}]


async def test_a_delivered_action_that_keeps_failing_ends_in_failure(
    sb: Sandbox, action_url: ActionUrl, client: RestClient
) -> None:
    sid = await _conversation(sb)
    wid = next(iter(sb.store.websites))
    action_url.statuses = [503, 503, 503]
    answer = await client.website.deliver_widget_button_action_for_conversation(
        wid, sid, sb.plugin_id, {"section_id": "customer", "item_id": "canned", "data": {}}
    )
    await sb.wait_widget_actions()
    (event,) = sb.bus.events(event="widget:action:processed")
    assert event["data"]["correlation_id"] == answer["correlation_id"]
    assert event["data"]["outcome"] == "failure"
    assert event["data"]["result"] == {"status": 503, "error": "the Action URL answered 503"}
    assert len(action_url.posts) == 3  # every attempt of the budget was made
    attempts = [r["attempt"] for r in await sb.control.widget_actions()]
    assert attempts == [1, 2, 3]


@pytest.mark.parametrize(
    ("route", "body", "error", "says"),
    [
        ("button", {"item_id": "canned", "data": {}}, InvalidData, "'section_id'"),
        ("button", {"section_id": "customer", "item_id": "canned"}, InvalidData, "'data'"),
        ("button", {"section_id": "customer", "item_id": "canned", "data": []}, InvalidData,
         "data.data should be object"),
        ("button", {"section_id": "customer", "item_id": "orders", "data": {}}, InvalidData,
         "is a data item, not a button"),
        ("button", {"section_id": "customer", "item_id": "crm", "data": {}}, InvalidData,
         "is a link button"),
        ("button", {"section_id": "customer", "item_id": "ghost", "data": {}}, NotFound,
         "not found in the schema"),
        ("data", {"section_id": "customer", "item_id": "note", "value": 5}, InvalidData,
         "data.value should be string"),
        ("data", {"section_id": "customer", "item_id": "canned", "data": {}}, InvalidData,
         "is a button item, not a data"),
    ],
)  # fmt: skip
async def test_a_malformed_delivery_is_refused_and_starts_nothing(
    sb: Sandbox,
    action_url: ActionUrl,
    client: RestClient,
    route: str,
    body: dict[str, Any],
    error: type[Exception],
    says: str,
) -> None:
    sid = await _conversation(sb)
    wid = next(iter(sb.store.websites))
    deliver = (
        client.website.deliver_widget_button_action_for_conversation
        if route == "button"
        else client.website.deliver_widget_data_fetch_action_for_conversation
    )
    with pytest.raises(error, match=says):
        await deliver(wid, sid, sb.plugin_id, body)
    await sb.wait_widget_actions()
    assert sb.bus.events(event="widget:action:processed") == []
    assert action_url.posts == []


async def test_a_delivery_for_another_plugin_or_conversation_is_not_found(
    sb: Sandbox, action_url: ActionUrl, client: RestClient
) -> None:
    sid = await _conversation(sb)
    wid = next(iter(sb.store.websites))
    body = {"section_id": "customer", "item_id": "canned", "data": {}}
    deliver = client.website.deliver_widget_button_action_for_conversation
    with pytest.raises(NotFound, match="is not this token's plugin"):
        await deliver(wid, sid, "another-plugin", body)
    with pytest.raises(NotFound, match="conversation"):
        await deliver(wid, "session_missing", sb.plugin_id, body)
    assert action_url.posts == []
