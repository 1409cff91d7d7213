"""Helpers for the core tests: payload builders and a subprocess runner for the CLI."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def message(
    session: str = "session_1",
    fingerprint: Any = 1,
    text: str = "hello",
    *,
    website: str = "website_1",
    name_type: str = "text",
    origin: str = "chat",
    **extra: Any,
) -> dict[str, Any]:
    """A ``message:send`` / ``message:received`` payload as Crisp sends it."""
    payload: dict[str, Any] = {
        "website_id": website,
        "session_id": session,
        "inbox_id": None,
        "type": name_type,
        "from": "user",
        "origin": origin,
        "content": text,
        "fingerprint": fingerprint,
        "timestamp": 1_700_000_000_000,
        "user": {"user_id": "visitor", "nickname": "Visitor"},
        "stamped": True,
    }
    payload.update(extra)
    return payload


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


def cli_env() -> dict[str, str]:
    """Environment for ``python -m crisp_plugin`` subprocesses: this source tree first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRISP_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


async def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, limit: float = 60
) -> Completed:
    """Run the CLI without blocking the event loop (a sandbox may serve in it)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crisp_plugin",
        *args,
        cwd=str(cwd) if cwd else None,
        env=env or cli_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), limit)
    assert proc.returncode is not None
    return Completed(proc.returncode, out.decode(), err.decode())
