"""N instances of one plugin as real processes (``python -m crisp_plugin run``), on one
Redis, behind the sandbox: the kit of the multi-instance tests.

Each instance has its own folder and plugin.toml (its own hook port, the same Redis,
the same plugin URN, so the same key prefix) and can be killed (SIGKILL), stopped
(SIGTERM) and started again on the same port. With RTM, one holds the relay: the
role helpers at the end read it from each instance's ``/healthz``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from crisp_plugin.sandbox import Sandbox
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]

REPLIER = """
import asyncio, os
from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend

class Replier(Plugin):
    @on("message:send")
    async def reply(self, event: MessageSend) -> None:
        await asyncio.sleep(float(os.environ.get("HANDLER_SECONDS", "0.01")))
        await event.reply(f"re:{event.text}")
"""


class Instance:
    """One ``crisp_plugin run`` process and its folder."""

    def __init__(self, folder: Path, name: str, config_text: str, port: int) -> None:
        self.folder = folder / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.port = port
        (self.folder / "replier.py").write_text(REPLIER)
        self.config = self.folder / "plugin.toml"
        self.config.write_text(config_text)
        self.process: asyncio.subprocess.Process | None = None
        self.stderr = self.folder / "stderr.log"
        self.env: dict[str, str] = {}

    @property
    def hook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/crisp/hooks"

    async def start(self, *, wait_port: bool = True) -> None:
        env = {
            **os.environ,
            **self.env,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(self.folder)]),
        }
        with self.stderr.open("ab") as err:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "crisp_plugin", "run", str(self.config),
                cwd=self.folder, env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
        if not wait_port:
            return
        async with asyncio.timeout(30):  # until the hook port answers
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    return
                except OSError:
                    if self.process.returncode is not None:
                        raise AssertionError(
                            f"{self.name} exited at start-up:\n{self.log()[-3000:]}"
                        ) from None
                    await asyncio.sleep(0.05)

    def log(self) -> str:
        return self.stderr.read_text(errors="replace") if self.stderr.exists() else ""

    async def kill(self) -> int:
        return await self._signal(signal.SIGKILL)

    async def term(self) -> int:
        return await self._signal(signal.SIGTERM)

    async def _signal(self, sig: int) -> int:
        process, self.process = self.process, None
        assert process is not None
        if process.returncode is None:
            process.send_signal(sig)
        return await asyncio.wait_for(process.wait(), 60)


def plugin_toml(
    sandbox: Sandbox,
    redis_url: str,
    port: int,
    *,
    transport: str = "webhooks",
    extra: str = "",
) -> str:
    return textwrap.dedent(
        f"""
        [plugin]
        class = "replier:Replier"
        urn = "urn:test:replier:1"
        [crisp]
        identifier = "{sandbox.identifier}"
        key = "{sandbox.key}"
        api_url = "{sandbox.url}"
        max_retries = 6
        [events]
        transport = "{transport}"
        [webhooks]
        port = {port}
        secret = "{sandbox.secret}"
        [inbox]
        backend = "redis"
        partitions = 16
        lease_ttl = 2
        [redis]
        url = "{redis_url}"
        connect_timeout = 1
        socket_timeout = 2
        [dispatch]
        concurrency = 50
        drain_timeout = 10
        [log]
        level = "info"
        format = "json"
        """
    ) + textwrap.dedent(extra)


def instances(
    folder: Path, sandbox: Sandbox, redis_url: str, count: int, **options: str
) -> list[Instance]:
    made = []
    for i in range(count):
        port = free_port()
        text = plugin_toml(sandbox, redis_url, port, **options)
        made.append(Instance(folder, f"i{i}", text, port))
    return made


def replies(sandbox: Sandbox) -> dict[str, list[str]]:
    """Per conversation, the texts of the bot's replies in transcript order."""
    site = sandbox.store.websites[sandbox.websites[0]]
    return {
        session: [
            m["content"] for m in conv.messages if m["from"] == "operator" and m["type"] == "text"
        ]
        for session, conv in site.conversations.items()
    }


def reply_count(sandbox: Sandbox) -> int:
    return sum(map(len, replies(sandbox).values()))


async def pour(sandbox: Sandbox, sessions: list[str], messages: int) -> None:
    """Every visitor writes ``messages`` messages, m0, m1, ... one after the other."""

    async def visitor(session: str) -> None:
        for i in range(messages):
            await sandbox.control.visitor_says(None, session, f"m{i}")

    await asyncio.gather(*(visitor(s) for s in sessions))


def check_answers(sandbox: Sandbox, messages: int) -> int:
    """Every message answered, first replies in message order; how many answered twice."""
    twice = 0
    for session, texts in replies(sandbox).items():
        counts = Counter(texts)
        assert set(counts) == {f"re:m{i}" for i in range(messages)}, (session, texts)
        twice += sum(n - 1 for n in counts.values())
        firsts = list(dict.fromkeys(texts))
        assert firsts == [f"re:m{i}" for i in range(messages)], (session, texts)
    return twice


# -- the relay among instances (RTM on the Redis inbox) ------------------------------


def relay_instances(folder: Path, sandbox: Sandbox, redis_url: str) -> list[Instance]:
    """Two RTM instances on one Redis, each serving ``/healthz`` on its own port (the
    ``relay`` field says ``holder`` or ``standby``)."""
    made = []
    for i in range(2):
        port = free_port()
        text = plugin_toml(
            sandbox,
            redis_url,
            free_port(),
            transport="rtm",
            extra=f"[metrics]\nenabled = true\nport = {port}\n",
        )
        made.append(Instance(folder, f"i{i}", text, port))
    return made


async def relay_role(instance: Instance) -> str:
    """``holder`` (with the socket connected), ``standby``, or ``down``."""
    try:
        url = f"http://127.0.0.1:{instance.port}/healthz"
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            report: dict[str, Any] = await resp.json()
    except (aiohttp.ClientError, OSError):
        return "down"
    relay = str(report.get("relay", "none"))
    if relay == "holder" and report["transports"]["rtm"] != "connected":
        return "holder, not connected yet"  # the relay keeps no backlog: not ready
    return relay


async def until_lease(instance: Instance, within: float) -> None:
    """Until ``instance`` holds the relay lease (connected or not yet)."""
    deadline = time.monotonic() + within
    while not (await relay_role(instance)).startswith("holder"):
        if time.monotonic() > deadline:
            raise AssertionError(f"{instance.name} did not take the relay in {within:g} s")
        await asyncio.sleep(0.05)


async def roles(group: list[Instance]) -> list[str]:
    return [await relay_role(i) for i in group]


async def until_roles(group: list[Instance], wanted: list[str], within: float) -> None:
    deadline = time.monotonic() + within
    while (seen := await roles(group)) != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(f"relay roles {seen}, wanted {wanted}")
        await asyncio.sleep(0.05)
