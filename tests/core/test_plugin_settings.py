"""Typed plugin settings: ``[settings]`` validated against the plugin's model at check
and run, one line per problem, unknown keys refused with a "did you mean"."""

from __future__ import annotations

import textwrap
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from core_helpers import run_cli
from pydantic import BaseModel, ConfigDict, Field

from crisp_plugin import Config, ConfigError, Plugin


class Answer(BaseModel):
    match: str
    answer: str


class FaqSettings(BaseModel):
    timezone: str = "UTC"
    open: time = time(9)
    misses_before_handoff: int = Field(default=2, ge=1)
    answers: list[Answer] = Field(default_factory=list)


class Faq(Plugin[FaqSettings]):
    pass


class Nested(Plugin):
    class Settings(BaseModel):
        greeting: str = "Hi"


class Free(Plugin):
    pass


def config(**settings: Any) -> Config:
    return Config.model_validate({"settings": settings})


def test_settings_are_the_declared_model_with_its_defaults_and_types() -> None:
    plugin = Faq(config(open="08:30", answers=[{"match": "price", "answer": "25 EUR"}]))
    assert isinstance(plugin.settings, FaqSettings)
    assert plugin.settings.open == time(8, 30)
    assert plugin.settings.timezone == "UTC"
    assert plugin.settings.answers[0].answer == "25 EUR"
    assert Nested(config()).settings.greeting == "Hi"  # a nested class Settings works too
    assert Free(config(anything=1)).settings == {"anything": 1}  # no model: a dict


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        ({"timezon": "UTC"}, "settings.timezon is not a known key: did you mean timezone?"),
        ({"open": "nine"}, 'settings.open = "nine" is not time: fix the value\'s type'),
        ({"misses_before_handoff": 0}, "settings.misses_before_handoff = 0 must be at least 1"),
        (
            {"answers": [{"match": "x", "anser": "y"}]},
            "settings.answers[0].anser is not a known key: did you mean answer?",
        ),
        ({"answers": [{"match": "x"}]}, "settings.answers[0].answer is missing"),
    ],
)
def test_each_problem_is_one_line_naming_the_key(settings: dict[str, Any], line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Faq(config(**settings))
    assert any(p.startswith(line) for p in caught.value.problems), caught.value.problems


def test_a_model_that_allows_extra_keys_keeps_them() -> None:
    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")
        known: int = 1

    class Bot(Plugin[Open]):
        pass

    assert Bot(config(other="x")).settings.model_extra == {"other": "x"}


BOT = textwrap.dedent(
    """
    from pydantic import BaseModel
    from crisp_plugin import Plugin, on

    class HoursSettings(BaseModel):
        timezone: str = "UTC"
        close: str = "18:00"

    class Hours(Plugin[HoursSettings]):
        @on("message:send")
        async def answer(self, event) -> None: ...
    """
)


def project(tmp_path: Path, settings: str) -> Path:
    (tmp_path / "hours.py").write_text(BOT)
    path = tmp_path / "plugin.toml"
    path.write_text(
        '[plugin]\nclass = "hours:Hours"\n[sandbox]\nenabled = true\nport = 0\n'
        f"[settings]\n{settings}\n"
    )
    return path


@pytest.mark.parametrize("command", ["check", "run"])
async def test_check_and_run_refuse_a_typo_in_settings_with_exit_2(
    tmp_path: Path, command: str
) -> None:
    path = project(tmp_path, 'timezone = "Europe/Paris"\nclsoe = "17:00"')
    result = await run_cli(command, str(path), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"{path}: 1 problem",  # the same report from check and from run
        "  settings.clsoe is not a known key: did you mean close?",
    ]
    assert result.stdout == ""  # nothing started first (no sandbox address printed)


async def test_check_accepts_settings_that_fit(tmp_path: Path) -> None:
    path = project(tmp_path, 'timezone = "Europe/Paris"')
    result = await run_cli("check", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
