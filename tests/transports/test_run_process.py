"""``python -m crisp_plugin run`` as a process: exit codes and shutdown, as an operator
sees them (a refused key, SIGTERM with handlers in flight, SIGINT)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import aiohttp
from transport_kit import eventually

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.signing import compact_json, sign

SECRET = "process-test-hook-secret"
ROOT = str(Path(__file__).resolve().parents[2])

SLOW_PLUGIN = """
import asyncio
import json
from pathlib import Path

from crisp_plugin import Plugin, on


class SlowBot(Plugin):
    @on("message:send")
    async def slow(self, event):
        await asyncio.sleep(1.0)
        with Path(self.settings["out"]).open("a") as f:
            f.write(event.session_id + "\\n")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(folder: Path, body: str) -> Path:
    (folder / "slow_bot.py").write_text(SLOW_PLUGIN)
    path = folder / "plugin.toml"
    path.write_text(textwrap.dedent(body))
    return path


async def run(config: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crisp_plugin",
        "run",
        str(config),
        cwd=config.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def assert_refused_in_one_line(config: Path) -> None:
    """``run`` with the wrong key "not-the-key": exit 1 within 15 s, one stderr line
    naming crisp.key, and the key itself nowhere in the output."""
    started = time.monotonic()
    proc = await run(config)
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 1
    assert time.monotonic() - started < 15
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "refused" in lines[0] and "crisp.key" in lines[0]
    assert "not-the-key" not in err.decode() + out.decode()


async def test_wrong_key_exits_1_with_one_line_within_15s(sandbox: Sandbox, tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        f"""
        [plugin]
        class = "slow_bot:SlowBot"
        [crisp]
        identifier = "{sandbox.identifier}"
        key = "not-the-key"
        api_url = "{sandbox.url}"
        [events]
        transport = "rtm"
        [log]
        level = "error"
        """,
    )
    await assert_refused_in_one_line(config)


async def test_relay_url_set_still_checks_the_key_first(sandbox: Sandbox, tmp_path: Path) -> None:
    """With ``rtm.url`` set (no REST discovery) the start-up token check refuses the key
    before the relay is even tried."""
    config = write_config(
        tmp_path,
        f"""
        [plugin]
        class = "slow_bot:SlowBot"
        [crisp]
        identifier = "{sandbox.identifier}"
        key = "not-the-key"
        api_url = "{sandbox.url}"
        [rtm]
        url = "{sandbox.relay_url}"
        [log]
        level = "error"
        """,
    )
    await assert_refused_in_one_line(config)
    assert sandbox.relay.refused == 0  # never got as far as the relay


async def test_wrong_key_with_webhooks_only_exits_1_within_15s(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path,
        f"""
        [plugin]
        class = "slow_bot:SlowBot"
        [crisp]
        identifier = "{sandbox.identifier}"
        key = "not-the-key"
        api_url = "{sandbox.url}"
        [events]
        transport = "webhooks"
        [webhooks]
        port = {free_port()}
        secret = "{SECRET}"
        [log]
        level = "error"
        """,
    )
    await assert_refused_in_one_line(config)


async def test_a_state_file_sqlite_cannot_open_exits_2_with_one_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("a text file, not a database " * 8)
    config = write_config(
        tmp_path,
        f"""
        [plugin]
        class = "slow_bot:SlowBot"
        [crisp]
        identifier = "{sandbox.identifier}"
        key = "{sandbox.key}"
        api_url = "{sandbox.url}"
        [events]
        transport = "webhooks"
        [webhooks]
        port = {free_port()}
        secret = "{SECRET}"
        [state]
        backend = "sqlite"
        path = "notes.txt"
        [log]
        level = "error"
        """,
    )
    proc = await run(config)
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    text = err.decode() + out.decode()
    assert proc.returncode == 2, text
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "state.path" in lines[0] and "notes.txt" in lines[0]


def hook(website_id: str, n: int) -> tuple[bytes, dict[str, str]]:
    data = {
        "website_id": website_id,
        "session_id": f"session_{n:08d}",
        "type": "text",
        "from": "user",
        "origin": "chat",
        "content": f"message {n}",
        "fingerprint": 10_000 + n,
        "timestamp": int(time.time() * 1000),
    }
    body = compact_json(
        {"website_id": website_id, "event": "message:send", "data": data, "timestamp": 1}
    )
    ts = str(int(time.time() * 1000))
    return body, {"X-Crisp-Request-Timestamp": ts, "X-Crisp-Signature": sign(SECRET, ts, body)}


async def wait_healthy(
    http: aiohttp.ClientSession, base: str, proc: asyncio.subprocess.Process
) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert proc.returncode is None, "the plugin process exited early"
        try:
            async with http.get(base + "/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the plugin never became healthy")


async def test_sigterm_with_200_slow_handlers_in_flight_completes_all_then_exits_0(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    port = free_port()
    out_file = tmp_path / "done.txt"
    config = write_config(
        tmp_path,
        f"""
        [plugin]
        class = "slow_bot:SlowBot"
        [crisp]
        identifier = "{sandbox.identifier}"
        key = "{sandbox.key}"
        api_url = "{sandbox.url}"
        [events]
        transport = "webhooks"
        [webhooks]
        port = {port}
        secret = "{SECRET}"
        [dispatch]
        concurrency = 200
        drain_timeout = 20
        [log]
        level = "warning"
        [settings]
        out = "{out_file}"
        """,
    )
    proc = await run(config)
    base = f"http://127.0.0.1:{port}"
    website = sandbox.websites[0]
    try:
        async with aiohttp.ClientSession() as http:
            await wait_healthy(http, base, proc)

            async def post(n: int) -> int:
                body, headers = hook(website, n)
                async with http.post(base + "/crisp/hooks", data=body, headers=headers) as r:
                    return r.status

            statuses = await asyncio.gather(*(post(n) for n in range(200)))
            assert statuses == [200] * 200
            async with http.get(base + "/healthz") as resp:
                assert (await resp.json())["in_flight"] == 200
        assert not out_file.exists()  # every handler is still sleeping
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    done = out_file.read_text().split()
    assert sorted(done) == [f"session_{n:08d}" for n in range(200)]


async def test_sigint_on_an_idle_plugin_exits_0_quickly(sandbox: Sandbox, tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        f"""
        [plugin]
        class = "slow_bot:SlowBot"
        [crisp]
        identifier = "{sandbox.identifier}"
        key = "{sandbox.key}"
        api_url = "{sandbox.url}"
        [events]
        transport = "rtm"
        [log]
        level = "warning"
        """,
    )
    proc = await run(config)
    try:
        await eventually(lambda: len(sandbox.relay.subscriptions) == 1, timeout=15)
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "Traceback" not in err.decode()
    await eventually(lambda: not sandbox.relay.subscriptions)


def test_sigterm_stops_run_when_its_output_pipe_is_closed(tmp_path: Path) -> None:
    """``run ... 2>&1 | head -1``: once ``head`` exits, every write fails with a broken
    pipe; SIGTERM must still stop the plugin cleanly."""
    port = free_port()
    config = write_config(
        tmp_path,
        f"""
        [plugin]
        class = "slow_bot:SlowBot"
        [events]
        transport = "both"
        [webhooks]
        port = {port}
        [sandbox]
        enabled = true
        port = 0
        [log]
        level = "info"
        """,
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(
        [sys.executable, "-m", "crisp_plugin", "run", str(config)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.strip()
        proc.stdout.close()  # what head does after its first line: start-up logs fail
        deadline = time.monotonic() + 20
        while True:  # it still starts and serves, though it cannot write a line
            assert proc.poll() is None, "run ended before the signal"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "never became healthy"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_a_failed_start_prints_nothing_misleading_before_its_one_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The web hook server is already listening when the relay refuses the token: the
    start is undone quietly (no "draining", no "plugin running"), and the last line is
    the one that says why."""
    sandbox.relay._key = "relay-refuses"  # REST accepts the token, the relay does not
    config = write_config(
        tmp_path,
        f"""
        [plugin]
        class = "slow_bot:SlowBot"
        [crisp]
        identifier = "{sandbox.identifier}"
        key = "{sandbox.key}"
        api_url = "{sandbox.url}"
        [events]
        transport = "both"
        [webhooks]
        port = {free_port()}
        secret = "{SECRET}"
        [log]
        level = "info"
        format = "json"
        """,
    )
    proc = await run(config)
    _out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 1
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert lines[-1].startswith("crisp_plugin: RtmUnauthorized: the RTM relay refused")
    logged = [json.loads(line)["event"] for line in lines[:-1]]
    assert "webhooks listening" in logged  # it did get that far
    assert not [e for e in logged if "drain" in e or e == "plugin running"], logged
