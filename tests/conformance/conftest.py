"""Fixtures for the conformance tests: a sandbox and a runner for the Node scripts.

The official npm client is pinned in node/package.json and installed with ``npm ci``
in node/ (the project's test command does it). Without it these tests fail, saying so.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from crisp_plugin.sandbox import Sandbox

NODE_DIR = Path(__file__).parent / "node"

NodeRunner = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(hook_retry_delays=(0.05,), hook_timeout=1.0) as sandbox:
        yield sandbox


@pytest.fixture
def node() -> NodeRunner:
    """Run ``node/<script>.js`` with a JSON argument; return the JSON it prints."""
    exe = shutil.which("node")
    if exe is None:
        pytest.fail("node is not installed: the conformance tests need Node.js 18+")
    if not (NODE_DIR / "node_modules" / "crisp-api" / "package.json").is_file():
        pytest.fail(
            f"crisp-api is not installed: run `npm ci` in tests/conformance/{NODE_DIR.name}/"
            " first (./scripts/test.sh does it)"
        )

    async def run(script: str, arg: dict[str, Any]) -> dict[str, Any]:
        proc = await asyncio.create_subprocess_exec(
            exe,
            str(NODE_DIR / f"{script}.js"),
            json.dumps(arg),
            cwd=NODE_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"node {script}.js did not finish in 30 s") from None
        lines = out.decode().strip().splitlines()
        assert lines, f"node {script}.js printed nothing; stderr: {err.decode()[-2000:]}"
        result: dict[str, Any] = json.loads(lines[-1])
        assert "crashed" not in result, result["crashed"]
        return result

    return run


HOOK_TEXTS = [
    "msg plain ascii",
    "msg accents: déjà vu, Ærøskøbing, naïve café",
    "msg emoji: 👋🏽 🍮 👨‍👩‍👧",
    "msg quotes \"double\" 'single' and \\backslash/ slash",
    "msg lines\nand\ttabs \u2028 sep, <script>&amp;</script>",
]


@pytest.fixture
async def hook_deliveries(sb: Sandbox) -> list[tuple[dict[str, str], bytes]]:
    """Raw (headers, body) of sandbox hook deliveries of tricky visitor messages."""
    from aiohttp import web

    received: list[tuple[dict[str, str], bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hooks", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        await sb.control.add_hook(f"http://127.0.0.1:{port}/hooks")
        session = await sb.control.create_conversation()
        for text in HOOK_TEXTS:
            await sb.control.visitor_says(None, session, text)
        await sb.wait_hooks()
    finally:
        await runner.cleanup()
    assert len(received) == len(HOOK_TEXTS)
    return received
