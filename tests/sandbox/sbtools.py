"""Helpers shared by the sandbox tests (imported by conftest.py and the test files)."""

from __future__ import annotations

import asyncio
import base64
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

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
class Instance:
    """One instance of a plugin behind the sandbox's hook group: a real aiohttp server
    on a loopback port. It answers ``status``, or (``mode``) hangs until killed, or
    resets the connection. ``kill()`` closes it (its port then refuses connections),
    ``start()`` again listens on the same port; ``die_after``: it kills itself once it
    answered that many 2xx, in the middle of the traffic."""

    name: str
    status: int = 200
    mode: Literal["answer", "hang", "reset"] = "answer"
    die_after: int | None = None
    port: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answered: list[bytes] = field(default_factory=list)
    """Bodies answered 2xx, each counted once its whole answer was handed to the socket."""
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _dying: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        self._release.clear()
        app = web.Application()
        app.router.add_post("/hooks", self.handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._runner = runner

    async def kill(self) -> None:
        if self._dying is not None and asyncio.current_task() is not self._dying:
            await self._dying
        self._release.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.received.append((dict(request.headers), body))
        if self.mode == "hang":
            await self._release.wait()  # the sandbox gave up long ago
            return web.Response(status=self.status, text="too late")
        if self.mode == "reset" and request.transport is not None:
            sock = request.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.transport.abort()  # RST: the sandbox sees "connection reset by peer"
            return web.Response(status=self.status, text="never sent")
        response = web.Response(status=self.status, text="ok")
        await response.prepare(request)
        await response.write_eof()
        if 200 <= self.status < 300:
            self.answered.append(body)
            if len(self.answered) == self.die_after:
                self._dying = asyncio.create_task(self.kill())
        return response


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
