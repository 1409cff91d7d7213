"""A real ``redis-server`` for the tests that need Redis: never a fake.

``RedisServer`` runs Debian's redis-server on a free loopback port in a folder of its
own, without persistence unless asked (``--save ""``, no AOF), and can be stopped,
killed and started again on the same port (tests that take Redis away mid-run).
The ``redis_server`` fixture starts one per test and stops it after; conftests that
need it import it (``from tests.redis_server import redis_server``).

When redis-server is missing the fixture fails, saying how to install it: a test that
needs Redis is never skipped.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["RedisServer", "free_port", "redis_server"]

MISSING = (
    "redis-server is not installed: run scripts/setup.sh --with-test-deps "
    "(it installs Debian's redis-server package)"
)


def free_port() -> int:
    """A loopback TCP port nothing listens on (now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    """True when a Redis on ``port`` answers a PING (NOAUTH counts: it is up)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    return reply.startswith((b"+PONG", b"-NOAUTH"))


class RedisServer:
    """One redis-server process on 127.0.0.1:``port``, its files in ``folder``."""

    def __init__(
        self,
        folder: Path,
        *,
        persist: bool = False,
        password: str | None = None,
        binary: str | None = None,
    ) -> None:
        found = binary or shutil.which("redis-server")
        if found is None:
            raise RuntimeError(MISSING)
        self.binary = found
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.persist = persist
        self.password = password
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0`` (with the password when there is one)."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _command(self) -> list[str]:
        command = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.folder),
            "--logfile",
            "redis.log",
            "--daemonize",
            "no",
            "--databases",
            "16",
        ]
        if self.persist:
            command += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        else:
            command += ["--save", "", "--appendonly", "no"]
        if self.password:
            command += ["--requirepass", self.password]
        return command

    def start(self, timeout: float = 10.0) -> None:
        """Start (again) on ``port``; return once it answers PING."""
        if self.running:
            return
        (self.folder / "redis.log").unlink(missing_ok=True)  # this start's log only
        self.process = subprocess.Popen(
            self._command(),
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not _answers(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited ({self.process.returncode}) on port {self.port}:\n"
                    + self.log[-2000:]
                )
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"redis-server did not answer PING within {timeout} s")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop it the way an operator would (SIGTERM) and wait for the exit."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def kill(self) -> None:
        """Kill it (SIGKILL), as a crash would."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    def restart(self) -> None:
        """Stop, then start again on the same port (the data goes unless ``persist``)."""
        self.stop()
        self.start()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A running redis-server of this test's own, stopped after it."""
    if shutil.which("redis-server") is None:
        pytest.fail(MISSING, pytrace=False)
    server: RedisServer | None = None
    for _ in range(3):  # a port taken between free_port() and the bind: another one
        server = RedisServer(tmp_path / "redis")
        try:
            server.start()
            break
        except RuntimeError:
            if "Address already in use" not in server.log:
                raise
    assert server is not None and server.running
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
