"""The README's "Running several instances", followed as written: this folder's
plugin.toml, three ``crisp_plugin run`` processes (each its own HOOK_PORT) on one
redis-server, behind the sandbox's round-robin hook group.

With every hook delivered twice, each copy possibly to another instance, each visitor
message must be answered exactly once, numbered in order (#1, #2, ...: one state and
one order for the conversation, whichever instance took the hook), and the daily quota
counter in Redis must equal the REST calls the sandbox received from all three.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from pathlib import Path

import pytest

from crisp_plugin.sandbox import Sandbox
from tests.redis_server import RedisServer, free_port, redis_server
from tests.transports.transport_kit import eventually

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
CONVERSATIONS = 200
MESSAGES = 5

__all__ = ["redis_server"]


def text_of(path: Path) -> str:
    return path.read_text(errors="replace")


async def start(env: dict[str, str], port: int, log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "crisp_plugin", "run", str(HERE / "plugin.toml"),
            cwd=HERE, env={**env, "HOOK_PORT": str(port)},
            stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    async with asyncio.timeout(30):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return proc
            except OSError:
                if proc.returncode is not None:
                    raise AssertionError(text_of(log)) from None
                await asyncio.sleep(0.05)


def answers(sandbox: Sandbox) -> dict[str, list[str]]:
    site = sandbox.store.websites[sandbox.websites[0]]
    return {
        session: [m["content"] for m in conv.messages if m["from"] == "operator"]
        for session, conv in site.conversations.items()
    }


@pytest.mark.timeout(300)
async def test_three_instances_share_order_state_dedupe_and_quota(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with Sandbox(port=0, hook_retry_delays=(0.2, 0.5, 1.0, 2.0, 3.0)) as sandbox:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
            "REDIS_URL": redis_server.url,
            "CRISP_IDENTIFIER": sandbox.identifier,
            "CRISP_KEY": sandbox.key,
            "CRISP_HOOK_SECRET": sandbox.secret,
            "CRISP_API_URL": sandbox.url,
        }
        ports = [free_port() for _ in range(3)]
        procs = [await start(env, port, tmp_path / f"{port}.log") for port in ports]
        try:
            urls = [f"http://127.0.0.1:{port}/crisp/hooks" for port in ports]
            await sandbox.control.add_hook_group(urls, name="bots")
            await sandbox.control.set_faults(duplicate_hooks=True)
            sessions = [await sandbox.control.create_conversation() for _ in range(CONVERSATIONS)]

            async def visitor(session: str) -> None:
                for i in range(MESSAGES):
                    await sandbox.control.visitor_says(None, session, f"m{i}")

            await asyncio.gather(*(visitor(s) for s in sessions))
            await eventually(
                lambda: all(len(a) >= MESSAGES for a in answers(sandbox).values()), timeout=120
            )
            await sandbox.control.set_faults(duplicate_hooks=False)
            await sandbox.wait_hooks(60)
            calls = len(sandbox.requests)
            group = await sandbox.control.hook_group("bots")
        finally:
            for proc in procs:
                proc.terminate()
            codes = [await asyncio.wait_for(p.wait(), 30) for p in procs]
        assert codes == [0, 0, 0]
    want = [f"#{i + 1} m{i}" for i in range(MESSAGES)]
    assert all(texts == want for texts in answers(sandbox).values()), answers(sandbox)
    assert all(i["delivered"] > 0 for i in group["instances"])  # each instance took hooks
    import redis

    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    day = dt.datetime.now(dt.UTC).date().isoformat()
    counted = client.get(f"crisp:{{urn:example:counter:1}}:rest:quota:{day}")
    client.close()
    assert counted is not None and int(counted) == calls  # one quota for the three


@pytest.mark.timeout(120)
async def test_run_sh_starts_redis_the_sandbox_and_three_instances(tmp_path: Path) -> None:
    """``bash examples/several_instances/run.sh``, as the README says, on free ports: a
    visitor's messages come back numbered, and Ctrl-C (SIGINT) stops everything."""
    from crisp_plugin.sandbox import SandboxControl

    sandbox_port = free_port()
    hook_ports = [free_port() for _ in range(3)]
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT),
        "REDIS_PORT": str(free_port()),
        "SANDBOX_PORT": str(sandbox_port),
        "HOOK_PORTS": " ".join(map(str, hook_ports)),
    }
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        script = await asyncio.create_subprocess_exec(
            "bash", str(HERE / "run.sh"), env=env, stdout=out, stderr=out,
            start_new_session=True,
        )  # fmt: skip
    try:

        async def listening(port: int) -> bool:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return False
            writer.close()
            return True

        async with asyncio.timeout(60):
            for port in hook_ports:
                while not await listening(port):
                    assert script.returncode is None, text_of(log)
                    await asyncio.sleep(0.05)
        async with SandboxControl(f"http://127.0.0.1:{sandbox_port}") as control:
            session = await control.create_conversation()
            for text in ("a", "b", "c"):
                await control.visitor_says(None, session, text)

            async def answered() -> list[str]:
                return [
                    m["content"]
                    for m in await control.transcript(None, session)
                    if m["from"] == "operator"
                ]

            async with asyncio.timeout(30):
                while len(await answered()) < 3:  # noqa: ASYNC110 (the sandbox is another process)
                    await asyncio.sleep(0.05)
            assert await answered() == ["#1 a", "#2 b", "#3 c"], text_of(log)
    finally:
        if script.returncode is None:
            os.killpg(script.pid, signal.SIGINT)
    code = await asyncio.wait_for(script.wait(), 30)
    assert code in (0, 130, -signal.SIGINT), (code, text_of(log)[-2000:])  # bash re-raises it
    for port in hook_ports:  # every instance is gone
        with pytest.raises(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
