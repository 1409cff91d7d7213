"""The ``[webhooks]`` keys reach the hook server through ``WebhookServer.from_settings``."""

from __future__ import annotations

from typing import Any

import pytest

from crisp_plugin.config import ConfigError, WebhookSettings, settings_from_dict
from crisp_plugin.transports.webhook import WebhookServer
from tests.transports.test_hook_wire_adversarial import answers, by_aiohttp, plain
from tests.transports.test_webhook_server import SECRET, RecordingSink

PLUGIN = {"class": "tests:Unused"}
CRISP = {"identifier": "id", "key": "k"}


def section(**webhooks: Any) -> WebhookSettings:
    raw = {"plugin": PLUGIN, "crisp": CRISP, "webhooks": {"secret": SECRET, **webhooks}}
    return settings_from_dict(raw).webhooks


def from_toml(**webhooks: Any) -> WebhookServer:
    settings = section(host="127.0.0.1", port=0, **webhooks)
    return WebhookServer.from_settings(RecordingSink(), settings)


@pytest.mark.parametrize("fast", [True, False])
async def test_fast_path_setting_decides_who_answers_hooks(fast: bool) -> None:
    server = from_toml(fast_path=fast)
    assert server.fast_path is fast
    await server.start()
    try:
        [answer] = await answers(server, plain(1), limit=1)
    finally:
        await server.stop()
    assert answer[0] == 200
    assert by_aiohttp(answer) is not fast


def test_fast_path_is_on_by_default_and_keyword_arguments_win() -> None:
    assert from_toml().fast_path is True
    settings = section(fast_path=True)
    server = WebhookServer.from_settings(RecordingSink(), settings, fast_path=False)
    assert server.fast_path is False


def test_fast_path_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError) as caught:
        section(fast_path="sometimes")
    assert any("webhooks.fast_path" in line for line in caught.value.problems)


def test_request_timeout_and_max_connections_reach_the_server() -> None:
    server = from_toml(request_timeout=2.5, max_connections=7)
    assert server.guard.request_timeout == 2.5
    assert server.guard.max_connections == 7
    defaults = from_toml()
    assert defaults.guard.request_timeout == 10.0
    assert defaults.guard.max_connections == 1000


@pytest.mark.parametrize(
    ("key", "value"),
    [("request_timeout", 0), ("request_timeout", -1), ("max_connections", 0)],
)
def test_out_of_range_limits_are_config_errors(key: str, value: float) -> None:
    with pytest.raises(ConfigError) as caught:
        section(**{key: value})
    assert any(f"webhooks.{key}" in line for line in caught.value.problems)
