"""Fixtures for the sandbox tests: a running sandbox, an authenticated REST session,
a hook receiver, and relay clients. Everything talks over real loopback sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web
from sbtools import HookReceiver, RelayClient, RelayFactory, Rest

from crisp_plugin.sandbox import Sandbox


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(hook_retry_delays=(0.05, 0.1), hook_timeout=1.0) as sandbox:
        yield sandbox


@pytest.fixture
async def rest(sb: Sandbox) -> AsyncIterator[Rest]:
    async with aiohttp.ClientSession() as session:
        yield Rest(sb, session)


@pytest.fixture
async def hook() -> AsyncIterator[HookReceiver]:
    receiver = HookReceiver()
    app = web.Application()
    app.router.add_post("/hooks", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}/hooks"
    yield receiver
    await runner.cleanup()


@pytest.fixture
async def relay(sb: Sandbox) -> AsyncIterator[RelayFactory]:
    clients: list[RelayClient] = []

    async def connect(
        events: list[str] | None = None,
        *,
        password: str | None = None,
        tier: str = "plugin",
        rooms: list[str] | None = None,
        authenticate: bool = True,
    ) -> RelayClient:
        sio = socketio.AsyncClient(reconnection=False)
        client = RelayClient(sio)

        async def record(name: str, data: Any = None) -> None:
            client.got.append((name, data))
            client.new.set()

        sio.on("*", record)
        await sio.connect(sb.url, socketio_path="relay", transports=["websocket"])
        clients.append(client)
        if authenticate:
            auth: dict[str, Any] = {
                "username": sb.identifier,
                "password": password or sb.key,
                "tier": tier,
                "events": events or ["message:send"],
            }
            if rooms is not None:
                auth["rooms"] = rooms
            await sio.emit("authentication", auth)
        return client

    yield connect
    for client in clients:
        if client.sio.connected:
            await client.sio.disconnect()
