"""``[redis]`` in plugin.toml and ``open_redis``: problem lines that name the key and
never the password, a start-up check that says in one line why Redis cannot be used,
keys under the plugin's own prefix, and a package that works without redis-py."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from crisp_plugin.config import Config, configure_logging_for, load_config, settings_from_dict
from crisp_plugin.errors import ConfigError, CrispError, RedisUnavailable
from crisp_plugin.log import forget_secrets, get_logger
from crisp_plugin.redis_client import default_prefix, open_redis, redis_link
from tests.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "redis-pass-7f3c91"
BASE = '[plugin]\nclass = "bot:Bot"\n[sandbox]\nenabled = true\n'


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    forget_secrets()
    yield
    forget_secrets()
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def problems(tmp: Path, toml: str, env: dict[str, str] | None = None) -> list[str]:
    path = tmp / "plugin.toml"
    path.write_text(BASE + toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {})
    return caught.value.problems


def config_for(url: str, **redis: object) -> Config:
    return Config.model_validate({"state": {"backend": "redis"}, "redis": {"url": url, **redis}})


def test_a_redis_backend_without_a_url_is_one_problem(tmp_path: Path) -> None:
    assert problems(tmp_path, '[state]\nbackend = "redis"\n') == [
        'redis.url is missing: state.backend = "redis" needs it: write it in [redis], e.g. '
        'url = "redis://127.0.0.1:6379/0" (a password from the environment: '
        '"redis://:${REDIS_PASSWORD}@host:6379/0")'
    ]
    both = problems(tmp_path, '[state]\nbackend = "redis"\n[crisp]\nlimits_backend = "redis"\n')
    assert len(both) == 1
    assert both[0].startswith(
        'redis.url is missing: state.backend = "redis" and crisp.limits_backend = "redis" needs it'
    )


def test_a_bad_url_is_named_with_its_password_masked(tmp_path: Path) -> None:
    env = {"REDIS_PASSWORD": PASSWORD}
    lines = problems(tmp_path, '[redis]\nurl = "http://:${REDIS_PASSWORD}@cache:6379"\n', env)
    assert lines == [
        'redis.url = "http://***@cache:6379" is not a Redis URL: write redis://host:6379/0 '
        '(rediss:// for TLS), e.g. url = "redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0"'
    ]
    lines = problems(tmp_path, '[redis]\nurl = "redis://:${REDIS_PASSWORD}@cache:port"\n', env)
    assert len(lines) == 1 and lines[0].startswith('redis.url = "redis://***@cache:port" is not')
    lines = problems(tmp_path, '[redis]\nurl = "redis://:${REDIS_PASSWORD}@cache/sessions"\n', env)
    assert lines == [
        'redis.url = "redis://***@cache/sessions": the path after the host is a database '
        "number (/0, /1...), not a name"
    ]
    assert problems(tmp_path, "[redis]\nurl = 6379\n") == [
        "redis.url = <hidden> is not a string: fix the value's type"
    ]
    assert problems(tmp_path, '[redis]\nurl = "redis://h"\nprefx = "bot"\n') == [
        "redis.prefx is not a known key: did you mean prefix?"
    ]
    assert problems(tmp_path, '[redis]\nurl = "redis://h"\nconnect_timeout = 0\n') == [
        "redis.connect_timeout = 0 must be greater than 0: change the value"
    ]


def test_the_password_comes_from_the_environment_and_stays_secret(tmp_path: Path) -> None:
    path = tmp_path / "plugin.toml"
    path.write_text(
        BASE + '[state]\nbackend = "redis"\n'
        '[redis]\nurl = "redis://:${REDIS_PASSWORD}@127.0.0.1:6379/2"\nprefix = "bot"\n'
    )
    config = load_config(path, env={"REDIS_PASSWORD": PASSWORD})
    assert config.redis.url is not None
    assert config.redis.url.get_secret_value() == f"redis://:{PASSWORD}@127.0.0.1:6379/2"
    assert PASSWORD not in repr(config) and PASSWORD not in str(config.model_dump())
    assert PASSWORD in config.secrets()

    out = io.StringIO()
    configure_logging_for(
        config.model_copy(update={"log": config.log.model_copy(update={"format": "json"})}),
        stream=out,
    )
    get_logger("test").info("redis", url=config.redis.url.get_secret_value(), config=config)
    assert PASSWORD not in out.getvalue() and "127.0.0.1:6379/2" in out.getvalue()


async def test_open_redis_checks_the_server_and_shares_one_pool(
    redis_server: RedisServer,
) -> None:
    link = await open_redis(config_for(redis_server.url))
    try:
        assert link.url == f"redis://127.0.0.1:{redis_server.port}/0"
        assert link.prefix == "crisp:{urn:crisp-plugin:bot:1}"
        assert link.key("state", "w/s", "a:b") == "crisp:{urn:crisp-plugin:bot:1}:state:w/s:a%3Ab"
        assert await link.client.ping() is True
    finally:
        await link.close()
    await link.close()  # idempotent
    assert link.closed


async def test_an_unreachable_redis_is_one_line_naming_the_key() -> None:
    port = free_port()  # nothing listens there
    config = config_for(f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    with pytest.raises(RedisUnavailable) as caught:
        await open_redis(config)
    message = str(caught.value)
    assert isinstance(caught.value, CrispError) and "\n" not in message
    assert message == (
        f'Redis cannot be reached at redis.url = "redis://***@127.0.0.1:{port}/0" '
        "(Connection refused): start it or fix redis.url"
    )


async def test_a_wrong_password_is_one_line_without_it(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "auth", password=PASSWORD)
    server.start()
    try:
        wrong = f"redis://:not-{PASSWORD}@127.0.0.1:{server.port}/0"
        with pytest.raises(RedisUnavailable) as caught:
            await open_redis(config_for(wrong))
        message = str(caught.value)
        assert message.startswith(
            f'Redis refused the credentials of redis.url = "redis://***@127.0.0.1:{server.port}/0"'
        )
        assert PASSWORD not in message and "\n" not in message
        link = await open_redis(config_for(server.url))  # the right one
        assert await link.client.ping() is True
        assert PASSWORD not in repr(link)
        await link.close()
    finally:
        server.stop()


async def test_a_silent_server_is_a_timeout_naming_both_timeouts() -> None:
    import asyncio

    async def accept_and_say_nothing(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    server = await asyncio.start_server(accept_and_say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        config = config_for(f"redis://127.0.0.1:{port}", connect_timeout=0.2, socket_timeout=0.2)
        with pytest.raises(RedisUnavailable) as caught:
            await open_redis(config)
    finally:
        server.close()
        await server.wait_closed()
    assert str(caught.value) == (
        f'Redis did not answer in time at redis.url = "redis://127.0.0.1:{port}" (redis.'
        "connect_timeout = 0.2, redis.socket_timeout = 0.2): is it overloaded or out "
        "of reach?"
    )


def test_the_default_prefix_keeps_plugins_apart() -> None:
    assert default_prefix("urn:acme:bot:1") == "crisp:{urn:acme:bot:1}"
    assert default_prefix("urn:acme:bot:1") != default_prefix("urn:acme:bot:2")
    assert default_prefix("urn:a}b%") == "crisp:{urn:a%7Db%25}"  # the brace closes it alone
    config = Config.model_validate(
        {"plugin": {"urn": "urn:acme:bot:1"}, "redis": {"url": "redis://h", "prefix": "acme"}}
    )
    link = redis_link(config)
    assert link.prefix == "acme" and link.key("x") == "acme:x"


def test_the_package_works_without_redis_py(tmp_path: Path) -> None:
    """redis-py hidden: everything but a redis backend works; a redis backend is a
    problem line saying what to install."""
    code = f"""
import sys
sys.modules["redis"] = None  # as if it were not installed
import asyncio
import crisp_plugin, crisp_plugin.config, crisp_plugin.rest, crisp_plugin.state
from crisp_plugin.config import Config, settings_from_dict
from crisp_plugin.errors import ConfigError
from crisp_plugin.redis_client import redis_link
from crisp_plugin.rest import RestClient
from crisp_plugin.state import create_state
base = {{"plugin": {{"class": "bot:Bot"}}, "sandbox": {{"enabled": True}}}}
settings_from_dict(base)
sqlite = {{"backend": "sqlite", "path": r"{tmp_path / "s.db"}"}}
store = create_state(Config.model_validate({{"state": sqlite}}))
asyncio.run(store.close())
RestClient("i", "k", rate_limit=5, daily_quota=10)
for raw in (
    {{**base, "state": {{"backend": "redis"}}, "redis": {{"url": "redis://h"}}}},
    {{**base, "crisp": {{"limits_backend": "redis"}}, "redis": {{"url": "redis://h"}}}},
):
    try:
        settings_from_dict(raw)
    except ConfigError as exc:
        print(exc.problems)
try:
    redis_link(Config.model_validate({{"state": {{"backend": "redis"}}, "redis": {{"url": "redis://h"}}}}))
except ConfigError as exc:
    print(exc.problems)
print("redis" in sys.modules and sys.modules["redis"] is not None)
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        '[\'state.backend = "redis" needs the redis library: pip install '
        "\\'crisp-plugin[redis]\\'']",
        '[\'crisp.limits_backend = "redis" needs the redis library: pip install '
        "\\'crisp-plugin[redis]\\'']",
        '[\'state.backend = "redis" needs the redis library, which is not installed: '
        "pip install \\'crisp-plugin[redis]\\'']",
        "False",
    ]


def test_settings_from_dict_accepts_a_full_redis_section() -> None:
    config = settings_from_dict(
        {
            "plugin": {"class": "bot:Bot"},
            "sandbox": {"enabled": True},
            "state": {"backend": "redis"},
            "crisp": {"limits_backend": "redis", "daily_quota": 100},
            "redis": {
                "url": "rediss://:${REDIS_PASSWORD}@cache.internal:6380/1",
                "prefix": "helpdesk",
                "connect_timeout": "2",
                "socket_timeout": 3,
            },
        },
        {"REDIS_PASSWORD": PASSWORD},
    )
    assert config.redis.prefix == "helpdesk" and config.redis.connect_timeout == 2.0
    assert config.crisp.limits_backend == "redis" and config.state.backend == "redis"


def test_check_reports_the_missing_url_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "plugin.toml"
    path.write_text(BASE + '[crisp]\nlimits_backend = "redis"\ndaily_quota = 100\n')
    (tmp_path / "bot.py").write_text(
        "from crisp_plugin import Plugin\n\nclass Bot(Plugin):\n    pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "crisp_plugin", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[1:] == [
        '  redis.url is missing: crisp.limits_backend = "redis" needs it: write it in [redis], '
        'e.g. url = "redis://127.0.0.1:6379/0" (a password from the environment: '
        '"redis://:${REDIS_PASSWORD}@host:6379/0")'
    ]


def run_check(tmp_path: Path, redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "plugin.toml"
    path.write_text(
        BASE + '[state]\nbackend = "redis"\n[crisp]\nlimits_backend = "redis"\ndaily_quota = 10\n'
        f'[redis]\nurl = "{redis_url}"\n'
    )
    (tmp_path / "bot.py").write_text(
        "from crisp_plugin import Plugin\n\nclass Bot(Plugin):\n    pass\n"
    )
    return subprocess.run(
        [sys.executable, "-m", "crisp_plugin", "check", str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "REDIS_PASSWORD": PASSWORD},
    )


def test_check_pings_redis_as_run_would(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "auth", password=PASSWORD)
    server.start()
    url = f"redis://:${{REDIS_PASSWORD}}@127.0.0.1:{server.port}/0"
    try:
        done = run_check(tmp_path, url)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (
            f"redis: answers at redis://***@127.0.0.1:{server.port}/0 "
            "(keys under crisp:{urn:crisp-plugin:bot:1})"
        ) in done.stdout.splitlines()
        offline = run_check(tmp_path, url, "--offline")
        assert "redis: not checked (--offline)" in offline.stdout.splitlines()
    finally:
        server.stop()
    done = run_check(tmp_path, url)  # Redis gone
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f'redis: Redis cannot be reached at redis.url = "redis://***@127.0.0.1:{server.port}/0" '
        "(Connection refused): start it or fix redis.url"
    ]
    assert PASSWORD not in done.stdout + done.stderr
