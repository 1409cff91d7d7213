"""``[runtime] event_loop``: ``run`` starts the loop it names (auto: uvloop when installed,
else asyncio's), a plugin answers on each, and asking for uvloop where it is not
installed is one configuration line naming the extra. A runner embedded in someone
else's loop keeps that loop.

The plugin processes here are real ``python -m crisp_plugin run`` processes on the
embedded sandbox (its own free port), driven over HTTP through the control API; the
bot answers with the module of the loop it runs on, so the answer proves the loop.
uvloop is in the dev extra: where it is missing these tests fail, they do not skip.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest
from transport_kit import Recorder, settings_for

from crisp_plugin.event_loop import loop_factory, loop_name, loop_problem, uvloop_available
from crisp_plugin.sandbox import Sandbox, SandboxControl
from crisp_plugin.serve import serve

ROOT = Path(__file__).resolve().parents[2]

BOT = """\
import asyncio

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend


class LoopBot(Plugin):
    @on("message:send", text="(?i)hello")
    async def greet(self, event: MessageSend) -> None:
        await event.reply("on " + type(asyncio.get_running_loop()).__module__)
"""

TOML = """\
[plugin]
class = "loop_bot:LoopBot"

[events]
transport = "{transport}"

[webhooks]
port = 0

[sandbox]
enabled = true
port = 0

[runtime]
event_loop = "{loop}"
"""

NO_UVLOOP = "import sys; sys.modules['uvloop'] = None  # as if it were not installed\n"
MISSING = (
    'runtime.event_loop = "uvloop" needs uvloop, which is not installed: '
    "pip install 'crisp-plugin[uvloop]'"
)


def project(tmp_path: Path, loop: str, transport: str = "rtm") -> Path:
    (tmp_path / "loop_bot.py").write_text(BOT)
    path = tmp_path / "plugin.toml"
    path.write_text(TOML.format(loop=loop, transport=transport))
    return path


def cli_command(*args: str, hide_uvloop: bool = False) -> list[str]:
    """``python -m crisp_plugin ARGS``, or the same with uvloop made unimportable first."""
    if not hide_uvloop:
        return [sys.executable, "-m", "crisp_plugin", *args]
    code = NO_UVLOOP + "from crisp_plugin.cli import run_main; sys.exit(run_main())"
    return [sys.executable, "-c", code, *args]


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("CRISP_")}
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), out.get("PYTHONPATH")]))
    return out


async def read_until(stream: asyncio.StreamReader, pattern: str, within: float) -> str:
    seen = ""
    async with asyncio.timeout(within):
        while not (match := re.search(pattern, seen)):
            line = await stream.readline()
            if not line:
                raise AssertionError(f"the process ended before printing {pattern!r}:\n{seen}")
            seen += line.decode()
    return match.group(1)


async def answer_on(tmp_path: Path, loop: str, transport: str, hide_uvloop: bool = False) -> str:
    """Run the bot with ``event_loop = loop``, say hello, return its answer; the process
    must then stop on SIGTERM with exit 0."""
    path = project(tmp_path, loop, transport)
    proc = await asyncio.create_subprocess_exec(
        *cli_command("run", str(path), "--log-format", "console", hide_uvloop=hide_uvloop),
        cwd=tmp_path, env=env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        url = await read_until(proc.stdout, r"API and RTM relay at (http://127\.0\.0\.1:\d+)", 30)
        await read_until(proc.stdout, r"(plugin running)", 30)
        if transport == "webhooks":  # the sandbox knows the hook URL from this line on
            await read_until(proc.stdout, r"(registered with the sandbox)", 30)
        async with SandboxControl(url) as control:
            session = await control.create_conversation(None)
            await control.visitor_says(None, session, "hello")
            reply = await control.next_reply(None, session, timeout=10)
        assert reply is not None, "no answer from the bot"
        return str(reply["content"])
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0


@pytest.mark.parametrize(
    ("loop", "transport", "expected"),
    [
        ("asyncio", "rtm", "on asyncio."),
        ("asyncio", "webhooks", "on asyncio."),
        ("uvloop", "rtm", "on uvloop"),
        ("uvloop", "webhooks", "on uvloop"),
        ("auto", "rtm", "on uvloop"),  # uvloop is installed here (the dev extra)
    ],
)
async def test_a_plugin_runs_and_answers_on_each_loop(
    tmp_path: Path, loop: str, transport: str, expected: str
) -> None:
    assert uvloop_available(), "uvloop is part of the dev extra: pip install -e '.[dev]'"
    assert (await answer_on(tmp_path, loop, transport)).startswith(expected)


async def test_auto_without_uvloop_runs_on_the_stock_loop(tmp_path: Path) -> None:
    answer = await answer_on(tmp_path, "auto", "webhooks", hide_uvloop=True)
    assert answer.startswith("on asyncio.")


@pytest.mark.parametrize("command", ["check", "run"])
async def test_uvloop_asked_for_but_not_installed_is_one_config_line(
    tmp_path: Path, command: str
) -> None:
    path = project(tmp_path, "uvloop")
    proc = await asyncio.create_subprocess_exec(
        *cli_command(command, str(path), hide_uvloop=True),
        cwd=tmp_path, env=env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2, out.decode() + err.decode()
    assert err.decode().splitlines() == [f"{path}: 1 problem", f"  {MISSING}"]
    assert "Sandbox" not in out.decode()  # nothing started


async def test_an_unknown_loop_is_refused_with_the_choices(tmp_path: Path) -> None:
    path = project(tmp_path, "trio")
    proc = await asyncio.create_subprocess_exec(
        *cli_command("check", str(path)),
        cwd=tmp_path, env=env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert err.decode().splitlines() == [
        f"{path}: 1 problem",
        '  runtime.event_loop = "trio" is not one of auto, asyncio, uvloop',
    ]


def test_the_factory_for_each_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    uvloop_factory = loop_factory("uvloop")
    assert uvloop_factory is not None and loop_factory("auto") is uvloop_factory
    assert loop_factory("asyncio") is None
    made = uvloop_factory()
    try:
        assert loop_name(made) == "uvloop"
    finally:
        made.close()
    assert loop_problem("uvloop") is None
    monkeypatch.setitem(sys.modules, "uvloop", None)  # type: ignore[arg-type]
    assert not uvloop_available()
    assert loop_factory("auto") is None
    assert loop_problem("uvloop") == MISSING
    with pytest.raises(ValueError, match=re.escape(MISSING)):
        loop_factory("uvloop")


async def test_an_embedded_runner_keeps_the_loop_it_was_given() -> None:
    loop = asyncio.get_running_loop()
    assert loop_name(loop) == "asyncio"  # pytest-asyncio's stock loop
    async with Sandbox() as sandbox:
        settings = settings_for(sandbox, "rtm", runtime={"event_loop": "uvloop"})
        stop, ready = asyncio.Event(), asyncio.Event()
        running = asyncio.create_task(serve(settings, Recorder, stop=stop, ready=ready))
        await asyncio.wait_for(ready.wait(), 10)
        assert asyncio.get_running_loop() is loop
        stop.set()
        assert await asyncio.wait_for(running, 10) == 0
