"""Every command and every Python snippet the README shows is run here, the way a
reader would type or paste it.

The commands are read out of the README's code blocks; a command with no test below
fails ``test_every_readme_command_is_covered``, so the README cannot drift from what
works. Each Python block follows a ``<!-- snippet: NAME -->`` marker; it is imported as
a module (``snippet_module(NAME)``) and run against the sandbox by a test below, and a
block without a marker, or a snippet without a test, fails ``test_every_snippet_runs``.
``./scripts/test.sh`` is the command that runs this very file (CI calls it), and
``bash bench/run.sh`` is covered by tests/bench in its --quick form.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import types
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from crisp_plugin.sandbox import Sandbox, SandboxControl
from crisp_plugin.testing import NewVisitor, PluginRunner, Visitor, sandbox_visitor

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
    "python -m crisp_plugin init": "test_init_then_its_own_test_passes",
    "python -m crisp_plugin check plugin.toml": "test_check_on_the_quickstart_config",
    "python -m crisp_plugin check": "test_check_on_the_quickstart_config",
    "python -m crisp_plugin sandbox": "test_standalone_sandbox_prints_a_config",
    "python -m crisp_plugin sandbox --port 8787": "test_standalone_sandbox_prints_a_config",
    "python -m crisp_plugin schema CONFIG": "test_schema_and_widget_on_the_auto_responder",
    "python -m crisp_plugin widget CONFIG": "test_schema_and_widget_on_the_auto_responder",
    "python -m crisp_plugin schema plugin.toml": "test_schema_and_widget_on_the_auto_responder",
    "python -m crisp_plugin widget plugin.toml": "test_schema_and_widget_on_the_auto_responder",
    "bash bench/run.sh": "tests/bench/test_bench_smoke.py (--quick)",
    # the Install section: tests/packaging runs them from the wheel in a fresh venv
    "pip install 'crisp-plugin[testing]'": (
        "tests/packaging/test_wheel.py::"
        "test_the_installed_package_is_the_environments_own_with_only_testing"
    ),
    "crisp-plugin --version": (
        "tests/packaging/test_wheel.py::test_the_command_says_its_version_and_its_help"
    ),
    "crisp-plugin init mybot": (
        "tests/packaging/test_wheel.py::"
        "test_the_scaffold_passes_its_own_tests_with_the_environments_pytest"
    ),
    "python -m pytest": (
        "tests/packaging/test_wheel.py::"
        "test_the_scaffold_passes_its_own_tests_with_the_environments_pytest"
    ),
    "crisp-plugin run plugin.toml": (
        "tests/packaging/test_wheel.py::test_run_on_the_embedded_sandbox_answers_a_visitors_hello"
    ),
    "python -m bench.rtm_gap": "tests/bench/test_rtm_gap_smoke.py (one short gap)",
    "bash examples/several_instances/run.sh": (
        "examples/several_instances/test_several_instances.py::"
        "test_run_sh_starts_redis_the_sandbox_and_three_instances"
    ),
}


def _commands() -> list[str]:
    found: list[str] = []
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", README, re.S):
        if lang not in ("bash", ""):
            continue
        for line in body.splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith(("crisp_plugin/", "examples/", "tests/")):
                if re.match(r"(\./|\.venv/|python |bash |pip |crisp-plugin )", line):
                    found.append(re.split(r"\s{2,}", line)[0])
    found += re.findall(r"`(python -m crisp_plugin [^`]+|bash bench/run.sh)`", README)
    return found


def test_every_readme_command_is_covered() -> None:
    commands = _commands()
    assert "./scripts/demo.sh" in commands and "./scripts/test.sh" in commands
    missing = sorted({c for c in commands if c not in COVERED})
    assert not missing, f"README commands with no test: {missing}"


SNIPPETS = dict(re.findall(r"<!-- snippet: (\w+) -->\n```python\n(.*?)```", README, re.S))

SNIPPET_TESTS = {
    "greeter": "test_the_ten_line_bot_is_the_greeter_example",
    "actions": "test_snippet_actions",
    "routers": "test_snippet_routers",
    "flows": "test_snippet_flows",
    "middleware": "test_snippet_middleware",
    "settings": "test_snippet_settings",
    "embedding": "tests/transports/test_embedding.py",
    "marketplace": "test_snippet_marketplace",
    "rest": "test_snippet_rest",
    "testing": "test_snippet_testing",
}


def snippet_module(name: str) -> types.ModuleType:
    """The README's snippet ``name``, imported as a module ``readme_<name>``."""
    module_name = f"readme_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    module = types.ModuleType(module_name)
    module.__file__ = str(ROOT / "README.md")
    sys.modules[module_name] = module  # "module:Class" paths resolve, as for a file
    exec(compile(SNIPPETS[name], f"README.md <snippet {name}>", "exec"), module.__dict__)
    return module


def test_every_snippet_runs() -> None:
    blocks = re.findall(r"```python\n", README)
    assert len(blocks) == len(SNIPPETS), "a ```python block without a snippet marker"
    assert set(SNIPPETS) == set(SNIPPET_TESTS)
    for name, where in SNIPPET_TESTS.items():
        assert where in globals() or (ROOT / where).is_file(), (name, where)
        snippet_module(name)  # every one at least imports


async def test_snippet_actions(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(snippet_module("actions").Helpdesk):
        await visitor.say("help please")
        await visitor.expect_reply(match="About?")
        await visitor.choose("An order")
        await visitor.answer_field("1234")
        await visitor.expect_reply(match="Looking at order 1234 now.")
        conversation = await visitor.conversation()
        assert conversation["meta"]["subject"] == "Order 1234"
        assert [m.text for m in await visitor.transcript() if m.type == "note"] == [
            "Asked about order 1234"
        ]
        await visitor.say("help again")
        await visitor.choose("A human")
        await visitor.expect_reply(match="A human will answer here.")


async def test_snippet_routers(run_plugin: PluginRunner, visitor: Visitor) -> None:
    bot = snippet_module("routers").Bot
    async with run_plugin(bot, settings={"invoices_url": "https://example.com/invoices"}):
        await visitor.say("where is my invoice?")
        await visitor.expect_reply(match="in https://example.com/invoices")


async def test_snippet_flows(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(snippet_module("flows").Signup):
        await visitor.say("I want to sign up")
        await visitor.expect_reply(match="Your e-mail?")
        await visitor.say("ada@example.com")
        await visitor.expect_reply(match="Send the link to ada@example.com")
        await visitor.say("yes")
        await visitor.expect_reply(match="Sent to ada@example.com.")
        await visitor.say("yes")
        await visitor.expect_no_reply()  # the flow is over


async def test_snippet_middleware(
    run_plugin: PluginRunner, new_visitor: NewVisitor, sandbox: Sandbox
) -> None:
    module = snippet_module("middleware")
    blocked = await sandbox.control.add_website(website_id="blocked-website-id")
    async with run_plugin(module.Bot, transport="webhooks"):
        allowed, other = await new_visitor(), await new_visitor(blocked)
        await other.say("hi")
        await allowed.say("hi")
        await allowed.expect_reply(match="Hello from a guarded router.")
        await other.expect_no_reply()  # dropped by the outer middleware


async def test_snippet_settings(run_plugin: PluginRunner, visitor: Visitor) -> None:
    hours = snippet_module("settings").Hours
    async with run_plugin(hours, settings={"close": "00:00", "message": "Closed!"}):
        await visitor.say("anyone?")  # every time of day is past midnight
        await visitor.expect_reply(match="Closed!")
    late = datetime.now(ZoneInfo("UTC")).replace(hour=23, minute=59).time()
    async with run_plugin(hours, settings={"close": late.isoformat()}):
        if datetime.now(ZoneInfo("UTC")).time() < late:
            await visitor.say("still open?")
            await visitor.expect_no_reply()


async def test_snippet_marketplace(run_plugin: PluginRunner, sandbox: Sandbox) -> None:
    first = sandbox.websites[0]
    second = await sandbox.control.add_website()
    await sandbox.control.save_settings(first, {"welcome": "Welcome to the first!"})
    await sandbox.control.save_settings(second, {"enabled": False})
    async with run_plugin(snippet_module("marketplace").Welcome) as bot:
        one = await sandbox_visitor(sandbox, first, settle=run_plugin.settle)
        two = await sandbox_visitor(sandbox, second, settle=run_plugin.settle)
        await one.say("hi")
        await two.say("hi")
        await one.expect_reply(match="Welcome to the first!")
        await two.expect_no_reply()  # turned off on that website
        click = {
            "origin": {
                "website_id": first,
                "session_id": one.session_id,
                "token": sandbox.store.websites[first].token,
            },
            "widget": {"section_id": "main", "item_id": "resend"},
            "action": {"type": "button"},
            "payload": {"data": {}},
        }
        async with aiohttp.ClientSession() as http:
            async with http.post(run_plugin.action_url(bot), json=click) as resp:
                assert (resp.status, await resp.json()) == (200, {})
        assert [m.text for m in await one.replies()] == ["Welcome to the first!"] * 2


def test_schema_and_widget_on_the_auto_responder() -> None:
    config = "examples/auto_responder/plugin.toml"
    schema = _cli("schema", config)
    assert schema.returncode == 0, schema.stderr
    document = json.loads(schema.stdout)
    assert document["$id"].endswith("#urn:crisp-plugin-examples:auto-responder:1")
    assert document["properties"]["welcome"]["title"] == "Welcome message"
    assert "Settings URL: https://auto-responder.example.com/crisp/settings" in schema.stderr
    widget = _cli("widget", config)
    assert widget.returncode == 0, widget.stderr
    items = [i["id"] for section in json.loads(widget.stdout)["sections"] for i in section["items"]]
    assert items == ["send_canned", "status"]


async def test_snippet_rest(sandbox: Sandbox) -> None:
    website = sandbox.websites[0]
    session = await sandbox.control.create_conversation(website)
    main = snippet_module("rest").main
    await main(sandbox.identifier, sandbox.key, website, session, sandbox.url)
    transcript = await sandbox.control.transcript(website, session)
    assert [m["content"] for m in transcript] == ["Hello!"]


async def test_snippet_testing(run_plugin: PluginRunner, visitor: Visitor) -> None:
    await snippet_module("testing").test_greets_back(run_plugin, visitor)


def test_the_ten_line_bot_is_the_greeter_example() -> None:
    assert SNIPPETS["greeter"] in (ROOT / "examples/greeter/greeter.py").read_text()


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
