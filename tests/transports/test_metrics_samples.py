"""/metrics after real traffic: handler latency and REST calls by status have samples.

The runner wires the dispatcher's handler listener and the REST client's response
listener into its metrics; a bot that answers a visitor through the sandbox must then
show one handler run and one successful send (and a REST call that got no answer is
counted as ``error``).
"""

from __future__ import annotations

import re
import socket

import aiohttp
from transport_kit import settings_for

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend
from crisp_plugin.metrics import Metrics
from crisp_plugin.observer import Observer
from crisp_plugin.rest import RestClient
from crisp_plugin.runner import Runner
from crisp_plugin.sandbox import Sandbox


class Answering(Plugin):
    """Replies once to each visitor message."""

    @on("message:send")
    async def reply(self, event: MessageSend) -> None:
        await self.rest.send_message(event.website_id, event.session_id, "got it")


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample line of the Prometheus text, if present."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else None


async def test_handler_latency_and_rest_calls_show_up_in_metrics(sandbox: Sandbox) -> None:
    runner = Runner(settings_for(sandbox, "webhooks"), plugin_class=Answering)
    await runner.start()
    try:
        assert runner.webhooks is not None and runner.dispatcher is not None
        await sandbox.control.add_hook(runner.webhooks.url)
        session = await sandbox.control.create_conversation()
        await sandbox.control.visitor_says(None, session, "hello")
        reply = await sandbox.control.next_reply(None, session, timeout=5)
        assert reply is not None
        await runner.dispatcher.wait_idle()
        sends = [r for r in await sandbox.control.requests() if r["method"] == "POST"]
        url = f"http://127.0.0.1:{runner.webhooks.port}/metrics"
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 200
            text = await resp.text()
    finally:
        await runner.stop()
    event = "message:send"
    assert sample(text, "crisp_handler_duration_seconds_count", event=event) == 1.0
    seconds = sample(text, "crisp_handler_duration_seconds_sum", event=event)
    assert seconds is not None and 0 < seconds < 5
    assert sample(text, "crisp_handler_duration_seconds_bucket", event=event, le="+Inf") == 1.0
    [send] = sends  # the status the sandbox answered the send with
    assert (
        sample(text, "crisp_rest_requests_total", method="POST", status=str(send["status"])) == 1.0
    )
    assert sample(text, "crisp_events_handled_total", event=event) == 1.0


async def test_a_rest_call_without_an_answer_is_reported_with_no_status() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    heard: list[tuple[str, int | None, float]] = []

    class Heard(Observer):
        def rest_answered(self, method: str, status: int | None, seconds: float) -> None:
            heard.append((method, status, seconds))

    url = f"http://127.0.0.1:{port}"
    async with RestClient("id", "key", api_url=url, max_retries=1, observers=[Heard()]) as rest:
        try:
            await rest.request("GET", "/v1/plugin/connect/endpoints")
        except Exception as exc:
            assert type(exc).__name__ == "TransportError"
        else:
            raise AssertionError("a closed port answered")
    assert [(m, st) for m, st, _ in heard] == [("GET", None), ("GET", None)]  # with the retry
    assert all(sec >= 0 for _, _, sec in heard)


def test_histogram_buckets_count_a_bound_as_within_it_and_names_stay_bounded() -> None:
    metrics = Metrics()
    metrics.handler_ran("message:send", "Bot.reply", 0.005, "ok")
    metrics.handler_ran("message:send", "Bot.reply", 0.0051, "ok")
    metrics.handler_ran("message:send", "Bot.reply", 120.0, "timeout")
    for i in range(300):  # names come from the network: the label set stays bounded
        metrics.handler_ran(f"custom:{i}", "Bot.any", 0.001, "ok")
        metrics.rest_answered("GET", 200 + i, 0.01)
    text = metrics.render().decode()
    event = "message:send"
    assert sample(text, "crisp_handler_duration_seconds_bucket", event=event, le="0.005") == 1.0
    assert sample(text, "crisp_handler_duration_seconds_bucket", event=event, le="0.01") == 2.0
    assert sample(text, "crisp_handler_duration_seconds_bucket", event=event, le="60.0") == 2.0
    assert sample(text, "crisp_handler_duration_seconds_bucket", event=event, le="+Inf") == 3.0
    assert sample(text, "crisp_handler_duration_seconds_count", event="other") == 300 - 255
    assert sample(text, "crisp_rest_requests_total", method="other", status="other") == 300 - 256
