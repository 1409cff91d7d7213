"""What ``python -m crisp_plugin check`` says of recovery after a relay gap
(``[rtm.backfill]``), and the settings' validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from core_helpers import cli_env, run_cli
from test_cli import GOOD, project

from crisp_plugin import Config
from crisp_plugin.backfill.setup import backfill_line, probe_backfill
from crisp_plugin.config import load_config
from crisp_plugin.errors import ConfigError
from crisp_plugin.rest import RestClient
from crisp_plugin.sandbox import Sandbox


def _config(**sections: dict[str, object]) -> Config:
    data: dict[str, object] = {
        "plugin": {"class": "bot:Bot"},
        "crisp": {"identifier": "id", "key": "key"},
        **sections,
    }
    return Config.model_validate(data)


def test_the_line_says_what_is_recovered_and_where_the_mark_is_kept() -> None:
    assert backfill_line(_config()) == (
        "rtm backfill: on, every installed website, no mark across restarts "
        "(state.backend = memory); up to 600 s back, 200 calls a gap, 1000 a day"
    )
    sqlite = _config(state={"backend": "sqlite"}, rtm={"rooms": ["w1", "w2"]})
    assert backfill_line(sqlite).startswith(
        "rtm backfill: on, rtm.rooms (2), the mark in the sqlite state store (restarts too)"
    )
    website_tier = _config(crisp={"identifier": "id", "key": "key", "tier": "website"})
    assert "the websites heard from (website tier" in backfill_line(website_tier)


def test_the_line_says_off_and_why() -> None:
    assert backfill_line(_config(events={"transport": "webhooks"})) == (
        "rtm backfill: off (no relay: events.transport = webhooks)"
    )
    off = _config(rtm={"backfill": {"enabled": False}})
    assert backfill_line(off).startswith("rtm backfill: off (rtm.backfill.enabled = false)")


def test_bad_backfill_settings_name_the_key(tmp_path: Path) -> None:
    path = project(tmp_path, GOOD + "[rtm.backfill]\nmax_calls_per_gap = 0\nmax_age = -1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = "\n".join(caught.value.problems)
    assert "rtm.backfill.max_calls_per_gap" in text and "rtm.backfill.max_age" in text


async def test_check_prints_the_line_and_probes_the_token(tmp_path: Path) -> None:
    async with Sandbox(port=0) as sandbox:
        path = project(tmp_path, GOOD + f'api_url = "{sandbox.url}"\n')
        env = {**cli_env(), "CRISP_IDENTIFIER": sandbox.identifier, "CRISP_KEY": sandbox.key}
        result = await run_cli("check", str(path), cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        assert "rtm backfill: on, every installed website" in result.stdout
        assert "off at run time" not in result.stdout  # the token can list conversations


async def test_the_probe_says_off_when_the_token_cannot_list_a_website() -> None:
    async with Sandbox(port=0) as sandbox:
        other = await sandbox.control.add_website(subscribed=False)
        settings = _config(
            crisp={"identifier": sandbox.identifier, "key": sandbox.key, "api_url": sandbox.url},
            rtm={"rooms": [other]},
        )
        async with RestClient.from_settings(settings) as rest:
            line = await probe_backfill(settings, rest)
    assert line is not None and line.startswith("rtm backfill: off at run time")
    assert "not_subscribed" in line


def test_a_recovery_reaching_past_the_dedupe_ttl_is_refused(tmp_path: Path) -> None:
    toml = GOOD + "[sandbox]\nenabled = true\n[rtm.backfill]\nmax_age = 900\n"
    toml += "[dispatch]\ndedupe_ttl = 600\n"
    with pytest.raises(ConfigError) as caught:
        load_config(project(tmp_path, toml))
    assert caught.value.problems == [
        "rtm.backfill.max_age = 900 is longer than dispatch.dedupe_ttl = 600: a recovery "
        "would read back messages whose dedupe keys have expired and handle them again; "
        "lower max_age or raise dedupe_ttl"
    ]
    fine = toml.replace("dedupe_ttl = 600", "dedupe_ttl = 900")
    assert load_config(project(tmp_path, fine)).rtm.backfill.max_age == 900
