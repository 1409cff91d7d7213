"""The README's embedding recipe: a Runner inside an aiohttp application of one's own,
its hook endpoint mounted on the application's router, fed by the sandbox over a real
socket; the application's lifespan starts and drains the plugin."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import aiohttp
from aiohttp import web
from transport_kit import eventually, settings_for

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend
from crisp_plugin.runner import Runner
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.signing import compact_json, sign
from tests.test_readme import snippet_module

RECIPE = snippet_module("embedding")


class Echo(Plugin):
    @on("message:send")
    async def echo(self, event: MessageSend) -> None:
        await event.reply(f"app says: {event.text}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_the_hook_endpoint_mounted_in_an_aiohttp_app(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "plugin.toml").write_text(
        f"""
[plugin]
class = "{__name__}:Echo"
urn = "urn:test:embedded:1"
[crisp]
identifier = "{sandbox.identifier}"
key = "{sandbox.key}"
api_url = "{sandbox.url}"
[events]
transport = "webhooks"
[webhooks]
port = 9                          # never bound: the application serves the route
secret = "{sandbox.secret}"
[log]
level = "warning"
"""
    )
    app = RECIPE.make_app(str(tmp_path / "plugin.toml"))

    async def own_page(request: web.Request) -> web.Response:
        return web.Response(text="the app's own page")

    app.router.add_get("/", own_page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    crisp = app[RECIPE.CRISP]
    try:
        assert crisp.state == "running" and crisp.health()["status"] == "ok"
        await sandbox.control.add_hook(f"http://127.0.0.1:{port}/crisp/hooks")
        session = await sandbox.control.create_conversation()
        await sandbox.control.visitor_says(None, session, "hello from the app")
        reply = await sandbox.control.next_reply(None, session, timeout=5)
        assert reply is not None and reply["content"] == "app says: hello from the app"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as resp:
                assert await resp.text() == "the app's own page"
            async with http.post(f"http://127.0.0.1:{port}/crisp/hooks", data=b"{}") as resp:
                assert resp.status == 403  # unsigned: refused, as the plugin's own server
    finally:
        await runner.cleanup()  # the application's shutdown drains and stops the plugin
    await eventually(lambda: crisp.state == "stopped")


async def test_receive_answers_a_hook_handed_over_by_any_framework(sandbox: Sandbox) -> None:
    """What a FastAPI or Starlette route would do: the raw body and headers in, the
    status, JSON body and headers to answer with out."""
    settings = settings_for(sandbox, "webhooks")
    async with Runner(settings, plugin_class=Echo, listen=False) as runner:
        assert runner.webhooks is not None
        session = await sandbox.control.create_conversation()
        payload = {
            "website_id": sandbox.websites[0],
            "event": "message:send",
            "timestamp": 1700000000000,
            "data": {
                "website_id": sandbox.websites[0],
                "session_id": session,
                "type": "text",
                "from": "user",
                "origin": "chat",
                "content": "via receive",
                "fingerprint": 4242,
            },
        }
        body = compact_json(payload)
        headers = {
            "X-Crisp-Request-Timestamp": "1700000000000",
            "X-Crisp-Signature": sign(sandbox.secret, "1700000000000", body),
        }
        status, answer, extra = await runner.webhooks.receive(body, headers)
        assert (status, json.loads(answer), extra) == (200, {"ok": True}, ())
        reply = await sandbox.control.next_reply(None, session, timeout=5)
        assert reply is not None and reply["content"] == "app says: via receive"
        forged = {**headers, "X-Crisp-Signature": "0" * 64}
        status, answer, _ = await runner.webhooks.receive(body, forged)
        assert status == 403 and json.loads(answer)["error"] == "forbidden"
        assert runner.health()["status"] == "ok"  # mounted counts as listening
