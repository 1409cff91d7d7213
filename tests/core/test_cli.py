"""python -m crisp_plugin: check, events, init, run, --help; exit codes 0, 2 (config), 1."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from core_helpers import cli_env, run_cli

from crisp_plugin.sandbox import Sandbox

BOT = """
from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend


class Bot(Plugin):
    @on("message:send", text="(?i)hello")
    async def greet(self, event: MessageSend) -> None:
        await self.rest.send_message(event.website_id, event.session_id, "Hi!")

    @on("session:*")
    async def sessions(self, event) -> None:
        pass


class NotAPlugin:
    pass
"""

GOOD = """
[plugin]
class = "bot:Bot"

[crisp]
identifier = "${CRISP_IDENTIFIER:-}"
key = "${CRISP_KEY:-}"
"""


def project(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "bot.py").write_text(BOT)
    path = tmp_path / "plugin.toml"
    path.write_text(toml)
    return path


def assert_config_error(result: object, *expected: str) -> None:
    code, out, err = result.returncode, result.stdout, result.stderr  # type: ignore[attr-defined]
    assert code == 2, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = [line.strip() for line in err.splitlines()[1:]]
    assert lines == list(expected)


async def run_until_running(path: Path, env: dict[str, str] | None = None) -> tuple[str, str]:
    """``run CONFIG`` until it logs "plugin running", then SIGTERM; its stdout and stderr.
    Fails with what it printed if it exits before, or does not exit 0 on SIGTERM."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crisp_plugin",
        "run",
        str(path),
        cwd=path.parent,
        env=env or cli_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not seen or "plugin running" not in seen[-1]:
                line = (await proc.stderr.readline()).decode()
                assert line, f"run exited {await proc.wait()}: {''.join(seen)}"
                seen.append(line)
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, "".join(seen)
    return out.decode(), "".join(seen) + err.decode()


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        pytest.param(
            GOOD,
            {"CRISP_IDENTIFIER": "ident"},
            ["crisp.key is empty: set CRISP_KEY or write it in plugin.toml"],
            id="missing-key",
        ),
        pytest.param(
            GOOD + '[dispatch]\nconcurrency = "lots"\n',
            {"CRISP_IDENTIFIER": "i", "CRISP_KEY": "k"},
            ['dispatch.concurrency = "lots" is not an integer: fix the value\'s type'],
            id="wrong-type",
        ),
        pytest.param(
            GOOD + '[events]\ntransport = "websocket"\n',
            {"CRISP_IDENTIFIER": "i", "CRISP_KEY": "k"},
            ['events.transport = "websocket" is not one of rtm, webhooks, both'],
            id="unknown-transport",
        ),
        pytest.param(
            GOOD.replace("${CRISP_KEY:-}", "${CRISP_KEY}"),
            {"CRISP_IDENTIFIER": "i"},
            [
                "crisp.key: environment variable CRISP_KEY is not set: export it or give a "
                "default as ${CRISP_KEY:-...}"
            ],
            id="unset-env",
        ),
        pytest.param(
            GOOD.replace("bot:Bot", "bott:Bot"),
            {"CRISP_IDENTIFIER": "i", "CRISP_KEY": "k"},
            [
                'plugin.class = "bott:Bot": no module named bott: check the name, or run '
                "from the folder that holds it"
            ],
            id="bad-module",
        ),
        pytest.param(
            GOOD.replace("bot:Bot", "bot:Bott"),
            {"CRISP_IDENTIFIER": "i", "CRISP_KEY": "k"},
            ['plugin.class = "bot:Bott": module bot has no Bott: check the name'],
            id="bad-class",
        ),
        pytest.param(
            GOOD.replace("bot:Bot", "bot:NotAPlugin"),
            {"CRISP_IDENTIFIER": "i", "CRISP_KEY": "k"},
            [
                'plugin.class = "bot:NotAPlugin": NotAPlugin is not a subclass of '
                "crisp_plugin.Plugin"
            ],
            id="not-a-plugin",
        ),
    ],
)
async def test_check_reports_broken_files_one_line_each(
    tmp_path: Path, toml: str, env: dict[str, str], expected: list[str]
) -> None:
    path = project(tmp_path, toml)
    result = await run_cli("check", str(path), "--offline", cwd=tmp_path, env={**cli_env(), **env})
    assert_config_error(result, *expected)
    assert result.stderr.splitlines()[0] == f"{path}: {len(expected)} problem" + (
        "s" if len(expected) > 1 else ""
    )


async def test_check_lists_several_problems_at_once(tmp_path: Path) -> None:
    path = project(tmp_path, '[plugin]\nclass = "bot:Bot"\n[events]\ntransport = "ws"\n')
    result = await run_cli("check", str(path), cwd=tmp_path)
    assert_config_error(
        result,
        'events.transport = "ws" is not one of rtm, webhooks, both',
        "crisp.identifier is missing: set CRISP_IDENTIFIER or write it in plugin.toml",
        "crisp.key is missing: set CRISP_KEY or write it in plugin.toml",
    )


async def test_check_lists_handlers_and_events(tmp_path: Path) -> None:
    path = project(tmp_path, GOOD + "[sandbox]\nenabled = true\n")
    result = await run_cli("check", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{path}: valid" in out
    assert "Bot.greet  on message:send  text=/(?i)hello/" in out
    assert "Bot.sessions  on session:*" in out
    events_line = next(line for line in out.splitlines() if line.startswith("events ("))
    assert events_line.startswith("events (plugin tier, 33): session:update_availability,")
    assert events_line.endswith(", message:send")
    assert "token: not checked (the embedded sandbox provides it)" in out


async def test_check_tests_the_token_against_the_api(tmp_path: Path) -> None:
    async with Sandbox(port=0) as sandbox:
        toml = GOOD + f'api_url = "{sandbox.url}"\n'
        path = project(tmp_path, toml)
        good = {**cli_env(), "CRISP_IDENTIFIER": sandbox.identifier, "CRISP_KEY": sandbox.key}
        result = await run_cli("check", str(path), cwd=tmp_path, env=good)
        assert result.returncode == 0, result.stderr
        assert f"token: valid ({sandbox.url})" in result.stdout

        bad = {**good, "CRISP_KEY": "not-the-key"}
        result = await run_cli("check", str(path), cwd=tmp_path, env=bad)
        assert result.returncode == 2
        assert "refused the token" in result.stderr and "not-the-key" not in result.stderr
        assert "Traceback" not in result.stderr

        offline = await run_cli("check", str(path), "--offline", cwd=tmp_path, env=bad)
        assert offline.returncode == 0 and "token: not checked (--offline)" in offline.stdout


async def test_check_an_unreachable_api_is_a_runtime_failure(tmp_path: Path) -> None:
    path = project(
        tmp_path, GOOD + 'api_url = "http://127.0.0.1:9"\ntimeout = 2\nmax_retries = 0\n'
    )
    env = {**cli_env(), "CRISP_IDENTIFIER": "i", "CRISP_KEY": "k"}
    result = await run_cli("check", str(path), cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "could not reach http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


async def test_events_prints_the_catalogue() -> None:
    result = await run_cli("events")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[-1] == "82 events"
    assert any(line.split() == ["message:send", "message", "MessageSend"] for line in lines)
    assert any(line.split() == ["spam:message", "spam", "GenericEvent"] for line in lines)
    plugin_tier = await run_cli("events", "--tier", "plugin", "--group", "message")
    assert plugin_tier.stdout.splitlines()[-1] == "13 events"
    bad = await run_cli("events", "--group", "nope")
    assert bad.returncode == 2


@pytest.mark.parametrize("command", [[], ["run"], ["check"], ["events"], ["init"]])
async def test_help_everywhere(command: list[str]) -> None:
    result = await run_cli(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m crisp_plugin")


async def test_init_creates_a_plugin_whose_test_passes(tmp_path: Path) -> None:
    result = await run_cli("init", "echo-bot", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "echo-bot"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".gitignore",
        "conftest.py",
        "echo_bot.py",
        "plugin.toml",
        "pytest.ini",
        "test_echo_bot.py",
    ]
    check = await run_cli("check", "plugin.toml", cwd=folder)
    assert check.returncode == 0, check.stderr
    assert "EchoBot.greet  on message:send" in check.stdout

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        cwd=folder,
        env=cli_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    assert "2 passed" in out.decode()

    again = await run_cli("init", "echo-bot", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr


async def test_run_refuses_a_broken_file_with_exit_2(tmp_path: Path) -> None:
    path = project(tmp_path, GOOD.replace("bot:Bot", "bot:Nope"))
    result = await run_cli("run", str(path), cwd=tmp_path)
    assert_config_error(
        result,
        "crisp.identifier is empty: set CRISP_IDENTIFIER or write it in plugin.toml",
        "crisp.key is empty: set CRISP_KEY or write it in plugin.toml",
        'plugin.class = "bot:Nope": module bot has no Nope: check the name',
    )


async def test_run_starts_on_the_sandbox_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    path = project(
        tmp_path,
        GOOD + '[sandbox]\nenabled = true\nport = 0\nchat_page = false\n[log]\nformat = "json"\n',
    )
    _, err = await run_until_running(path)
    assert '"event": "plugin stopped"' in err
    assert "Traceback" not in err


async def test_check_reports_a_misdeclared_handler_as_a_config_problem(tmp_path: Path) -> None:
    path = project(tmp_path, GOOD + "[sandbox]\nenabled = true\n")
    (tmp_path / "bot.py").write_text(BOT.replace('"message:send"', '"message:sned"'))
    result = await run_cli("check", str(path), cwd=tmp_path)
    assert_config_error(
        result,
        'plugin.class = "bot:Bot": importing bot failed: HandlerError: '
        "'message:sned' is not a Crisp event: did you mean 'message:send'?",
    )


async def test_check_names_state_path_when_sqlite_cannot_open_it(tmp_path: Path) -> None:
    env = {**cli_env(), "CRISP_IDENTIFIER": "i", "CRISP_KEY": "k"}
    sqlite = '[state]\nbackend = "sqlite"\npath = "nowhere/state.sqlite3"\n'
    path = project(tmp_path, GOOD + sqlite)
    result = await run_cli("check", str(path), "--offline", cwd=tmp_path, env=env)
    assert_config_error(
        result,
        f'state.path = "{tmp_path / "nowhere" / "state.sqlite3"}": folder '
        f"{tmp_path / 'nowhere'} does not exist: create it or change the path",
    )
    (tmp_path / "junk.sqlite3").write_bytes(b"this is not a database, " * 100)
    path = project(tmp_path, GOOD + sqlite.replace("nowhere/state.sqlite3", "junk.sqlite3"))
    result = await run_cli("check", str(path), "--offline", cwd=tmp_path, env=env)
    assert_config_error(
        result, f'state.path = "{tmp_path / "junk.sqlite3"}": SQLite says file is not a database'
    )


async def test_check_finds_a_relative_state_path_from_another_folder(tmp_path: Path) -> None:
    env = {**cli_env(), "CRISP_IDENTIFIER": "i", "CRISP_KEY": "k"}
    (tmp_path / "data").mkdir()
    path = project(tmp_path, GOOD + '[state]\nbackend = "sqlite"\npath = "data/s.sqlite3"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = await run_cli("check", str(path), "--offline", cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "s.sqlite3").exists()
    assert not (elsewhere / "data").exists()


HOOKS = GOOD + '[events]\ntransport = "webhooks"\n'
CREDENTIALS = {"CRISP_IDENTIFIER": "i", "CRISP_KEY": "k" * 32}


@pytest.mark.parametrize(
    ("toml", "last_line"),
    [
        pytest.param(
            GOOD + '[sandbox]\nenabled = "${SANDBOX:-true}"\n',
            "token: not checked (the embedded sandbox provides it)",
            id="sandbox-enabled",
        ),
        pytest.param(
            HOOKS + '[webhooks]\nunsigned = "${UNSIGNED:-true}"\n',
            "token: not checked (--offline)",
            id="webhooks-unsigned",
        ),
        pytest.param(
            HOOKS + '[webhooks]\nsecret = "s"\nport = "${HOOK_PORT:-0}"\n'
            '[metrics]\nenabled = true\nport = "${METRICS_PORT:-0}"\n',
            "token: not checked (--offline)",
            id="both-ports-free",
        ),
    ],
)
async def test_check_reads_strings_from_env_defaults_as_their_validated_values(
    tmp_path: Path, toml: str, last_line: str
) -> None:
    path = project(tmp_path, toml)
    env = {**cli_env(), **({} if "SANDBOX" in toml else CREDENTIALS)}
    result = await run_cli("check", str(path), "--offline", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"{path}: valid"
    assert result.stdout.splitlines()[-1] == last_line


async def test_check_finds_a_metrics_port_clash_written_as_strings(tmp_path: Path) -> None:
    path = project(
        tmp_path,
        HOOKS + '[webhooks]\nsecret = "${CRISP_HOOK_SECRET:-hook-secret-value}"\n'
        'port = "${HOOK_PORT:-8080}"\n[metrics]\nenabled = "${METRICS:-true}"\nport = "8080"\n',
    )
    result = await run_cli("check", str(path), "--offline", env={**cli_env(), **CREDENTIALS})
    assert_config_error(
        result,
        "metrics.port = 8080 is the web hook port: the hook server already serves "
        "/healthz and /metrics; choose another port or leave metrics.enabled off",
    )
    assert "hook-secret-value" not in result.stderr and "k" * 32 not in result.stderr


async def test_run_starts_the_sandbox_enabled_by_an_env_default(tmp_path: Path) -> None:
    path = project(
        tmp_path,
        GOOD + '[sandbox]\nenabled = "${SANDBOX:-true}"\nport = "${SANDBOX_PORT:-0}"\n'
        'chat_page = false\n[log]\nformat = "json"\n',
    )
    _, err = await run_until_running(path)
    assert err.startswith("Sandbox: Crisp API and RTM relay at http://127.0.0.1:")


async def test_run_accepts_plain_http_to_any_loopback_address_as_check_does(
    tmp_path: Path,
) -> None:
    """127.0.0.2 is loopback: ``check --offline`` and ``run`` agree on it."""
    async with Sandbox(host="127.0.0.2", port=0) as sandbox:
        assert sandbox.url.startswith("http://127.0.0.2:")
        path = project(tmp_path, GOOD + f'api_url = "{sandbox.url}"\n[log]\nformat = "json"\n')
        env = {**cli_env(), "CRISP_IDENTIFIER": sandbox.identifier, "CRISP_KEY": sandbox.key}
        check = await run_cli("check", str(path), "--offline", env=env)
        assert check.returncode == 0, check.stderr
        out, err = await run_until_running(path, env)
        assert f'"urls": ["{sandbox.relay_url}' in err
        assert sandbox.key not in out + err


@pytest.mark.parametrize("command", ["check", "run"])
async def test_a_plugin_toml_that_is_not_utf8_is_one_problem_line(
    tmp_path: Path, command: str
) -> None:
    path = project(tmp_path, "")
    path.write_bytes('[plugin]\nclass = "bot:Bot"\nname = "Café"\n'.encode("latin-1"))
    result = await run_cli(command, str(path), cwd=tmp_path)
    assert_config_error(
        result,
        f"{path}: not UTF-8 text (byte 0xe9 on line 3): save the file as UTF-8",
    )


EXITING_BOT = BOT + "\nimport sys\n\n{exit}\n"


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize(
    ("exit_call", "shown"),
    [
        ("sys.exit(0)", "SystemExit(0)"),
        ("sys.exit(3)", "SystemExit(3)"),
        ("raise SystemExit('bye')", "SystemExit('bye')"),
        ("sys.exit()", "SystemExit()"),
    ],
)
async def test_a_plugin_module_that_exits_at_import_is_a_config_problem(
    tmp_path: Path, command: str, exit_call: str, shown: str
) -> None:
    path = project(tmp_path, GOOD + "[sandbox]\nenabled = true\nport = 0\n")
    (tmp_path / "bot.py").write_text(EXITING_BOT.format(exit=exit_call))
    result = await run_cli(command, str(path), cwd=tmp_path)
    assert_config_error(
        result,
        f'plugin.class = "bot:Bot": importing bot raised {shown}: a plugin module must '
        'not exit when imported (put that code under if __name__ == "__main__":)',
    )


async def test_a_module_exiting_is_reported_with_the_files_other_problems(tmp_path: Path) -> None:
    path = project(tmp_path, GOOD)
    (tmp_path / "bot.py").write_text(EXITING_BOT.format(exit="sys.exit(1)"))
    result = await run_cli("check", str(path), cwd=tmp_path)
    assert_config_error(
        result,
        "crisp.identifier is empty: set CRISP_IDENTIFIER or write it in plugin.toml",
        "crisp.key is empty: set CRISP_KEY or write it in plugin.toml",
        'plugin.class = "bot:Bot": importing bot raised SystemExit(1): a plugin module must '
        'not exit when imported (put that code under if __name__ == "__main__":)',
    )


async def test_events_suggests_the_group_a_typo_meant() -> None:
    result = await run_cli("events", "--group", "mesage")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "events: --group 'mesage' is not a group: did you mean 'message'? (groups: browsing, "
        "bucket, call, campaign, email, identity, media, message, people, plan, plugin, "
        "session, spam, status, website, widget)"
    ]
    upper = await run_cli("events", "--group", "Message")
    assert upper.returncode == 2
    assert "did you mean 'message'?" in upper.stderr


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (
            'z"""',
            "init: 'z\"\"\"' holds '\"', which a plugin name cannot: use letters, digits, "
            "spaces, '-', '_' or '.', e.g. 'echo-bot'",
        ),
        (
            "a\\b",
            "init: 'a\\\\b' holds '\\\\', which a plugin name cannot: use letters, digits, "
            "spaces, '-', '_' or '.', e.g. 'echo-bot'",
        ),
        (
            "bots/echo",
            "init: 'bots/echo' is a path, not a name: give the folder with --directory, "
            "e.g. init echo --directory bots/echo",
        ),
        ("é", "init: 'é' has no ASCII letter or digit to name a module by: use e.g. 'echo-bot'"),
        ("--", "init: '--' has no ASCII letter or digit to name a module by: use e.g. 'echo-bot'"),
    ],
)
async def test_init_refuses_a_name_it_cannot_make_a_plugin_of(
    tmp_path: Path, name: str, line: str
) -> None:
    result = await run_cli("init", "--", name, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [line]
    assert os.listdir(tmp_path) == []


async def test_init_quotes_a_folder_with_a_space_in_its_next_step(tmp_path: Path) -> None:
    result = await run_cli("init", "my bot", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "next: cd 'my bot' && python -m crisp_plugin run plugin.toml" in result.stdout
    check = await run_cli("check", "plugin.toml", cwd=tmp_path / "my bot")
    assert check.returncode == 0, check.stderr
    assert "MyBot.greet  on message:send" in check.stdout


async def run_script(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """``crisp-plugin ARGS`` as its console script runs it: ``script_main`` with these
    arguments in ``sys.argv`` (the installed command itself is run from the built wheel,
    tests/packaging)."""
    code = "import sys; from crisp_plugin.cli import script_main; sys.exit(script_main())"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, *args,
        cwd=str(cwd) if cwd else None, env=cli_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _as_script(text: str) -> str:
    """The module's output as the script's: its name swapped, argparse's wrapping undone."""
    return " ".join(text.replace("python -m crisp_plugin", "crisp-plugin").split())


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        [],
        ["run", "--help"],
        ["check", "--help"],
        ["init", "--help"],
        ["sandbox", "--help"],
        ["run", "missing.toml"],
        ["events", "--group", "nope"],
        ["nope"],
    ],
)
async def test_the_console_script_is_the_module_under_its_own_name(
    tmp_path: Path, args: list[str]
) -> None:
    module = await run_cli(*args, cwd=tmp_path)
    code, out, err = await run_script(*args, cwd=tmp_path)
    assert code == module.returncode
    assert _as_script(out) == _as_script(module.stdout)
    assert _as_script(err) == _as_script(module.stderr)
    if args == ["--help"]:
        assert out.startswith("usage: crisp-plugin ")
    if args == ["--version"]:
        from crisp_plugin import __version__

        assert out == f"crisp-plugin {__version__}\n"


async def test_init_through_the_console_script_names_it_in_the_next_step(tmp_path: Path) -> None:
    code, out, err = await run_script("init", "echo-bot", cwd=tmp_path)
    assert code == 0, err
    assert "next: cd echo-bot && crisp-plugin run plugin.toml" in out
