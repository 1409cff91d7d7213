"""The relay's Engine.IO v3 front, spoken packet by packet over real loopback sockets.

The official clients of that generation are driven in tests/conformance; here every
part of the protocol they rely on is checked on its own, with the bad input they never
send: handshake, polling framing, websocket from the start and as an upgrade,
heartbeat, events both ways, closes, and clear refusals that cost the session nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.sandbox.eio3_wire import decode_payload, encode_payload
from tests.waiting import until

PATHS = ["/socket.io/", "/relay/"]
TEXT = {"Content-Type": "text/plain;charset=UTF-8"}  # what socket.io-client 2.x posts


class Poller:
    """An Engine.IO v3 polling session, one raw HTTP request at a time."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.sid = ""

    async def open(self) -> list[str]:
        async with self.http.get(self.url, params={"EIO": "3", "transport": "polling"}) as r:
            assert r.status == 200, await r.text()
            packets = decode_payload(await r.text())
        assert packets[0][0] == "0"
        self.sid = json.loads(packets[0][1:])["sid"]
        return packets

    def params(self) -> dict[str, str]:
        return {"EIO": "3", "transport": "polling", "sid": self.sid}

    async def get(self) -> list[str]:
        async with self.http.get(self.url, params=self.params()) as r:
            assert r.status == 200, await r.text()
            return decode_payload(await r.text())

    async def post(self, *packets: str) -> tuple[int, str]:
        body = encode_payload(list(packets)).encode()
        async with self.http.post(self.url, params=self.params(), data=body, headers=TEXT) as r:
            return r.status, await r.text()

    async def events(self, name: str, within: float = 5) -> list[Any]:
        """Poll until an event ``name`` arrives; return its arguments."""
        async with asyncio.timeout(within):
            while True:
                for packet in await self.get():
                    if packet.startswith("42"):
                        event = json.loads(packet[2:])
                        if event[0] == name:
                            return list(event[1:])


def auth_packet(sb: Sandbox, *, key: str | None = None, events: list[str] | None = None) -> str:
    payload = {
        "username": sb.identifier,
        "password": key or sb.key,
        "tier": "plugin",
        "events": events or ["message:send"],
    }
    return "42" + json.dumps(["authentication", payload])


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize("path", PATHS)
async def test_polling_session_authenticates_and_receives_an_event(
    sb: Sandbox, http: aiohttp.ClientSession, path: str
) -> None:
    poller = Poller(http, sb.url + path)
    opened, connected = await poller.open()
    handshake = json.loads(opened[1:])
    assert handshake["upgrades"] == ["websocket"]
    assert handshake["pingInterval"] == 25000 and handshake["pingTimeout"] == 20000
    assert connected == "40"
    assert await poller.post(auth_packet(sb)) == (200, "ok")
    assert await poller.events("authenticated") == [True]
    [sub] = (await sb.control.relay())["authenticated"]
    assert sub["sid"] == poller.sid and sub["engine_io"] == 3
    session = await sb.control.create_conversation()
    # Characters past U+FFFF count twice in the v3 length prefix, as JavaScript counts.
    fingerprint = await sb.control.visitor_says(None, session, "Ça marche 👍 ?")
    [data] = await poller.events("message:send")
    assert data["fingerprint"] == fingerprint and data["content"] == "Ça marche 👍 ?"
    assert sub["events"] == ["message:send"]


async def test_one_post_carries_several_packets_and_acks_are_answered(
    sb: Sandbox, http: aiohttp.ClientSession
) -> None:
    poller = Poller(http, sb.url + "/socket.io/")
    await poller.open()
    push = "42" + json.dumps(["socket:bind:push", {"events": ["message:received"]}])
    bind = "427" + json.dumps(["socket:bind", {}])
    assert await poller.post(auth_packet(sb), "2", push, bind) == (200, "ok")
    packets: list[str] = []
    async with asyncio.timeout(5):
        while "437[]" not in packets:
            packets += await poller.get()
    assert '42["authenticated",true]' in packets and "3" in packets  # the pong
    [sub] = (await sb.control.relay())["authenticated"]
    assert sub["events"] == ["message:received", "message:send"]


async def test_websocket_from_the_start(sb: Sandbox, http: aiohttp.ClientSession) -> None:
    # What go-crisp-api does: websocket only, at the default path of the relay's host.
    params = {"EIO": "3", "transport": "websocket"}
    async with http.ws_connect(sb.url + "/socket.io/", params=params) as ws:
        opened = await ws.receive_str()
        assert opened[0] == "0" and json.loads(opened[1:])["upgrades"] == []
        assert await ws.receive_str() == "40"
        await ws.send_str("2")
        assert await ws.receive_str() == "3"
        await ws.send_str(auth_packet(sb))
        assert await ws.receive_str() == '42["authenticated",true]'
        await ws.send_str('42["socket:bind",""]')  # go-crisp-api's Rebind sends "" as data
        session = await sb.control.create_conversation()
        await sb.control.visitor_says(None, session, "over websocket")
        name, data = json.loads((await ws.receive_str())[2:])
        assert name == "message:send" and data["content"] == "over websocket"
        await ws.send_str("41")  # Socket.IO disconnect: the relay forgets the socket
        await until(lambda: not sb.relay.connected)


async def test_polling_upgrades_to_websocket(sb: Sandbox, http: aiohttp.ClientSession) -> None:
    poller = Poller(http, sb.url + "/relay/")
    await poller.open()
    await poller.post(auth_packet(sb))
    assert await poller.events("authenticated") == [True]
    waiting = asyncio.create_task(poller.get())  # the GET a client has out when it probes
    params = {"EIO": "3", "transport": "websocket", "sid": poller.sid}
    async with http.ws_connect(sb.url + "/relay/", params=params) as ws:
        await ws.send_str("2probe")
        assert await ws.receive_str() == "3probe"
        assert await asyncio.wait_for(waiting, 5) == ["6"]  # answered at once: a noop
        await ws.send_str("5")
        session = await sb.control.create_conversation()
        await sb.control.visitor_says(None, session, "after the upgrade")
        name, data = json.loads((await ws.receive_str())[2:])
        assert name == "message:send" and data["content"] == "after the upgrade"
        async with http.get(sb.url + "/relay/", params=poller.params()) as r:
            assert r.status == 400
            assert (await r.json())["code"] == 3
        await ws.send_str("1")  # Engine.IO close
        await until(lambda: not sb.relay.connected)


async def test_a_failed_probe_leaves_the_session_on_polling(
    sb: Sandbox, http: aiohttp.ClientSession
) -> None:
    poller = Poller(http, sb.url + "/socket.io/")
    await poller.open()
    params = {"EIO": "3", "transport": "websocket", "sid": poller.sid}
    async with http.ws_connect(sb.url + "/socket.io/", params=params) as ws:
        await ws.send_str("not a probe")
        assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
    assert await poller.post(auth_packet(sb)) == (200, "ok")
    assert await poller.events("authenticated") == [True]


async def test_bad_credentials_are_unauthorized_then_disconnected(
    sb: Sandbox, http: aiohttp.ClientSession
) -> None:
    params = {"EIO": "3", "transport": "websocket"}
    async with http.ws_connect(sb.url + "/socket.io/", params=params) as ws:
        await ws.receive_str()
        await ws.receive_str()
        await ws.send_str(auth_packet(sb, key="not-the-key"))
        name, refusal = json.loads((await ws.receive_str())[2:])
        assert name == "unauthorized" and "invalid_session" in refusal["message"]
        assert sb.key not in refusal["message"]
        assert await ws.receive_str() == "41"
        assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
    relay = await sb.control.relay()
    assert relay["refused"] == 1 and relay["authenticated"] == [] and relay["connected"] == 0


@pytest.mark.parametrize(
    ("method", "query", "code"),
    [
        ("GET", {"transport": "flash"}, 0),
        ("GET", {"transport": "polling", "sid": "no-such-session"}, 1),
        ("POST", {"transport": "polling"}, 2),
        ("GET", {"transport": "polling", "j": "0"}, 3),
        ("GET", {"transport": "websocket"}, 3),  # a plain GET, no websocket upgrade
    ],
    ids=["transport", "sid", "handshake-method", "jsonp", "not-websocket"],
)
async def test_bad_requests_get_engineio_errors(
    sb: Sandbox, http: aiohttp.ClientSession, method: str, query: dict[str, str], code: int
) -> None:
    async with http.request(method, sb.url + "/socket.io/", params={"EIO": "3", **query}) as r:
        assert r.status == 400
        answer = await r.json()
    assert answer["code"] == code and answer["message"]
    assert (await sb.control.relay())["connected"] == 0


async def test_a_malformed_post_is_refused_and_costs_the_session_nothing(
    sb: Sandbox, http: aiohttp.ClientSession
) -> None:
    poller = Poller(http, sb.url + "/socket.io/")
    await poller.open()
    secret_body = f'99:42["authentication",{{"password":"{sb.key}"}}]'.encode()
    for body, headers in [
        (b"", TEXT),
        (b"42", TEXT),
        (secret_body, TEXT),
        (b"\xff\xfe", TEXT),
        (b"3:x", TEXT),
        (b"\x00\x01\xff4", {"Content-Type": "application/octet-stream"}),  # v3 binary
    ]:
        async with http.post(poller.url, params=poller.params(), data=body, headers=headers) as r:
            assert r.status == 400, body
            answer = await r.json()
        assert answer["code"] == 3 and answer["message"].startswith("Bad request")
        assert sb.key not in answer["message"]
    # A body whose one packet is bad still delivers the good ones.
    status, text = await poller.post("4" + "9junk", auth_packet(sb))
    assert status == 400 and "Socket.IO packet type" in text
    assert await poller.events("authenticated") == [True]


async def test_other_namespaces_are_refused_and_the_main_one_stays(
    sb: Sandbox, http: aiohttp.ClientSession
) -> None:
    params = {"EIO": "3", "transport": "websocket"}
    async with http.ws_connect(sb.url + "/socket.io/", params=params) as ws:
        await ws.receive_str()
        assert await ws.receive_str() == "40"
        await ws.send_str("40/admin")
        assert await ws.receive_str() == '44/admin,"Invalid namespace"'
        await ws.send_str("42[not json")
        error = await ws.receive_str()
        assert error.startswith("44") and "not JSON" in error
        await ws.send_bytes(b"\x04binary")
        assert "binary" in await ws.receive_str()
        await ws.send_str(auth_packet(sb))
        assert await ws.receive_str() == '42["authenticated",true]'


async def test_a_silent_session_expires(sb: Sandbox, http: aiohttp.ClientSession) -> None:
    sb.relay.eio3.ping_interval, sb.relay.eio3.ping_timeout = 0.5, 0.5
    poller = Poller(http, sb.url + "/socket.io/")
    opened, _ = await poller.open()
    assert json.loads(opened[1:])["pingInterval"] == 500
    await poller.post(auth_packet(sb))
    assert await poller.events("authenticated") == [True]
    assert len((await sb.control.relay())["authenticated"]) == 1
    for _ in range(4):  # pings, paced as a client paces them, keep it alive past 1 s
        await poller.post("2")
        assert "3" in await poller.get()
        await asyncio.sleep(0.3)
    assert sb.relay.connected
    await until(lambda: not sb.relay.connected)  # then silence ends it
    assert await poller.get() == ["1"]  # the close, for the GET that comes
    async with http.get(poller.url, params=poller.params()) as r:
        assert r.status == 400 and (await r.json())["code"] == 1


async def test_dropping_the_relay_cuts_both_generations(
    sb: Sandbox, http: aiohttp.ClientSession
) -> None:
    v4 = socketio.AsyncClient(reconnection=False)
    await v4.connect(sb.url, socketio_path="socket.io", transports=["websocket"])
    poller = Poller(http, sb.url + "/socket.io/")
    await poller.open()
    params = {"EIO": "3", "transport": "websocket"}
    async with http.ws_connect(sb.url + "/socket.io/", params=params) as ws:
        await ws.receive_str()
        await ws.receive_str()
        await until(lambda: len(sb.relay.connected) == 3)
        async with http.post(sb.url + "/_sandbox/faults/drop_rtm") as r:
            assert r.status == 200
        # As a relay restart: no Socket.IO disconnect ("41"), which would tell a
        # socket.io-client 2.x not to reconnect; the connection just ends.
        assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
        assert await poller.get() == ["1"]
    await until(lambda: not v4.connected and not sb.relay.connected)
