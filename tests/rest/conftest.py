"""Fixtures for the REST client tests.

- ``stub``: a scripted HTTP server on a loopback port. Each test queues the answers it
  wants (status, body, headers, delay) and reads back what reached the wire. It plays
  the Crisp answers the sandbox does not produce on purpose (an HTML 502, every error
  reason, an HTTP-date Retry-After).
- ``sb``: a running sandbox (the local Crisp) for wire-contract and fault tests.
- ``fast_retry``: a retry policy with short delays, to keep tests quick.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from crisp_plugin.rest import RetryPolicy


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str  # raw (still encoded) path
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class StubCrisp:
    """Answers queued with ``answer`` (in order; the last one repeats)."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    answers: list[tuple[int, Any, dict[str, str], float]] = field(default_factory=list)

    def answer(
        self,
        status: int = 200,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        raw: bool = False,
    ) -> None:
        if not raw:
            if status < 400:
                body = {"error": False, "reason": "resolved", "data": {} if body is None else body}
            body = json.dumps(body)
        self.answers.append((status, body, headers or {}, delay))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(
                request.method,
                request.raw_path.split("?", 1)[0],
                request.rel_url.raw_query_string,
                dict(request.headers),
                await request.read(),
            )
        )
        if not self.answers:
            self.answer(200, {})
        status, body, headers, delay = (
            self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        )
        if delay:
            await asyncio.sleep(delay)
        ctype = headers.pop("Content-Type", "application/json")
        return web.Response(
            status=status,
            body=None if request.method == "HEAD" else body.encode(),
            headers=headers,
            content_type=ctype,
        )


@pytest.fixture
async def stub() -> AsyncIterator[StubCrisp]:
    state = StubCrisp()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05, rate_limited_delay=0.01)


@pytest.fixture
async def sb() -> AsyncIterator[Any]:
    from crisp_plugin.sandbox import Sandbox

    async with Sandbox(host="127.0.0.1", port=0) as sandbox:
        yield sandbox
