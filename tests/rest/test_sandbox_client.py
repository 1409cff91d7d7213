"""The typed short forms against the sandbox: what a bot author sees."""

from __future__ import annotations

from typing import Any

import pytest

from crisp_plugin.errors import InvalidData, NotSubscribed, Unauthorized
from crisp_plugin.observer import Observer
from crisp_plugin.rest import RestClient

URN = "urn:acme:test-bot:1"


class SentLog(Observer):
    """Keeps what the client reports sending."""

    def __init__(self, heard: list[tuple[str, str, int]]) -> None:
        self.heard = heard

    def message_sent(self, website_id: str, session_id: str, fingerprint: int) -> None:
        self.heard.append((website_id, session_id, fingerprint))


@pytest.fixture
async def rest(sb: Any) -> Any:
    async with RestClient(sb.identifier, sb.key, api_url=sb.url, urn=URN) as client:
        yield client


async def test_send_message_lands_in_the_transcript(sb: Any, rest: RestClient) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    heard: list[tuple[str, str, int]] = []
    rest.add_observer(SentLog(heard))
    sent = await rest.send_message(website, session, "Hi! How can I help?")
    transcript = await sb.control.transcript(website, session)
    mine = [m for m in transcript if m["content"] == "Hi! How can I help?"]
    assert len(mine) == 1
    assert mine[0]["fingerprint"] == sent.fingerprint
    assert mine[0]["from"] == "operator" and mine[0]["origin"] == URN
    assert heard == [(website, session, sent.fingerprint)]


async def test_conversation_messages_meta_state(sb: Any, rest: RestClient) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website, nickname="Jo")
    await sb.control.visitor_says(website, session, "hello")
    await rest.send_note(website, session, "VIP customer")
    messages = await rest.list_messages(website, session)
    assert [(m.from_, m.type, m.text) for m in messages] == [
        ("user", "text", "hello"),
        ("operator", "note", "VIP customer"),
    ]
    await rest.update_meta(website, session, email="jo@example.com", data={"plan": "pro"})
    meta = await rest.get_meta(website, session)
    assert meta.nickname == "Jo" and meta.email == "jo@example.com"
    assert meta.data.get("plan") == "pro"
    await rest.resolve(website, session)
    conv = await rest.get_conversation(website, session)
    assert conv.session_id == session and conv.state == "resolved"
    listed = [c.session_id async for c in rest.list_conversations(website)]
    assert session in listed


async def test_plugin_routes(sb: Any, rest: RestClient) -> None:
    assert await rest.check_session() is True
    account = await rest.get_connect_account()
    assert account.plugin_id == sb.plugin_id == rest.plugin_id
    endpoints = await rest.get_connect_endpoints()
    assert endpoints.url is not None and endpoints.url.startswith("http")
    websites = [w.website_id async for w in rest.list_connect_websites()]
    assert websites == sb.websites
    await rest.save_settings(sb.websites[0], {"greeting": "Bonjour"})
    settings = await rest.get_settings(sb.websites[0])
    assert settings.settings == {"greeting": "Bonjour"}


async def test_typed_errors_from_the_sandbox(sb: Any, rest: RestClient) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    with pytest.raises(InvalidData) as info:
        await rest.send_message(website, session, "x", type="nonsense")
    assert info.value.status == 400 and info.value.message
    assert await sb.control.transcript(website, session) == []
    async with RestClient(sb.identifier, "wrong-key", api_url=sb.url) as bad:
        assert await bad.check_session() is False
        with pytest.raises(Unauthorized):
            await bad.get_conversation(website, session)
    await sb.control.uninstall(website)
    with pytest.raises(NotSubscribed):
        await rest.get_conversation(website, session)
