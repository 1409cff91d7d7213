"""Fixtures for the conformance tests: a sandbox and runners for the Node scripts.

The official npm clients are pinned, each generation in its own folder with its
package.json and package-lock.json, installed with ``npm ci`` there (the project's test
command does it): node/ has crisp-api 11.3.0 (Engine.IO v4), node_eio3/ crisp-api 5.1.0,
node-crisp-api 4.2.2 and socket.io-client 2.4.0 (Engine.IO v3). Without them these
tests fail, saying so.
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
from tests.conformance.node_clients import CLIENTS, LISTEN_JS, NODE_DIR, NODE_EIO3_DIR

NodeRunner = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(hook_retry_delays=(0.05,), hook_timeout=1.0) as sandbox:
        yield sandbox


def _node_exe(folder: Path) -> str:
    exe = shutil.which("node")
    if exe is None:
        pytest.fail("node is not installed: the conformance tests need Node.js 18+")
    if not (folder / "node_modules" / "crisp-api" / "package.json").is_file():
        pytest.fail(
            f"crisp-api is not installed: run `npm ci` in tests/conformance/{folder.name}/"
            " first (./scripts/test.sh does it)"
        )
    return exe


async def run_node(exe: str, script: Path, arg: dict[str, Any]) -> dict[str, Any]:
    """Run a Node script with a JSON argument; return the JSON of its last line."""
    proc = await asyncio.create_subprocess_exec(
        exe,
        str(script),
        json.dumps(arg),
        cwd=script.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"node {script.name} did not finish in 30 s") from None
    lines = out.decode().strip().splitlines()
    assert lines, f"node {script.name} printed nothing; stderr: {err.decode()[-2000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert "crashed" not in result, result["crashed"]
    return result


@pytest.fixture
def node() -> NodeRunner:
    """Run ``node/<script>.js`` (npm crisp-api 11.3.0) with a JSON argument; return the
    JSON it prints."""
    exe = _node_exe(NODE_DIR)

    async def run(script: str, arg: dict[str, Any]) -> dict[str, Any]:
        return await run_node(exe, NODE_DIR / f"{script}.js", arg)

    return run


@pytest.fixture
def node_eio3() -> NodeRunner:
    """The same for ``node_eio3/``: the Engine.IO v3 generation (socket.io-client 2.4.0)."""
    exe = _node_exe(NODE_EIO3_DIR)

    async def run(script: str, arg: dict[str, Any]) -> dict[str, Any]:
        return await run_node(exe, NODE_EIO3_DIR / f"{script}.js", arg)

    return run


@pytest.fixture
def listen() -> NodeRunner:
    """Run listen.js with one of `CLIENTS` (``"crisp-api@5.1.0"``) and a JSON argument."""

    async def run(client: str, arg: dict[str, Any]) -> dict[str, Any]:
        folder = CLIENTS[client]
        package = client.rpartition("@")[0]
        exe = _node_exe(folder)
        return await run_node(
            exe, LISTEN_JS, {"client_dir": str(folder), "package": package, **arg}
        )

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
