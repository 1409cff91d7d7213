"""A visitor's message reaches the plugin's handler over each transport, end to end:
sandbox -> RTM relay or signed hook -> runner's transport -> dispatcher -> handler."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from transport_kit import Recorder, eventually, settings_for

from crisp_plugin import Config
from crisp_plugin.embedded_sandbox import embedded_sandbox, register_hooks, with_sandbox
from crisp_plugin.runner import Runner
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.serve import serve


async def started(settings: Config, sb: Sandbox | None = None) -> Runner:
    runner = Runner(settings, plugin_class=Recorder)
    await runner.start()
    if sb is not None and runner.webhooks is not None:
        await sb.control.add_hook(runner.webhooks.url)
    return runner


@pytest.fixture
async def runners() -> AsyncIterator[list[Runner]]:
    made: list[Runner] = []
    yield made
    for runner in made:
        await runner.stop()


def recorder(runner: Runner) -> Recorder:
    assert isinstance(runner.plugin, Recorder)
    return runner.plugin


async def test_message_over_rtm(sandbox: Sandbox, runners: list[Runner]) -> None:
    runner = await started(settings_for(sandbox, "rtm"))
    runners.append(runner)
    assert runner.rtm is not None and runner.rtm.state == "connected"
    assert runner.webhooks is None
    session = await sandbox.control.create_conversation()
    await sandbox.control.visitor_says(None, session, "hello over the relay")
    assert await recorder(runner).next_text() == "hello over the relay"


async def test_rtm_subscribes_to_exactly_the_handled_events(
    sandbox: Sandbox, runners: list[Runner]
) -> None:
    runner = await started(settings_for(sandbox, "rtm", rtm={"rooms": sandbox.websites}))
    runners.append(runner)
    relay = await sandbox.control.relay()
    [sub] = relay["authenticated"]
    assert sub["events"] == ["message:send"]
    assert sub["rooms"] == sandbox.websites
    assert sub["tier"] == "plugin"


async def test_message_over_webhooks(sandbox: Sandbox, runners: list[Runner]) -> None:
    runner = await started(settings_for(sandbox, "webhooks"), sandbox)
    runners.append(runner)
    assert runner.rtm is None and runner.webhooks is not None
    session = await sandbox.control.create_conversation()
    await sandbox.control.visitor_says(None, session, "hello over a hook")
    assert await recorder(runner).next_text() == "hello over a hook"
    deliveries = await sandbox.control.deliveries(wait=True)
    assert deliveries and deliveries[-1]["status"] == "delivered"
    assert deliveries[-1]["attempts"][-1]["status"] == 200


async def test_both_transports_run_the_handler_once(
    sandbox: Sandbox, runners: list[Runner]
) -> None:
    runner = await started(settings_for(sandbox, "both"), sandbox)
    runners.append(runner)
    plugin = recorder(runner)
    session = await sandbox.control.create_conversation()
    for text in ("one", "two", "three"):
        await sandbox.control.visitor_says(None, session, text)
    await eventually(lambda: len(plugin.seen) >= 3)
    await sandbox.wait_hooks()  # every hook answered: the copies have arrived too
    assert runner.dispatcher is not None
    await runner.dispatcher.wait_idle()
    assert [text for _, text in plugin.seen] == ["one", "two", "three"]
    assert runner.dispatcher.stats.duplicates.get("message:send") == 3


async def test_relay_drop_reauthenticates_and_next_message_arrives(
    sandbox: Sandbox, runners: list[Runner]
) -> None:
    runner = await started(settings_for(sandbox, "rtm"))
    runners.append(runner)
    rtm = runner.rtm
    assert rtm is not None and rtm.auth_count == 1
    assert await sandbox.control.drop_rtm() == 1
    await eventually(lambda: rtm.auth_count == 2 and rtm.state == "connected")
    relay = await sandbox.control.relay()
    assert [s["events"] for s in relay["authenticated"]] == [["message:send"]]
    session = await sandbox.control.create_conversation()
    await sandbox.control.visitor_says(None, session, "still there?")
    assert await recorder(runner).next_text() == "still there?"


async def test_after_a_clean_drop_the_relay_is_back_at_once_not_after_a_backoff(
    sandbox: Sandbox, runners: list[Runner]
) -> None:
    # The default backoff (1 s, 0.5-1.0 s with jitter) would leave the plugin deaf for
    # up to a second per drop; a connection that held is re-made at once.
    settings = settings_for(sandbox, "rtm", rtm={"reconnect_delay": 1.0, "reconnect_max": 10})
    runner = await started(settings)
    runners.append(runner)
    rtm = runner.rtm
    assert rtm is not None
    await asyncio.sleep(1.0)  # the connection holds long enough to count as good
    loop = asyncio.get_running_loop()
    dropped_at = loop.time()
    assert await sandbox.control.drop_rtm() == 1
    await eventually(lambda: rtm.auth_count == 2 and rtm.state == "connected", timeout=2)
    assert loop.time() - dropped_at < 0.45
    session = await sandbox.control.create_conversation()
    await sandbox.control.visitor_says(None, session, "right after the drop")
    assert await recorder(runner).next_text() == "right after the drop"


async def test_handler_added_at_run_time_is_pushed_to_the_live_socket(
    sandbox: Sandbox, runners: list[Runner]
) -> None:
    runner = await started(settings_for(sandbox, "rtm"))
    runners.append(runner)
    plugin = recorder(runner)
    states: list[str] = []

    @plugin.on("session:set_state")
    async def state_changed(event: object) -> None:
        states.append(getattr(event, "raw", {}).get("state", "?"))

    # No call to make: the registration notifies the runner, which pushes the new
    # event to the live socket (socket:bind:push), without polling and without a delay.
    await eventually(
        lambda: (
            set(sandbox.relay.to_json()["authenticated"][0]["events"])
            == {"message:send", "session:set_state"}
        ),
        timeout=0.5,  # a 1 s poll would miss this
    )
    assert runner.rtm is not None
    assert set(runner.rtm.events) == {"message:send", "session:set_state"}
    assert await runner.update_events() == ([], [])  # nothing left to push
    session = await sandbox.control.create_conversation()
    await sandbox.control.resolve(None, session)
    await eventually(lambda: states == ["resolved"])


async def test_embedded_sandbox_fills_credentials_and_registers_the_hook() -> None:
    settings = Config.model_validate(
        {
            "plugin": {"class": "tests:Unused"},
            "events": {"transport": "both"},
            "webhooks": {"port": 0},
            "sandbox": {"enabled": True, "port": 0},
            "rtm": {"reconnect_delay": 0.05},
        }
    )
    out = _Lines()
    # What `run` does with [sandbox] enabled: the sandbox, then the runner on it.
    async with embedded_sandbox(settings, out.write_line) as sb:
        async with Runner(with_sandbox(settings, sb), plugin_class=Recorder) as runner:
            await register_hooks(sb, runner, out.write_line)
            assert runner.webhooks is not None
            assert runner.settings.crisp.api_url == sb.url
            assert runner.settings.crisp.identifier == sb.identifier
            assert sb.hooks.urls == [runner.webhooks.url]
            assert any(sb.url in line for line in out.lines)
            assert f"Web hooks: {runner.webhooks.url} (registered with the sandbox)" in out.lines
            session = await sb.control.create_conversation()
            await sb.control.visitor_says(None, session, "hi embedded")
            assert await recorder(runner).next_text() == "hi embedded"
            await sb.wait_hooks()
            assert runner.dispatcher is not None
            await runner.dispatcher.wait_idle()
            assert len(recorder(runner).seen) == 1
    assert sb.closing  # closed after the runner


async def test_healthz_and_metrics(sandbox: Sandbox, runners: list[Runner]) -> None:
    runner = await started(settings_for(sandbox, "both"), sandbox)
    runners.append(runner)
    session = await sandbox.control.create_conversation()
    await sandbox.control.visitor_says(None, session, "count me")
    await recorder(runner).next_text()
    await sandbox.wait_hooks()
    assert runner.webhooks is not None and runner.dispatcher is not None
    await runner.dispatcher.wait_idle()
    base = f"http://127.0.0.1:{runner.webhooks.port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/healthz") as resp:
            assert resp.status == 200
            assert await resp.json() == {
                "status": "ok",
                "transports": {"rtm": "connected", "webhooks": "listening"},
                "in_flight": 0,
                "inbox": {"backend": "memory", "depth": 0, "oldest_age_s": 0.0},
            }
        async with http.get(base + "/metrics") as resp:
            assert resp.status == 200
            assert resp.content_type == "text/plain"
            text = await resp.text()
    # one copy over RTM, one over the hook: both received, one handled, one duplicate
    assert 'crisp_events_received_total{event="message:send"} 2.0' in text
    assert 'crisp_events_duplicates_total{event="message:send"} 1.0' in text
    assert 'crisp_events_handled_total{event="message:send"} 1.0' in text
    assert 'crisp_webhook_responses_total{status="200"} 1.0' in text
    assert 'crisp_transport_up{transport="rtm"} 1.0' in text
    assert "# TYPE crisp_handler_duration_seconds histogram" in text
    assert "# TYPE crisp_rest_requests_total counter" in text


async def test_draining_runner_answers_hooks_503_and_health_503(
    sandbox: Sandbox, runners: list[Runner]
) -> None:
    settings = settings_for(sandbox, "webhooks")
    runner = await started(settings)
    runners.append(runner)
    assert runner.webhooks is not None
    base = f"http://127.0.0.1:{runner.webhooks.port}"
    release = asyncio.Event()
    plugin = recorder(runner)

    @plugin.on("message:send")
    async def slow(event: object) -> None:
        await release.wait()

    from crisp_plugin.signing import compact_json, sign

    def signed(fp: int) -> tuple[bytes, dict[str, str]]:
        body = compact_json(
            {
                "website_id": sandbox.websites[0],
                "event": "message:send",
                "data": {
                    "website_id": sandbox.websites[0],
                    "session_id": "session_drain",
                    "type": "text",
                    "from": "user",
                    "origin": "chat",
                    "content": f"m{fp}",
                    "fingerprint": fp,
                    "timestamp": 1,
                },
                "timestamp": 1,
            }
        )
        return body, {
            "X-Crisp-Request-Timestamp": "1",
            "X-Crisp-Signature": sign(sandbox.secret, "1", body),
        }

    async with aiohttp.ClientSession() as http:
        body, headers = signed(1)
        async with http.post(runner.webhooks.url, data=body, headers=headers) as resp:
            assert resp.status == 200
        await eventually(lambda: len(plugin.seen) == 1)
        stopping = asyncio.create_task(runner.stop())
        await eventually(lambda: runner.state == "stopping")
        body, headers = signed(2)
        async with http.post(runner.webhooks.url, data=body, headers=headers) as resp:
            assert resp.status == 503
        async with http.get(base + "/healthz") as resp:
            assert resp.status == 503
            assert (await resp.json())["status"] == "draining"
        release.set()
        await stopping
    assert runner.state == "stopped"


class _Lines:
    """A text stream that keeps the lines printed to it."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines.extend(line for line in text.splitlines() if line)
        return len(text)

    def flush(self) -> None:
        pass

    def write_line(self, line: str) -> None:
        self.lines.append(line)


async def test_health_is_degraded_while_the_relay_is_unreachable(
    sandbox: Sandbox, runners: list[Runner]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{s.getsockname()[1]}/relay/"
    runner = await started(settings_for(sandbox, "both", rtm={"url": nobody}), sandbox)
    runners.append(runner)
    assert runner.webhooks is not None
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{runner.webhooks.port}/healthz") as resp:
            assert resp.status == 200
            report = await resp.json()
    assert report["status"] == "degraded"
    assert report["transports"]["webhooks"] == "listening"
    assert report["transports"]["rtm"] in ("reconnecting", "connecting")
    # hooks still deliver while the relay is away
    session = await sandbox.control.create_conversation()
    await sandbox.control.visitor_says(None, session, "via the hook")
    assert await recorder(runner).next_text() == "via the hook"


async def test_key_revoked_while_running_ends_serve_with_1(sandbox: Sandbox) -> None:
    out = _Lines()
    running = asyncio.create_task(serve(settings_for(sandbox, "rtm"), Recorder, out))
    await eventually(lambda: bool(sandbox.relay.subscriptions))
    sandbox.relay._key = "revoked"  # the token changes on Crisp's side
    await sandbox.control.drop_rtm()
    assert await asyncio.wait_for(running, 10) == 1
    assert len(out.lines) == 1 and "RtmUnauthorized" in out.lines[0]
    assert sandbox.relay.refused == 1


async def test_rtm_only_runner_serves_health_and_metrics_on_its_own_port(
    sandbox: Sandbox, runners: list[Runner]
) -> None:
    settings = settings_for(sandbox, "rtm", metrics={"enabled": True, "port": 0})
    runner = await started(settings)
    runners.append(runner)
    assert runner.webhooks is None and runner.status_server is not None
    session = await sandbox.control.create_conversation()
    await sandbox.control.visitor_says(None, session, "probe me")
    assert await recorder(runner).next_text() == "probe me"
    assert runner.dispatcher is not None
    await runner.dispatcher.wait_idle()
    base = runner.status_server.url
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/healthz") as resp:
            assert resp.status == 200
            assert await resp.json() == {
                "status": "ok",
                "transports": {"rtm": "connected"},
                "in_flight": 0,
                "inbox": {"backend": "memory", "depth": 0, "oldest_age_s": 0.0},
            }
        async with http.get(base + "/metrics") as resp:
            assert resp.status == 200
            text = await resp.text()
    assert 'crisp_events_handled_total{event="message:send"} 1.0' in text
    await runner.stop()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(base + "/healthz")  # the port is closed with the runner


async def test_embedded_sandbox_prints_its_chat_page_url_which_serves_the_page() -> None:
    settings = Config.model_validate(
        {
            "plugin": {"class": "tests:Unused"},
            "events": {"transport": "webhooks"},
            "webhooks": {"port": 0},
            "sandbox": {"enabled": True, "port": 0},
        }
    )
    out = _Lines()
    async with embedded_sandbox(settings, out.write_line) as sb:
        assert sb.chat_url == sb.url + "/"
        assert f"Sandbox: chat as a visitor at {sb.chat_url}" in out.lines
        async with aiohttp.ClientSession() as http, http.get(sb.chat_url) as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
