"""Helpers shared by the sandbox tests (imported by conftest.py and the test files)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import socketio
from aiohttp import web

from crisp_plugin.sandbox import Sandbox


def auth_headers(sb: Sandbox, *, key: str | None = None, tier: str = "plugin") -> dict[str, str]:
    token = base64.b64encode(f"{sb.identifier}:{key or sb.key}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Crisp-Tier": tier}


@dataclass
class Rest:
    """A keep-alive REST session on the sandbox that returns (status, envelope)."""

    sb: Sandbox
    session: aiohttp.ClientSession

    async def __call__(
        self, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        hdrs = auth_headers(self.sb) if headers is None else headers
        async with self.session.request(
            method, self.sb.url + path, json=body, headers=hdrs
        ) as resp:
            if method == "HEAD":
                return resp.status, None
            return resp.status, await resp.json()


@dataclass
class HookReceiver:
    """A web hook endpoint that records raw deliveries and answers scripted statuses."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, then 200
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        self.arrived.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok")


@dataclass
class RelayClient:
    """A python-socketio client on the relay that records the events it gets."""

    sio: socketio.AsyncClient
    got: list[tuple[str, Any]] = field(default_factory=list)
    new: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, name: str, timeout: float = 2.0) -> Any:  # noqa: ASYNC109
        async def look() -> Any:
            while True:
                for n, data in self.got:
                    if n == name:
                        self.got.remove((n, data))
                        return data
                self.new.clear()
                await self.new.wait()

        return await asyncio.wait_for(look(), timeout)

    def names(self) -> list[str]:
        return [n for n, _ in self.got]


RelayFactory = Callable[..., Awaitable[RelayClient]]
