"""Every generation of the official Node client, unchanged, receiving events from the relay.

npm crisp-api 11.3.0 discovers the relay and speaks Engine.IO v4 at its path; crisp-api
5.1.0 (the last 5.x) and the deprecated node-crisp-api 4.2.2 have no discovery: they
connect with socket.io-client 2.4 (Engine.IO v3, websocket forced) to a fixed host,
``setRtmHost(host)``, at the default ``/socket.io/`` path. socket.io-client 2.4 itself
is driven too, with what the Crisp clients do not use: polling, then the upgrade.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from crisp_plugin.sandbox import Sandbox, actions
from tests.conformance.node_clients import CLIENTS

NodeRunner = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]

TEXT = "Is anyone there? ¿Sí? 🙂"


async def until_authenticated(sb: Sandbox, count: int = 1, *, within: float = 20) -> list[Any]:
    """Poll the relay until ``count`` sockets are authenticated; return their subscriptions."""
    deadline = time.monotonic() + within
    while True:
        subs: list[Any] = (await sb.control.relay())["authenticated"]
        if len(subs) >= count:
            return subs
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} authenticated socket(s) expected, relay has {subs}")
        await asyncio.sleep(0.02)


def creds(sb: Sandbox, **extra: Any) -> dict[str, Any]:
    return {"rest_host": sb.url, "identifier": sb.identifier, "key": sb.key, **extra}


@pytest.mark.parametrize("client", list(CLIENTS))
async def test_each_generation_receives_a_visitor_message(
    sb: Sandbox, listen: NodeRunner, client: str
) -> None:
    arg = creds(sb, events=["message:send"], count=1, timeout_ms=20000)
    if not client.startswith("crisp-api@11"):
        arg["rtm_host"] = sb.url  # no discovery: the relay's host, default Socket.IO path
    run = asyncio.create_task(listen(client, arg))
    [sub] = await until_authenticated(sb)
    assert sub["events"] == ["message:send"] and sub["tier"] == "plugin"
    assert sub["engine_io"] == (4 if client.startswith("crisp-api@11") else 3)
    session = await sb.control.create_conversation()
    fingerprint = await sb.control.visitor_says(None, session, TEXT)
    out = await run
    assert out["version"] == client.rpartition("@")[2]
    assert not out["timed_out"], f"{client} never got the message:send"
    [got] = out["received"]
    assert got["name"] == "message:send"
    data = got["data"]
    assert data["fingerprint"] == fingerprint and data["content"] == TEXT
    assert data["website_id"] == sb.websites[0] and data["session_id"] == session
    assert data["from"] == "user" and data["type"] == "text"


async def test_old_and_new_clients_on_one_relay_get_the_same_event(
    sb: Sandbox, listen: NodeRunner
) -> None:
    old = asyncio.create_task(
        listen(
            "crisp-api@5.1.0",
            creds(sb, rtm_host=sb.url, events=["message:send"], count=1, timeout_ms=20000),
        )
    )
    new = asyncio.create_task(
        listen("crisp-api@11.3.0", creds(sb, events=["message:send"], count=1, timeout_ms=20000))
    )
    subs = await until_authenticated(sb, 2)
    assert sorted(s["engine_io"] for s in subs) == [3, 4]
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, TEXT)
    old_out, new_out = await asyncio.gather(old, new)
    assert old_out["received"][0]["data"] == new_out["received"][0]["data"]


async def test_socketio_client_2_polls_then_upgrades(sb: Sandbox, node_eio3: NodeRunner) -> None:
    arg = {
        "url": sb.url,
        "options": {},  # socket.io-client's defaults: polling first, then websocket
        "auth_after_upgrade": True,
        "identifier": sb.identifier,
        "key": sb.key,
        "events": ["message:send"],
        "count": 2,
        "timeout_ms": 20000,
    }
    run = asyncio.create_task(node_eio3("sio", arg))
    await until_authenticated(sb)
    session = await sb.control.create_conversation()
    first = await sb.control.visitor_says(None, session, "first")
    second = await sb.control.visitor_says(None, session, "second, " + TEXT)
    out = await run
    assert out["authenticated"] is True and not out["timed_out"], out
    assert out["transports"] == ["polling", "websocket"]
    assert [(r["data"]["fingerprint"], r["transport"]) for r in out["received"]] == [
        (first, "websocket"),
        (second, "websocket"),
    ]
    assert out["received"][1]["data"]["content"] == "second, " + TEXT
    assert out["errors"] == []


async def test_socketio_client_2_polling_only_at_the_relay_path_rebinds(
    sb: Sandbox, node_eio3: NodeRunner
) -> None:
    arg = {
        "url": sb.url,
        "options": {"transports": ["polling"], "path": "/relay/"},
        "identifier": sb.identifier,
        "key": sb.key,
        "events": ["message:send"],
        "listen": ["message:send", "message:received"],
        "emits_after_auth": [["socket:bind:push", {"events": ["message:received"]}]],
        "count": 2,
        "timeout_ms": 20000,
    }
    run = asyncio.create_task(node_eio3("sio", arg))
    deadline = time.monotonic() + 20
    while (await until_authenticated(sb))[0]["events"] != ["message:received", "message:send"]:
        assert time.monotonic() < deadline, "socket:bind:push never reached the relay"
        await asyncio.sleep(0.02)
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "from the visitor: " + TEXT)
    site = sb.store.websites[sb.websites[0]]
    body = {"type": "text", "from": "operator", "origin": "chat", "content": "from an operator"}
    await actions.post_message(sb.bus, site, site.conversations[session], body, sb.plugin_id)
    out = await run
    assert not out["timed_out"], out
    assert [(r["name"], r["data"]["content"], r["transport"]) for r in out["received"]] == [
        ("message:send", "from the visitor: " + TEXT, "polling"),
        ("message:received", "from an operator", "polling"),
    ]


async def test_socketio_client_2_with_a_wrong_key_is_told_and_disconnected(
    sb: Sandbox, node_eio3: NodeRunner
) -> None:
    arg = {
        "url": sb.url,
        "options": {"transports": ["websocket"]},
        "identifier": sb.identifier,
        "key": sb.key,
        "password": "not-the-key",
        "events": ["message:send"],
        "count": 1,
        "until_disconnect": True,
        "timeout_ms": 20000,
    }
    out = await node_eio3("sio", arg)
    assert not out["timed_out"], out
    assert out["authenticated"] is None
    assert "invalid_session" in out["unauthorized"]["message"]
    assert sb.key not in out["unauthorized"]["message"]
    assert out["disconnect"] == "io server disconnect"
    assert (await sb.control.relay())["refused"] == 1


async def test_socketio_client_2_reconnects_after_the_relay_drops(
    sb: Sandbox, node_eio3: NodeRunner
) -> None:
    arg = {
        "url": sb.url,
        "options": {"transports": ["websocket"], "reconnection": True, "reconnectionDelay": 50},
        "identifier": sb.identifier,
        "key": sb.key,
        "events": ["message:send"],
        "count": 1,
        "timeout_ms": 20000,
    }
    run = asyncio.create_task(node_eio3("sio", arg))
    [before] = await until_authenticated(sb)
    assert await sb.relay.drop_all() == 1
    deadline = time.monotonic() + 20
    while True:  # the client comes back by itself and authenticates again, on a new sid
        subs = (await sb.control.relay())["authenticated"]
        if subs and subs[0]["sid"] != before["sid"]:
            break
        assert time.monotonic() < deadline, "the client did not come back"
        await asyncio.sleep(0.02)
    session = await sb.control.create_conversation()
    await sb.control.visitor_says(None, session, "after the restart")
    out = await run
    assert not out["timed_out"], out
    assert out["disconnect"] == "transport close"
    assert [r["data"]["content"] for r in out["received"]] == ["after the restart"]


async def test_socketio_client_2_given_the_relay_url_is_told_the_namespace_is_invalid(
    sb: Sandbox, node_eio3: NodeRunner
) -> None:
    # socket.io-client 2 reads a URL's path as a namespace: what crisp-api 5.x does
    # with setRtmHost(url + "/relay/"). The relay knows only "/", and says so.
    arg = {
        "url": sb.relay_url,
        "options": {"transports": ["websocket"]},
        "identifier": sb.identifier,
        "key": sb.key,
        "events": ["message:send"],
        "count": 1,
        "until_error": True,
        "timeout_ms": 20000,
    }
    out = await node_eio3("sio", arg)
    assert not out["timed_out"], out
    assert out["errors"] == ["Invalid namespace"] and out["authenticated"] is None
    assert (await sb.control.relay())["authenticated"] == []
