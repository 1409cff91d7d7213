"""The test Redis itself: a real redis-server on a loopback port, nothing kept on disk
unless asked, restartable on the same port."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from tests.redis_server import RedisServer


async def ask(url: str, *command: Any) -> Any:
    """One command on a connection of its own (the server may have restarted)."""
    client = Redis.from_url(url, decode_responses=True)
    try:
        return await client.execute_command(*command)
    finally:
        await client.aclose()


async def test_it_answers_on_loopback_without_persistence(redis_server: RedisServer) -> None:
    url = redis_server.url
    assert url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert await ask(url, "PING") is True
    client = Redis.from_url(url, decode_responses=True)
    try:
        for name, value in {"save": "", "appendonly": "no", "bind": "127.0.0.1"}.items():
            assert await client.config_get(name) == {name: value}
    finally:
        await client.aclose()
    await ask(url, "SET", "k", "v")
    redis_server.restart()
    assert redis_server.running and redis_server.url == url
    assert await ask(url, "GET", "k") is None  # a restart without persistence forgets


async def test_a_persistent_server_keeps_its_data_across_a_kill(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "aof", persist=True)
    server.start()
    try:
        await ask(server.url, "SET", "k", "kept")
        port = server.port
        server.kill()
        assert not server.running
        server.start()
        assert server.port == port
        assert await ask(server.url, "GET", "k") == "kept"
    finally:
        server.stop()


async def test_a_password_server_wants_it(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "auth", password="s3cret-pass")
    server.start()
    try:
        assert server.url == f"redis://:s3cret-pass@127.0.0.1:{server.port}/0"
        assert await ask(server.url, "PING") is True
    finally:
        server.stop()
    assert not server.running


def test_without_redis_server_the_fixture_fails_saying_how_to_install(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "conftest.py").write_text("from tests.redis_server import redis_server\n")
    (tmp_path / "test_needs_redis.py").write_text("def test_it(redis_server):\n    pass\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_needs_redis.py"],
        cwd=tmp_path,
        env={**os.environ, "PATH": str(tmp_path / "no-bin"), "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 error" in done.stdout and "skipped" not in done.stdout
    assert "redis-server is not installed: run scripts/setup.sh --with-test-deps" in done.stdout
