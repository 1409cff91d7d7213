"""Widget actions as Crisp POSTs them to the Action URL: buttons, data fetches and
edits reach their handlers typed; a wrong token or signature is 401, a malformed body
400, an unknown item 404, a failing handler 500, and none of them runs anything."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest

from crisp_plugin.marketplace import widget_schema
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.signing import sign
from crisp_plugin.testing import PluginRunner
from tests.marketplace.bots import Responder
from tests.marketplace.conftest import SITES

FIRST, SECOND, _ = SITES


def action(sb: Sandbox, session: str, item: str, kind: str, **payload: Any) -> dict[str, Any]:
    return {
        "origin": {
            "website_id": FIRST,
            "session_id": session,
            "token": sb.store.websites[FIRST].token,
        },
        "widget": {"section_id": "replies", "item_id": item},
        "action": {"type": kind},
        "payload": {"data": {}, **payload},
    }


async def post(
    http: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with http.post(
        url, data=raw, headers={"Content-Type": "application/json", **(headers or {})}
    ) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize("transport", ["webhooks", "rtm"])
async def test_buttons_and_data_items_reach_their_handlers(sb: Sandbox, transport: str) -> None:
    kit = PluginRunner(sb)
    async with kit(Responder, transport=transport) as bot, aiohttp.ClientSession() as http:  # type: ignore[arg-type]
        url = kit.action_url(bot)
        session = await sb.control.create_conversation(FIRST)
        assert await post(http, url, action(sb, session, "send_canned", "button")) == (200, {})
        conv = sb.store.websites[FIRST].conversations[session]
        assert [m["content"] for m in conv.messages] == ["canned: Bonjour"]
        assert await post(http, url, action(sb, session, "tone", "data")) == (
            200, {"data": {"value": "formal"}},
        )  # fmt: skip
        edited = action(sb, session, "tone", "data", value={"tone": "warmer"})
        assert await post(http, url, edited) == (200, {"data": {"value": "asked: warmer"}})


async def test_forged_or_malformed_actions_are_refused_and_run_nothing(sb: Sandbox) -> None:
    kit = PluginRunner(sb)
    async with kit(Responder, transport="webhooks") as bot, aiohttp.ClientSession() as http:  # type: ignore[arg-type]
        url = kit.action_url(bot)
        session = await sb.control.create_conversation(FIRST)
        good = action(sb, session, "send_canned", "button")
        wrong = {**good, "origin": {**good["origin"], "token": sb.store.websites[SECOND].token}}
        status, body = await post(http, url, wrong)
        assert (status, body["error"]) == (401, "unauthorized")
        missing = {**good, "origin": {"website_id": FIRST, "session_id": session}}
        assert (await post(http, url, missing))[0] == 400
        stamp = str(int(time.time() * 1000))
        raw = json.dumps(good).encode()
        forged = {"X-Crisp-Request-Timestamp": stamp, "X-Crisp-Signature": sign("nope", stamp, raw)}
        status, body = await post(http, url, raw, forged)
        assert status == 401 and "signature" in body["reason"]
        assert (await post(http, url, b"{not json"))[0] == 400
        assert (await post(http, url, [1, 2]))[0] == 400
        status, body = await post(http, url, action(sb, session, "nothing_here", "button"))
        assert (status, body["error"]) == (404, "not_found")
        assert (await post(http, url, action(sb, session, "tone", "button")))[0] == 400
        status, body = await post(http, url, action(sb, session, "explode", "button"))
        assert (status, body["error"]) == (500, "handler_failed")
        assert sb.store.websites[FIRST].conversations[session].messages == []
        signed = {
            "X-Crisp-Request-Timestamp": stamp,
            "X-Crisp-Signature": sign(sb.secret, stamp, raw),
        }
        assert await post(http, url, raw, signed) == (200, {})  # signed right: it runs


def test_the_widget_schema_lists_the_declared_items() -> None:
    schema = widget_schema(Responder.widget_items_, Responder.widget_sections)
    assert schema["version"] == "1.0"
    sections = {s["id"]: s for s in schema["sections"]}
    assert sections["replies"]["title"] == "Canned replies"
    assert sections["danger"]["title"] == "Danger"
    items = {i["id"]: i for i in sections["replies"]["items"]}
    assert items["send_canned"] == {
        "id": "send_canned", "type": "button",
        "value": {"type": "hook", "label": "Send the canned reply", "color": "blue"},
    }  # fmt: skip
    assert items["tone"] == {
        "id": "tone", "type": "data", "value": {"label": "Tone", "value": "", "editable": True},
    }  # fmt: skip
