"""The official PyPI ``crisp-api`` client (synchronous, requests), unchanged, on the sandbox.

It runs in a worker thread so the sandbox keeps serving on the test's event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from crisp_api import Crisp
from crisp_api.errors.route import RouteError

from crisp_plugin.sandbox import Sandbox


def official(sb: Sandbox) -> Any:
    client = Crisp()
    client.set_rest_host(sb.url)  # the client appends its "/v1" base path
    client.set_tier("plugin")
    client.authenticate(sb.identifier, sb.key)
    return client


async def test_get_conversation_and_send_message(sb: Sandbox) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(nickname="Zoé")
    client = official(sb)
    conversation = await asyncio.to_thread(client.website.get_conversation, website, session)
    assert conversation["session_id"] == session
    assert conversation["meta"]["nickname"] == "Zoé"
    body = {"type": "text", "from": "operator", "origin": "chat", "content": "Salut Zoé 😊"}
    sent = await asyncio.to_thread(
        client.website.send_message_in_conversation, website, session, body
    )
    assert isinstance(sent["fingerprint"], int)
    reply = await sb.control.next_reply(None, session, timeout=1)
    assert reply is not None and reply["content"] == "Salut Zoé 😊"
    messages = await asyncio.to_thread(
        client.website.get_messages_in_conversation, website, session, {}
    )
    assert [m["fingerprint"] for m in messages] == [sent["fingerprint"]]


async def test_unknown_session_is_a_clear_error(sb: Sandbox) -> None:
    client = official(sb)
    with pytest.raises(RouteError) as info:
        await asyncio.to_thread(client.website.get_conversation, sb.websites[0], "session_nope")
    error = info.value.args[0]
    assert error["code"] == 404 and error["message"] == "not_found"
    assert "session_nope" in error["data"]["message"]


async def test_wrong_key_is_refused(sb: Sandbox) -> None:
    client = official(sb)
    client.authenticate(sb.identifier, "wrong")
    with pytest.raises(RouteError) as info:
        await asyncio.to_thread(client.website.get_website, sb.websites[0])
    assert info.value.args[0]["code"] == 401
    assert info.value.args[0]["message"] == "invalid_session"
