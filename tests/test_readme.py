"""Every command the README shows is run here, the way a reader would type it.

The commands are read out of the README's code blocks; a command with no test below
fails ``test_every_readme_command_is_covered``, so the README cannot drift from what
works. ``./scripts/test.sh`` is the command that runs this very file (CI calls it), and
``bash bench/run.sh`` is covered by tests/bench in its --quick form.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from crisp_plugin.sandbox import SandboxControl

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PY = sys.executable

COVERED = {
    "./scripts/demo.sh": "test_demo_script_serves_the_greeter",
    "./scripts/test.sh": "CI runs it (.ci/run), and it runs this file",
    ".venv/bin/python -m crisp_plugin run plugin.toml": "test_demo_script_serves_the_greeter",
    "python -m crisp_plugin run CONFIG": "test_cli_help_lines_run",
    "python -m crisp_plugin check CONFIG": "test_check_on_the_quickstart_config",
    "python -m crisp_plugin events": "test_events_lists_the_catalogue",
    "python -m crisp_plugin init NAME": "test_init_then_its_own_test_passes",
    "python -m crisp_plugin init mybot": "test_init_then_its_own_test_passes",
    "python -m crisp_plugin check plugin.toml": "test_check_on_the_quickstart_config",
    "python -m crisp_plugin sandbox": "test_standalone_sandbox_prints_a_config",
    "python -m crisp_plugin sandbox --port 8787": "test_standalone_sandbox_prints_a_config",
    "bash bench/run.sh": "tests/bench/test_bench_smoke.py (--quick)",
}


def _commands() -> list[str]:
    found: list[str] = []
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", README, re.S):
        if lang not in ("bash", ""):
            continue
        for line in body.splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith(("crisp_plugin/", "examples/", "tests/")):
                if re.match(r"(\./|\.venv/|python |bash )", line):
                    found.append(re.split(r"\s{2,}", line)[0])
    found += re.findall(r"`(python -m crisp_plugin [^`]+|bash bench/run.sh)`", README)
    return found


def test_every_readme_command_is_covered() -> None:
    commands = _commands()
    assert "./scripts/demo.sh" in commands and "./scripts/test.sh" in commands
    missing = sorted({c for c in commands if c not in COVERED})
    assert not missing, f"README commands with no test: {missing}"


def test_the_ten_line_bot_is_the_greeter_example() -> None:
    block = re.search(r"```python\n(from crisp_plugin import Plugin, on\n.*?)```", README, re.S)
    assert block is not None
    assert block.group(1) in (ROOT / "examples/greeter/greeter.py").read_text()


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "crisp_plugin", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )


def test_cli_help_lines_run() -> None:
    for command in ("run", "check", "events", "init", "sandbox"):
        done = _cli(command, "--help")
        assert done.returncode == 0, done.stderr
        assert "usage:" in done.stdout


def test_check_on_the_quickstart_config() -> None:
    done = _cli("check", "plugin.toml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Greeter.greet" in done.stdout and "message:send" in done.stdout


def test_events_lists_the_catalogue() -> None:
    done = _cli("events")
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.splitlines() if ":" in line.split()[0]]
    assert len(names) == 82 and "message:send" in names


def test_init_then_its_own_test_passes(tmp_path: Path) -> None:
    assert _cli("init", "mybot", cwd=tmp_path).returncode == 0
    done = subprocess.run(
        [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "mybot",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\b2 passed\b", done.stdout)


async def _read_until(stream: asyncio.StreamReader, pattern: str, within: float) -> str:
    seen = ""
    async with asyncio.timeout(within):
        while not (match := re.search(pattern, seen)):
            line = await stream.readline()
            if not line:
                raise AssertionError(f"the process ended before printing {pattern!r}:\n{seen}")
            seen += line.decode()
    return match.group(1)


async def test_standalone_sandbox_prints_a_config() -> None:
    proc = await asyncio.create_subprocess_exec(
        PY, "-m", "crisp_plugin", "sandbox", "--port", "0",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        url = await _read_until(proc.stdout, r'api_url = "(http://127\.0\.0\.1:\d+)"', 30)
        async with SandboxControl(url) as control:
            info = await control.info()
        assert info["websites"], info
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


async def test_demo_script_serves_the_greeter() -> None:
    proc = await asyncio.create_subprocess_exec(
        "bash", "scripts/demo.sh",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=dict(os.environ, CRISP_SANDBOX_PORT="0", PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        page = await _read_until(
            proc.stdout, r"chat as a visitor at (http://127\.0\.0\.1:\d+)/", 60
        )
        await _read_until(proc.stdout, r"(plugin running)", 30)
        async with SandboxControl(page) as control:
            session = await control.create_conversation(None)
            await control.visitor_says(None, session, "hello")
            reply = await control.next_reply(None, session, timeout=10)
        assert reply is not None and "How can I help" in reply["content"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
