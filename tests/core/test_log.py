"""Logs: JSON off a terminal, and secrets never in the output."""

from __future__ import annotations

import base64
import gc
import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from crisp_plugin import Config
from crisp_plugin.config import configure_logging_for
from crisp_plugin.log import (
    REDACTED,
    configure_logging,
    forget_secrets,
    get_logger,
    register_credentials,
    register_secret,
)

KEY = "c0ffee-super-secret-token-key-42"
HOOK = "hook-signing-secret-99"


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # What earlier tests left for the garbage collector (a pending task asyncio reports
    # when it is destroyed) is collected now, before a test points logging at its stream.
    gc.collect()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    forget_secrets()
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def settings() -> Config:
    return Config.model_validate(
        {
            "crisp": {"identifier": "ident", "key": KEY},
            "webhooks": {"secret": HOOK},
            "log": {"format": "json"},
        }
    )


def test_logging_a_config_never_prints_its_secrets() -> None:
    out = io.StringIO()
    config = settings()
    configure_logging_for(config, stream=out)
    log = get_logger("test")
    log.info("loaded config", config=config)
    log.info("raw toml", raw={"crisp": {"identifier": "ident", "key": KEY}})
    log.info("an url", url=f"https://api.example.com/?k={KEY}", note=[f"Basic {KEY}"])
    log.warning("secret by name", password="p4ssw0rd!", hook_secret="abc", token="t0k3n")
    text = out.getvalue()
    assert KEY not in text and HOOK not in text
    assert "p4ssw0rd!" not in text and "t0k3n" not in text
    # By message: another line may come between (asyncio reporting, at garbage
    # collection, a task an earlier test left pending goes through the same handler).
    lines = {line["event"]: line for line in map(json.loads, text.splitlines())}
    assert lines["loaded config"]["config"]["crisp"]["identifier"] == "ident"
    assert lines["loaded config"]["config"]["crisp"]["key"] == REDACTED
    assert lines["raw toml"]["raw"]["crisp"]["key"] == REDACTED
    assert lines["an url"]["url"] == f"https://api.example.com/?k={REDACTED}"
    named = lines["secret by name"]
    assert named["password"] == REDACTED and named["level"] == "warning"


def test_tracebacks_are_scrubbed_too() -> None:
    out = io.StringIO()
    configure_logging_for(settings(), stream=out)
    try:
        raise RuntimeError(f"request failed with key {KEY}")
    except RuntimeError as exc:
        get_logger().error("failed", exc_info=exc)
    text = out.getvalue()
    assert KEY not in text
    assert "request failed with key" in text and "Traceback" in text


def test_console_format_and_level_filtering() -> None:
    out = io.StringIO()
    register_secret(KEY)
    configure_logging("warning", "console", stream=out)
    log = get_logger()
    log.info("hidden by level")
    log.warning("shown", detail=KEY)
    text = out.getvalue()
    assert "hidden by level" not in text
    assert "shown" in text and KEY not in text and REDACTED in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_auto_format_is_json_off_a_terminal() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    get_logger().info("hello", n=1)
    assert json.loads(out.getvalue())["n"] == 1


BASIC = base64.b64encode(f"ident:{KEY}".encode()).decode()


def test_stdlib_and_structlog_lines_are_json_and_never_carry_the_key_or_basic_token() -> None:
    out = io.StringIO()
    configure_logging_for(settings(), stream=out)
    mine = logging.getLogger("mine")
    mine.warning("key %s", KEY)
    mine.warning("header Authorization: Basic %s", BASIC)
    get_logger("test").warning("sent", header=f"Basic {BASIC}", raw=KEY)
    try:
        raise RuntimeError(f"boom {BASIC}")
    except RuntimeError:
        mine.exception("failed")
    text = out.getvalue()
    assert KEY not in text and BASIC not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 4
    assert lines[0]["event"] == f"key {REDACTED}" and lines[0]["logger"] == "mine"
    assert lines[0]["level"] == "warning"
    assert lines[1]["event"] == f"header Authorization: Basic {REDACTED}"
    assert lines[2]["header"] == f"Basic {REDACTED}" and lines[2]["raw"] == REDACTED
    assert "Traceback" in lines[3]["exception"] and REDACTED in lines[3]["exception"]


def test_stdlib_console_lines_are_scrubbed_and_filtered_by_level() -> None:
    out = io.StringIO()
    register_credentials("someone", KEY)
    token = base64.b64encode(f"someone:{KEY}".encode()).decode()
    configure_logging("warning", "console", stream=out)
    logging.getLogger("mine").info("hidden %s", KEY)
    logging.getLogger("mine").error("auth %s / %s", token, KEY)
    text = out.getvalue()
    assert "hidden" not in text
    assert "auth" in text and KEY not in text and token not in text and REDACTED in text


def test_configuring_twice_keeps_one_stdlib_handler() -> None:
    out = io.StringIO()
    configure_logging_for(settings(), stream=io.StringIO())
    configure_logging_for(settings(), stream=out)
    logging.getLogger("mine").warning("once")
    assert len(out.getvalue().splitlines()) == 1


async def test_an_embedded_sandboxs_generated_secrets_never_reach_the_log() -> None:
    from crisp_plugin import Plugin
    from crisp_plugin.embedded_sandbox import embedded_sandbox, with_sandbox
    from crisp_plugin.runner import Runner

    leaked: dict[str, str] = {}

    class Leaky(Plugin):
        async def on_startup(self) -> None:
            key = self.config.crisp.key.get_secret_value()
            secret = self.config.webhooks.secret
            assert secret is not None
            basic = base64.b64encode(f"{self.config.crisp.identifier}:{key}".encode()).decode()
            leaked.update(key=key, basic=basic, secret=secret.get_secret_value())
            self.log.info("careless", key_text=f"k={key}", header=f"Basic {basic}")
            self.log.info(f"hook secret {secret.get_secret_value()}")

    config = Config.model_validate(
        {
            "plugin": {"class": "tests:Unused"},
            "events": {"transport": "webhooks"},
            "webhooks": {"port": 0},
            "sandbox": {"enabled": True, "port": 0},
            "log": {"format": "json"},
        }
    )
    out = io.StringIO()
    configure_logging_for(config, stream=out)  # before the sandbox made its key
    async with embedded_sandbox(config, lambda line: None) as sandbox:  # as `run` does
        async with Runner(with_sandbox(config, sandbox), plugin_class=Leaky):
            pass
    text = out.getvalue()
    assert leaked and "careless" in text and "hook secret" in text
    for value in leaked.values():
        assert value not in text
    assert REDACTED in text


async def test_a_bare_rest_client_has_its_basic_token_redacted() -> None:
    from crisp_plugin.rest import RestClient

    out = io.StringIO()
    configure_logging(stream=out)
    RestClient("ident-bare", "bare-client-key-123", api_url="http://127.0.0.1:9")
    basic = base64.b64encode(b"ident-bare:bare-client-key-123").decode()
    get_logger("test").info("headers", authorization_header=f"Basic {basic}")
    assert basic not in out.getvalue() and "bare-client-key-123" not in out.getvalue()
