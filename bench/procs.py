"""Child processes of a benchmark: start on a given core, wait until ready, stop cleanly.

Every contender, the sandbox and the load generator run in their own process, so they
never share an event loop. A server process announces itself by printing one JSON line
with ``"ready": true`` on stdout; later JSON lines report figures (``Proc.next_json``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
NODE_DIR = BENCH / "node"
PYTHON = sys.executable


@functools.cache
def scratch_dir() -> Path:
    """A temporary directory for this harness run (settings, the hook pool), removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="crisp-bench-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def free_port() -> int:
    """A TCP port free on the loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """How much CPU the rest of the machine used while a run went on, in cores.

    Busy time of the whole machine (/proc/stat: user, nice, system and hypervisor steal;
    not irq and softirq, where loopback traffic is processed) minus the
    CPU of this harness and every child it has waited for (its own and its children's
    times from /proc/self/stat). Children still running at the end are not counted as
    ours, so call ``cores()`` after the run's processes have been stopped.
    """

    def __init__(self) -> None:
        self._wall = time.monotonic()
        self._busy = self._machine_busy()
        self._ours = self._our_cpu()

    @staticmethod
    def _machine_busy() -> float:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        # irq and softirq are left out: loopback traffic is processed there and is ours
        user, nice, system, _idle, _iowait, _irq, _softirq, steal = (fields + [0] * 8)[:8]
        return (user + nice + system + steal) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _our_cpu() -> float:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    def cores(self) -> float:
        wall = time.monotonic() - self._wall
        other = (self._machine_busy() - self._busy) - (self._our_cpu() - self._ours)
        return max(0.0, other / wall) if wall > 0 else 0.0


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def pinned(argv: Sequence[str], cpu: int | None) -> list[str]:
    """``argv`` prefixed with ``taskset -c cpu`` when pinning is possible."""
    if cpu is None or shutil.which("taskset") is None or cpu >= cpu_count():
        return list(argv)
    return ["taskset", "-c", str(cpu), *argv]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("NODE_NO_WARNINGS", "1")
    env.update(extra)
    return env


class ProcError(RuntimeError):
    """A child process died or did not answer in time; the message names it."""


class Proc:
    """One child process speaking JSON lines on stdout."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc
        self.pid = proc.pid
        self._stderr_tail: list[str] = []
        self.ready_info: dict[str, Any] = {}
        self._stderr_task = asyncio.create_task(self._drain_stderr())

    @classmethod
    async def start(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        cpu: int | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> Proc:
        proc = await asyncio.create_subprocess_exec(
            *pinned(argv, cpu),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=str(cwd or ROOT),
            env=env or child_env(),
            limit=1 << 20,
        )
        return cls(name, proc)

    async def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self._stderr_tail.append(line.decode(errors="replace").rstrip())
            del self._stderr_tail[:-20]

    def _why(self) -> str:
        tail = "\n".join(self._stderr_tail[-10:])
        return f"{self.name} (pid {self.pid}, exit {self.proc.returncode}): {tail}"

    async def next_json(self, within: float) -> dict[str, Any]:
        """The next JSON object the child prints (other lines are skipped)."""
        assert self.proc.stdout is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise ProcError(f"no answer within {within:g} s from {self._why()}")
            try:
                line = await asyncio.wait_for(self.proc.stdout.readline(), left)
            except TimeoutError:
                raise ProcError(f"no answer within {within:g} s from {self._why()}") from None
            if not line:
                await asyncio.sleep(0.05)  # let stderr be drained for the message
                raise ProcError(f"exited early: {self._why()}")
            text = line.decode(errors="replace").strip()
            if text.startswith("{"):
                with contextlib.suppress(ValueError):
                    obj = json.loads(text)
                    if isinstance(obj, dict):
                        return obj

    async def ready(self, within: float = 20.0) -> dict[str, Any]:
        """Wait for the child's ``{"ready": true, ...}`` line and return it."""
        while True:
            obj = await self.next_json(within)
            if obj.get("ready"):
                self.ready_info = obj
                return obj

    def send(self, obj: dict[str, Any]) -> None:
        """One JSON line on the child's stdin (for children that take commands)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj).encode() + b"\n")

    async def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; this child only, by its pid."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        self._stderr_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._stderr_task
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        return self.proc.returncode


async def wait_port(port: int, within: float = 10.0) -> None:
    """Until something accepts TCP connections on 127.0.0.1:port."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise ProcError(f"nothing listens on port {port} after {within:g} s") from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
