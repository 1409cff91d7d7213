"""The control API: playing the visitor, long-poll replies, pickers, fields, streams."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from sbtools import Rest

from crisp_plugin.sandbox import Sandbox, SandboxControlError


async def operator_says(rest: Rest, session: str, content: Any, mtype: str = "text") -> int:
    body = {"type": mtype, "from": "operator", "origin": "urn:test:bot:1", "content": content}
    path = f"/v1/website/{rest.sb.websites[0]}/conversation/{session}/message"
    status, env = await rest("POST", path, body)
    assert status == 202, env
    return int(env["data"]["fingerprint"])


async def test_next_reply_waits_for_the_operator(rest: Rest) -> None:
    control = rest.sb.control
    session = await control.create_conversation(nickname="Ana")
    fp = await control.visitor_says(None, session, "hello")
    waiting = asyncio.create_task(control.next_reply(None, session, timeout=2, after=fp))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    reply_fp = await operator_says(rest, session, "Hi Ana")
    reply = await waiting
    assert reply is not None and reply["fingerprint"] == reply_fp and reply["content"] == "Hi Ana"


async def test_next_reply_finds_a_reply_already_sent(rest: Rest) -> None:
    control = rest.sb.control
    session = await control.create_conversation()
    await control.visitor_says(None, session, "first")
    await operator_says(rest, session, "answer one")
    reply = await control.next_reply(None, session, timeout=1)
    assert reply is not None and reply["content"] == "answer one"
    await control.visitor_says(None, session, "second")
    assert await control.next_reply(None, session, timeout=0.1) is None


async def test_picker_choice_and_field_answer_are_message_updated(rest: Rest) -> None:
    sb = rest.sb
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "help")
    picker = {
        "id": "topic",
        "text": "What about?",
        "choices": [
            {"value": "billing", "label": "Billing", "selected": False},
            {"value": "bug", "label": "A bug", "selected": False},
        ],
    }
    fp = await operator_says(rest, session, picker, "picker")
    reply = await sb.control.next_reply(None, session, timeout=1)
    assert reply is not None and reply["type"] == "picker"
    result = await sb.control.choose(None, session, None, "bug")
    assert result["fingerprint"] == fp
    [updated] = sb.bus.events(event="message:updated")
    selected = [c["value"] for c in updated["data"]["content"]["choices"] if c["selected"]]
    assert selected == ["bug"]
    with pytest.raises(SandboxControlError, match="billing, bug"):
        await sb.control.choose(None, session, fp, "nope")

    field = {"id": "email", "text": "Your email?", "explain": "We will reply there"}
    ffp = await operator_says(rest, session, field, "field")
    await sb.control.answer_field(None, session, ffp, "ana@example.com")
    last = sb.bus.events(event="message:updated")[-1]["data"]
    assert last["fingerprint"] == ffp and last["content"]["value"] == "ana@example.com"


async def test_visitor_actions_emit_crisp_events(sb: Sandbox) -> None:
    control = sb.control
    session = await control.create_conversation()
    await control.typing(None, session, True, "hel")
    await control.visitor_says(None, session, "hello")
    await control.set_meta(None, session, email="v@example.com", phone="+33")
    await control.assign(None, session, "operator-1")
    await control.resolve(None, session)
    names = [e["event"] for e in await control.events(session_id=session)]
    assert names == [
        "message:compose:send",
        "message:send",
        "session:set_email",
        "session:set_phone",
        "session:set_routing",
        "session:set_state",
    ]
    conv = await control.conversation(None, session)
    assert conv["state"] == "resolved" and conv["assigned"] == {"user_id": "operator-1"}


async def test_install_settings_and_conversation_list(sb: Sandbox) -> None:
    control = sb.control
    website = await control.add_website(name="Shop", subscribed=False)
    assert website not in [s["website_id"] for s in await control.websites() if s["subscribed"]]
    await control.install(website)
    await control.save_settings(website, {"greeting": "Bienvenue"})
    names = [e["event"] for e in await control.events(website_id=website)]
    assert names == ["plugin:subscription:updated", "plugin:settings:saved"]
    s1 = await control.create_conversation(website)
    s2 = await control.create_conversation(website)
    await control.visitor_says(website, s1, "latest")
    listed = [c["session_id"] for c in await control.conversations(website)]
    assert listed == [s1, s2]


async def test_unknown_conversation_is_a_clear_control_error(sb: Sandbox) -> None:
    with pytest.raises(SandboxControlError, match="session_x does not exist") as info:
        await sb.control.visitor_says(None, "session_x", "hi")
    assert info.value.status == 404


async def test_event_stream_of_a_conversation(rest: Rest) -> None:
    sb = rest.sb
    session = await sb.control.create_conversation()
    url = f"{sb.url}/_sandbox/websites/{sb.websites[0]}/conversations/{session}/events"
    got: list[tuple[str, Any]] = []
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        await resp.content.readline()  # ": connected"
        await resp.content.readline()
        await sb.control.visitor_says(None, session, "streamed")
        await operator_says(rest, session, "typing done")
        name = ""
        while len(got) < 2:
            line = (await asyncio.wait_for(resp.content.readline(), 2)).decode().strip()
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                got.append((name, json.loads(line[6:])))
    assert [n for n, _ in got] == ["message:send", "message:received"]
    assert got[0][1]["content"] == "streamed"


async def test_index_page(sb: Sandbox) -> None:
    async with aiohttp.ClientSession() as http, http.get(sb.url + "/") as resp:
        assert resp.status == 200


async def test_reset_forgets_conversations_and_logs(sb: Sandbox) -> None:
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "bye")
    await sb.control.set_faults(latency_ms=10)
    await sb.control.reset()
    assert await sb.control.conversations() == []
    assert await sb.control.events() == []
    assert (await sb.control.set_faults())["latency_ms"] == 0
