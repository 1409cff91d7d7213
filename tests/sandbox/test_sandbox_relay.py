"""The RTM relay: Crisp's authentication handshake, event and room filters, rebinding."""

from __future__ import annotations

import asyncio

import pytest
from sbtools import RelayFactory

from crisp_plugin.sandbox import Sandbox, actions


async def test_authenticated_socket_gets_visitor_message(sb: Sandbox, relay: RelayFactory) -> None:
    client = await relay(["message:send"])
    assert await client.wait_for("authenticated") is True
    session = await sb.control.create_conversation()
    fp = await sb.control.visitor_says(None, session, "Bonjour, ça va ? 👋")
    data = await client.wait_for("message:send")
    assert data["fingerprint"] == fp
    assert data["content"] == "Bonjour, ça va ? 👋"
    assert data["website_id"] == sb.websites[0] and data["session_id"] == session
    assert data["from"] == "user" and data["type"] == "text" and data["inbox_id"] is None


@pytest.mark.parametrize(
    ("password", "tier"), [("wrong-key", "plugin"), (None, "user")], ids=["key", "tier"]
)
async def test_bad_credentials_are_unauthorized_then_disconnected(
    sb: Sandbox, relay: RelayFactory, password: str | None, tier: str
) -> None:
    client = await relay(["message:send"], password=password, tier=tier)
    refusal = await client.wait_for("unauthorized")
    assert "invalid_session" in refusal["message"]
    assert sb.key not in refusal["message"]
    for _ in range(100):
        if not client.sio.connected:
            break
        await asyncio.sleep(0.01)
    assert not client.sio.connected
    assert (await sb.control.relay())["refused"] == 1


async def test_unauthenticated_socket_gets_nothing(sb: Sandbox, relay: RelayFactory) -> None:
    client = await relay(authenticate=False)
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "hello?")
    await asyncio.sleep(0.1)
    assert client.names() == []


async def test_only_subscribed_events_are_sent(sb: Sandbox, relay: RelayFactory) -> None:
    client = await relay(["message:received"])
    await client.wait_for("authenticated")
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "not for you")
    await sb.control.resolve(None, session)
    await sb.control.set_meta(None, session, email="x@example.com")
    # An operator message is the one thing subscribed.
    site = sb.store.websites[sb.websites[0]]
    conv = site.conversations[session]
    body = {"type": "text", "from": "operator", "origin": "chat", "content": "reply"}
    await actions.post_message(sb.bus, site, conv, body, sb.plugin_id)
    data = await client.wait_for("message:received")
    assert data["content"] == "reply"
    await asyncio.sleep(0.05)
    assert client.names() == []


async def test_rooms_filter_by_website(sb: Sandbox, relay: RelayFactory) -> None:
    other = await sb.control.add_website()
    client = await relay(["message:send"], rooms=[other])
    await client.wait_for("authenticated")
    first = await sb.control.create_conversation()
    await sb.control.visitor_says(None, first, "first website")
    second = await sb.control.create_conversation(other)
    await sb.control.visitor_says(other, second, "second website")
    data = await client.wait_for("message:send")
    assert data["website_id"] == other and data["content"] == "second website"
    await asyncio.sleep(0.05)
    assert client.names() == []


async def test_events_of_websites_without_the_plugin_are_not_sent(
    sb: Sandbox, relay: RelayFactory
) -> None:
    client = await relay(["message:send", "plugin:subscription:updated"])
    await client.wait_for("authenticated")
    session = await sb.control.create_conversation()
    await sb.control.uninstall()
    update = await client.wait_for("plugin:subscription:updated")
    assert update == {
        "website_id": sb.websites[0],
        "plugin_id": sb.plugin_id,
        "bound": False,
        "target": "website",
    }
    await sb.control.visitor_says(None, session, "nobody hears this")
    await asyncio.sleep(0.05)
    assert client.names() == []


async def test_bind_push_and_pop_change_events_live(sb: Sandbox, relay: RelayFactory) -> None:
    client = await relay(["message:send"])
    await client.wait_for("authenticated")
    session = await sb.control.create_conversation()
    await client.sio.emit("socket:bind:push", {"events": ["session:set_state"]})
    await client.sio.emit("socket:bind:pop", {"events": ["message:send"]})
    await client.sio.emit("socket:bind", {})
    for _ in range(100):
        subs = (await sb.control.relay())["authenticated"]
        if subs and subs[0]["events"] == ["session:set_state"]:
            break
        await asyncio.sleep(0.01)
    await sb.control.visitor_says(None, session, "popped")
    await sb.control.resolve(None, session)
    data = await client.wait_for("session:set_state")
    assert data["state"] == "resolved"
    assert client.names() == []


async def test_drop_rtm_disconnects_every_socket(sb: Sandbox, relay: RelayFactory) -> None:
    a = await relay(["message:send"])
    b = await relay(["message:send"])
    await a.wait_for("authenticated")
    await b.wait_for("authenticated")
    assert await sb.control.drop_rtm() == 2
    for _ in range(100):
        if not a.sio.connected and not b.sio.connected:
            break
        await asyncio.sleep(0.01)
    assert not a.sio.connected and not b.sio.connected
    assert (await sb.control.relay())["connected"] == 0


@pytest.mark.parametrize("password", ["\ud800", "key\udce9"], ids=["surrogate", "escaped-byte"])
async def test_a_malformed_password_is_unauthorized_not_silence(
    sb: Sandbox, relay: RelayFactory, password: str
) -> None:
    client = await relay(["message:send"], password=password)
    refusal = await client.wait_for("unauthorized")
    assert refusal["message"].startswith("invalid_session")
    assert (await sb.control.relay())["refused"] == 1
