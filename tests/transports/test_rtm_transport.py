"""The RTM transport on its own, against real Socket.IO servers: the sandbox's relay,
and small relays written here that misbehave in the ways Crisp's may (no answer,
``authenticated: false``). The sink records what the dispatcher would be fed."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import socketio
from aiohttp import web
from structlog.testing import capture_logs
from transport_kit import eventually

from crisp_plugin.errors import RtmError, RtmUnauthorized
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.transports.rtm import BIND_INTERVAL, RtmTransport, split_relay_url


class Sink:
    def __init__(self, answer: bool = True) -> None:
        self.fed: list[tuple[str, dict[str, Any], str]] = []
        self.answer = answer

    def feed(
        self, name: str, payload: dict[str, Any], source: str, redelivery: bool = False
    ) -> bool:
        self.fed.append((name, payload, source))
        return self.answer


def dead_url() -> str:
    """A relay URL on a loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/relay/"


def transport(sb: Sandbox, sink: Sink, **options: Any) -> RtmTransport:
    options.setdefault("url", sb.relay_url)
    return RtmTransport(
        sink,
        identifier=sb.identifier,
        key=options.pop("key", sb.key),
        events=options.pop("events", lambda: ["message:send", "plugin:subscription:updated"]),
        auth_timeout=options.pop("auth_timeout", 3.0),
        reconnect_delay=0.02,
        reconnect_max=0.1,
        **options,
    )


@pytest.fixture
async def stoppers() -> AsyncIterator[list[RtmTransport]]:
    made: list[RtmTransport] = []
    yield made
    for rtm in made:
        await rtm.stop()


def test_socketio_path_is_the_urls_own_path() -> None:
    assert split_relay_url("https://relay.crisp.chat/p/3/") == ("https://relay.crisp.chat", "/p/3/")
    assert split_relay_url("https://relay.crisp.chat") == ("https://relay.crisp.chat", "/")
    assert split_relay_url("wss://r.example/x?a=1") == ("wss://r.example?a=1", "/x")
    with pytest.raises(RtmError):
        split_relay_url("ftp://relay.example/")


async def test_events_arrive_with_source_rtm(
    sandbox: Sandbox, stoppers: list[RtmTransport]
) -> None:
    sink = Sink()
    rtm = transport(sandbox, sink)
    stoppers.append(rtm)
    await rtm.start()
    session = await sandbox.control.create_conversation()
    await sandbox.control.visitor_says(None, session, "hi")
    await eventually(lambda: any(n == "message:send" for n, _, _ in sink.fed))
    name, payload, source = sink.fed[-1]
    assert (name, payload["content"], payload["session_id"], source) == (
        "message:send",
        "hi",
        session,
        "rtm",
    )


async def test_refused_key_raises_once_and_does_not_retry(
    sandbox: Sandbox, stoppers: list[RtmTransport]
) -> None:
    rtm = transport(sandbox, Sink(), key="wrong-key-value")
    stoppers.append(rtm)
    with capture_logs() as logs, pytest.raises(RtmUnauthorized, match=r"crisp\.key"):
        await rtm.start()
    assert rtm.state == "failed"
    [refusal] = [line for line in logs if line.get("state") == "failed"]
    assert refusal["log_level"] == "error"
    assert "refused" in refusal["reason"] and "crisp.key" in refusal["reason"]
    assert "wrong-key-value" not in str(logs)
    assert isinstance(await asyncio.wait_for(rtm.wait_failed(), 1), RtmUnauthorized)
    await asyncio.sleep(0.3)  # several backoff periods: still one refusal
    assert sandbox.relay.refused == 1


async def test_falls_back_to_the_rescue_relay(
    sandbox: Sandbox, stoppers: list[RtmTransport]
) -> None:
    calls = 0

    async def discover() -> list[str]:
        nonlocal calls
        calls += 1
        return [dead_url(), sandbox.relay_url]

    rtm = transport(sandbox, Sink(), url=None, discover=discover, rediscover_after=2)
    stoppers.append(rtm)
    await rtm.start()  # the first relay is down: start returns, retries go on
    await asyncio.wait_for(rtm.wait_ready(), 5)
    assert rtm.url == sandbox.relay_url
    assert calls == 1


async def test_discovers_again_after_every_relay_failed(
    sandbox: Sandbox, stoppers: list[RtmTransport]
) -> None:
    answers = [[dead_url(), dead_url()], [sandbox.relay_url]]
    calls = 0

    async def discover() -> list[str]:
        nonlocal calls
        calls += 1
        return answers[min(calls, len(answers)) - 1]

    rtm = transport(sandbox, Sink(), url=None, discover=discover, rediscover_after=1)
    stoppers.append(rtm)
    await rtm.start()
    await asyncio.wait_for(rtm.wait_ready(), 5)
    assert calls == 2 and rtm.url == sandbox.relay_url


async def test_subscription_update_binds_at_most_once_per_interval(
    sandbox: Sandbox, stoppers: list[RtmTransport]
) -> None:
    binds: list[float] = []

    async def on_bind(sid: str, data: Any = None) -> None:
        binds.append(time.monotonic())

    sandbox.relay.sio.on("socket:bind", on_bind)
    sink = Sink()
    rtm = transport(sandbox, sink)
    stoppers.append(rtm)
    await rtm.start()
    website = sandbox.websites[0]
    for _ in range(3):
        await sandbox.control.uninstall(website)
        await sandbox.control.install(website)
    await eventually(lambda: len(binds) == 1)
    await eventually(
        lambda: len([n for n, _, _ in sink.fed if n == "plugin:subscription:updated"]) == 6
    )
    await eventually(lambda: len(binds) == 2, timeout=BIND_INTERVAL + 2)
    assert binds[1] - binds[0] >= BIND_INTERVAL - 0.05
    await asyncio.sleep(0.2)
    assert len(binds) == 2  # six updates, two binds


async def test_refusing_dispatcher_is_counted_not_fatal(
    sandbox: Sandbox, stoppers: list[RtmTransport]
) -> None:
    sink = Sink(answer=False)
    rtm = transport(sandbox, sink)
    stoppers.append(rtm)
    await rtm.start()
    session = await sandbox.control.create_conversation()
    await sandbox.control.visitor_says(None, session, "lost")
    await eventually(lambda: rtm.dropped == 1)
    assert rtm.state == "connected"


# -- relays that misbehave -----------------------------------------------------------


async def mini_relay(
    on_auth: Callable[[socketio.AsyncServer, str, Any], Any], at_root: bool = False
) -> tuple[str, Any]:
    """A Socket.IO relay at ``/ws/``, or at ``/`` exactly as Crisp's are served."""
    sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False)
    seen: list[Any] = []

    async def authentication(sid: str, data: Any = None) -> None:
        seen.append(data)
        await on_auth(sio, sid, data)

    sio.on("authentication", authentication)
    app = web.Application()
    if at_root:
        app.router.add_get("/", sio.handle_request)
        app.router.add_post("/", sio.handle_request)
    else:
        sio.attach(app, socketio_path="ws")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]

    async def close() -> None:
        await runner.cleanup()

    return f"http://127.0.0.1:{port}/{'' if at_root else 'ws/'}", (close, seen)


async def test_authenticated_false_is_a_refusal() -> None:
    async def refuse(sio: socketio.AsyncServer, sid: str, data: Any) -> None:
        await sio.emit("authenticated", False, to=sid)

    url, (close, seen) = await mini_relay(refuse)
    rtm = RtmTransport(Sink(), identifier="id", key="k", events=lambda: ["message:send"], url=url)
    try:
        with pytest.raises(RtmUnauthorized):
            await rtm.start()
        assert seen == [
            {"username": "id", "password": "k", "tier": "plugin", "events": ["message:send"]}
        ]
    finally:
        await rtm.stop()
        await close()


async def test_silent_relay_times_out_and_is_retried() -> None:
    async def ignore(sio: socketio.AsyncServer, sid: str, data: Any) -> None:
        return None

    url, (close, seen) = await mini_relay(ignore)
    rtm = RtmTransport(
        Sink(),
        identifier="id",
        key="k",
        events=lambda: ["message:send"],
        url=url,
        auth_timeout=0.3,
        reconnect_delay=0.05,
        reconnect_max=0.05,
        inboxes=["inbox-1"],
    )
    try:
        started = time.monotonic()
        await rtm.start()  # not fatal: no answer is a network fault, not a refusal
        assert time.monotonic() - started < 2
        assert rtm.error is None and rtm.state != "connected"
        await eventually(lambda: len(seen) >= 2)  # authenticated again on the retry
        assert seen[0]["inboxes"] == ["inbox-1"]
    finally:
        await rtm.stop()
        await close()


async def test_relay_served_at_the_root_path_is_reached() -> None:
    """Crisp's relays live at ``/``: the client must ask for ``/?EIO=4``, not ``//``."""

    async def accept(sio: socketio.AsyncServer, sid: str, data: Any) -> None:
        await sio.emit("authenticated", True, to=sid)
        await sio.emit("message:send", {"website_id": "w", "content": "from the root"}, to=sid)

    url, (close, seen) = await mini_relay(accept, at_root=True)
    sink = Sink()
    rtm = RtmTransport(sink, identifier="id", key="k", events=lambda: ["message:send"], url=url)
    try:
        await rtm.start()
        assert rtm.state == "connected"
        assert seen[0]["events"] == ["message:send"]
        await eventually(lambda: len(sink.fed) == 1)
        assert sink.fed[0][1]["content"] == "from the root"
    finally:
        await rtm.stop()
        await close()
