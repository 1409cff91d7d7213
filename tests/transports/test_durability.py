"""Nothing acknowledged is lost: `crisp_plugin run` with the SQLite inbox, killed with
SIGKILL (or stopped with SIGTERM) while 2,000 hooks pour in, then started again.

The sandbox delivers every visitor message as a signed hook, and retries what is
refused or unanswered (the plugin down), as Crisp does. Each message gets a reply
naming it; afterwards every message must have one, and the only messages answered
twice are ones whose handler was running at the kill (their reply went out, their done
mark did not): at most `dispatch.concurrency`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from transport_kit import eventually

from crisp_plugin.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
CONVERSATIONS = 100
MESSAGES = 20  # per conversation: 2,000 hooks
CONCURRENCY = 50

BOT = """
import asyncio
from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend

class Replier(Plugin):
    @on("message:send")
    async def reply(self, event: MessageSend) -> None:
        await asyncio.sleep(0.02)
        await event.reply(f"re:{event.text}")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def project(folder: Path, sandbox: Sandbox, port: int) -> Path:
    (folder / "replier.py").write_text(BOT)
    config = folder / "plugin.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [plugin]
            class = "replier:Replier"
            urn = "urn:test:replier:1"
            [crisp]
            identifier = "{sandbox.identifier}"
            key = "{sandbox.key}"
            api_url = "{sandbox.url}"
            max_retries = 5
            [events]
            transport = "webhooks"
            [webhooks]
            port = {port}
            secret = "{sandbox.secret}"
            [inbox]
            backend = "sqlite"
            path = "inbox.sqlite3"
            [dispatch]
            concurrency = {CONCURRENCY}
            drain_timeout = 20
            [log]
            level = "warning"
            """
        )
    )
    return config


async def start(config: Path, port: int) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(config.parent)])}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crisp_plugin", "run", str(config),
        cwd=config.parent, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(30):  # until the hook port answers
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return proc
            except OSError:
                if proc.returncode is not None:
                    raise AssertionError("the plugin exited at start-up") from None
                await asyncio.sleep(0.05)


def replies(sandbox: Sandbox) -> dict[str, list[str]]:
    """Per conversation, the texts of the bot's replies in transcript order."""
    site = sandbox.store.websites[sandbox.websites[0]]
    return {
        session: [
            m["content"] for m in conv.messages if m["from"] == "operator" and m["type"] == "text"
        ]
        for session, conv in site.conversations.items()
    }


def all_answered(sandbox: Sandbox) -> bool:
    return all(len(set(texts)) == MESSAGES for texts in replies(sandbox).values())


async def pour(sandbox: Sandbox, sessions: list[str]) -> None:
    """Every visitor writes MESSAGES messages, m0..m19, one after the other."""

    async def visitor(session: str) -> None:
        for i in range(MESSAGES):
            await sandbox.control.visitor_says(None, session, f"m{i}")

    await asyncio.gather(*(visitor(s) for s in sessions))


@pytest.mark.parametrize("stop", ["kill", "term"])
async def test_a_stopped_plugin_loses_no_acknowledged_hook(tmp_path: Path, stop: str) -> None:
    retry = (0.2, 0.5, 1.0, 2.0, 3.0, 5.0)  # Crisp retries too; long enough for a restart
    async with Sandbox(port=0, hook_retry_delays=retry) as sandbox:
        port = free_port()
        config = project(tmp_path, sandbox, port)
        first = await start(config, port)
        await sandbox.control.add_hook(f"http://127.0.0.1:{port}/crisp/hooks")
        sessions = [await sandbox.control.create_conversation() for _ in range(CONVERSATIONS)]
        pouring = asyncio.ensure_future(pour(sandbox, sessions))
        total = CONVERSATIONS * MESSAGES
        await eventually(lambda: sum(map(len, replies(sandbox).values())) >= total // 3, timeout=60)
        first.send_signal(signal.SIGKILL if stop == "kill" else signal.SIGTERM)
        code = await asyncio.wait_for(first.wait(), 30)
        assert code == (-signal.SIGKILL if stop == "kill" else 0)
        second = await start(config, port)
        try:
            await pouring
            await eventually(
                lambda: all(len(set(r)) == MESSAGES for r in replies(sandbox).values()), timeout=90
            )
            await sandbox.wait_hooks(30)
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 30) == 0
    answered = replies(sandbox)
    twice = 0
    for session, texts in answered.items():
        counts = Counter(texts)
        assert set(counts) == {f"re:m{i}" for i in range(MESSAGES)}, session  # none lost
        twice += sum(n - 1 for n in counts.values())
    print(f"\n{stop}: {total} hooks, {twice} answered twice (handlers running at the stop)")
    if stop == "term":
        assert twice == 0  # a drain finishes them: exactly one reply each
    else:
        assert twice <= CONCURRENCY
    assert sandbox.hooks.dropped == 0
