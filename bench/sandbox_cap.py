"""The sandbox's own send-message capacity (bench/sandbox_rest.py, its owner's tool):
the ceiling W3 and W4 run into, measured with raw keep-alive clients that cost the
sandbox nothing extra. Shown so a W4 figure near it reads as "the sandbox is full"."""

from __future__ import annotations

import asyncio
import re

from bench.model import Contender, Metric, Options, Workload
from bench.procs import BENCH, PYTHON, child_env

_RATE = re.compile(r"sandbox REST send-message: ([\d,]+) calls/s")
_CAPACITY = re.compile(r"sandbox capacity: ([\d,]+) send-message calls per CPU-second")


def _number(pattern: re.Pattern[str], text: str) -> float:
    match = pattern.search(text)
    if match is None:
        raise RuntimeError(f"sandbox_rest.py printed no {pattern.pattern!r}: {text[-300:]}")
    return float(match.group(1).replace(",", ""))


async def run(opts: Options) -> dict[str, float]:
    seconds = 1.0 if opts.quick else 3.0
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        str(BENCH / "sandbox_rest.py"),
        "--seconds",
        str(seconds),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=child_env(),
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"sandbox_rest.py exited {proc.returncode}: {text[-300:]}")
    return {"per_s": _number(_RATE, text), "per_cpu_s": _number(_CAPACITY, text)}


def workload(opts: Options) -> Workload:
    return Workload(
        key="sbx",
        title="Sandbox send-message capacity",
        metrics=[
            Metric("per_s", "calls/s", higher_is_better=True),
            Metric("per_cpu_s", "calls per CPU-s", higher_is_better=True),
        ],
        contenders=[Contender("sandbox", "sandbox, raw keep-alive clients", run)],
        limits=(
            "The sandbox alone on core 0, two client processes of 16 keep-alive "
            "connections on core 1 (bench/sandbox_rest.py). Each call is validated, "
            "stored and announced as message:received, in one Python process: this is "
            "the most send-message calls per second any contender of W4 can see, and "
            "what bounds W3's replies/s."
        ),
    )


def targets(w: Workload) -> list[tuple[str, str, bool | None]]:
    return []
