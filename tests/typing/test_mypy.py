"""The public API type-checks in a user's script under ``mypy --strict`` (the REST
client; a bot with routers, flows, middleware and typed settings), and a script misusing
it is rejected on each marked line (so the signatures are real types, not ``Any``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def mypy_strict(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_user_script_passes_mypy_strict() -> None:
    result = mypy_strict(HERE / "user_script.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_a_script_misusing_the_client_fails_mypy_strict_on_each_mistake() -> None:
    script = HERE / "user_script_wrong.py"
    wrong = {
        number
        for number, line in enumerate(script.read_text().splitlines(), start=1)
        if line.endswith("# wrong")
    }
    assert len(wrong) == 4
    result = mypy_strict(script)
    assert result.returncode == 1, result.stdout + result.stderr
    flagged = {
        int(m.group(1))
        for m in re.finditer(rf"{re.escape(script.name)}:(\d+): error:", result.stdout)
    }
    assert flagged == wrong, result.stdout
    assert 'incompatible type "int"; expected "str"' in result.stdout


def test_a_bot_with_routers_flows_middleware_and_typed_settings_passes_mypy_strict() -> None:
    result = mypy_strict(HERE / "plugin_script.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_a_bot_misusing_replies_steps_and_settings_fails_on_each_mistake() -> None:
    script = HERE / "plugin_script_wrong.py"
    wrong = {
        number
        for number, line in enumerate(script.read_text().splitlines(), start=1)
        if line.endswith("# wrong")
    }
    assert len(wrong) == 6
    result = mypy_strict(script)
    assert result.returncode == 1, result.stdout + result.stderr
    flagged = {
        int(m.group(1))
        for m in re.finditer(rf"{re.escape(script.name)}:(\d+): error:", result.stdout)
    }
    assert flagged == wrong, result.stdout


def test_the_triage_example_passes_mypy_strict() -> None:
    folder = ROOT / "examples" / "triage"
    # The checkout on MYPYPATH: an editable install is invisible to mypy (its import hook)
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "triage"],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
