"""A redis-server for the benchmarks: on a free loopback port, in the scratch folder,
with the append-only file a durable deployment runs (``appendfsync everysec``).

    async with redis_server(cpu=0) as redis:
        redis.url, redis.pid
        await redis.commands()     # commands Redis has run so far (INFO commandstats)
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bench.procs import free_port, pinned, scratch_dir

__all__ = ["RedisProc", "redis_server"]


@dataclass
class RedisProc:
    url: str
    pid: int
    port: int

    async def info(self, section: str) -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(f"INFO {section}\r\n".encode())
            await writer.drain()
            head = await reader.readline()  # $<length>
            size = int(head[1:])
            body = await reader.readexactly(size + 2)
            return body.decode()
        finally:
            writer.close()

    async def benchmark(self, cpu: int | None = None, requests: int = 200_000) -> float:
        """redis-benchmark against this server: pipelined XADDs per second (16 per round
        trip, 50 clients), the command the inbox spends most on."""
        binary = shutil.which("redis-benchmark")
        if binary is None:
            raise RuntimeError("redis-benchmark is not installed (Debian: redis-tools)")
        argv = [
            binary, "-p", str(self.port), "-n", str(requests), "-P", "16", "-q",
            "XADD", "bench:xadd", "MAXLEN", "~", "10000", "*", "n", "message:send",
            "p", "x" * 400,
        ]  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            *pinned(argv, cpu), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await proc.communicate()
        for line in reversed(out.decode(errors="replace").replace("\r", "\n").splitlines()):
            if "requests per second" in line:
                return float(line.split("requests per second")[0].rsplit(":", 1)[1].strip())
        raise RuntimeError(f"redis-benchmark said nothing usable: {err.decode()[-300:]}")

    async def commands(self) -> int:
        """Every command Redis ran so far (a script's inner commands counted too)."""
        total = 0
        for line in (await self.info("commandstats")).splitlines():
            if line.startswith("cmdstat_") and "calls=" in line:
                total += int(line.split("calls=", 1)[1].split(",", 1)[0])
        return total


@contextlib.asynccontextmanager
async def redis_server(cpu: int | None = None) -> AsyncIterator[RedisProc]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    folder = scratch_dir() / f"redis-{port}"
    folder.mkdir(parents=True, exist_ok=True)
    argv = [
        binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
        "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
        "--daemonize", "no", "--logfile", "redis.log",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *pinned(argv, cpu),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    redis = RedisProc(f"redis://127.0.0.1:{port}/0", proc.pid, port)
    try:
        for _ in range(500):  # until it answers
            with contextlib.suppress(OSError, ValueError, asyncio.IncompleteReadError):
                await redis.info("server")
                break
            if proc.returncode is not None:
                raise RuntimeError(f"redis-server exited ({proc.returncode})")
            await asyncio.sleep(0.01)
        else:
            raise RuntimeError("redis-server did not answer within 5 s")
        yield redis
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
