"""The harness's handle on a sandbox process (bench/contenders/sandbox_proc.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bench.model import Options
from bench.payloads import IDENTIFIER, KEY, SECRET
from bench.procs import PYTHON, Proc, child_env


@dataclass
class SandboxProc:
    proc: Proc
    url: str
    website_id: str
    identifier: str = IDENTIFIER
    key: str = KEY
    secret: str = SECRET

    async def command(self, within: float = 60.0, **cmd: Any) -> dict[str, Any]:
        self.proc.send(cmd)
        answer = await self.proc.next_json(within)
        if "error" in answer:
            raise RuntimeError(f"sandbox: {answer['error']}")
        return answer

    def node_env(self) -> dict[str, str]:
        """What the Node contenders read: API URL and credentials."""
        return child_env(
            CRISP_API_URL=self.url,
            CRISP_IDENTIFIER=self.identifier,
            CRISP_KEY=self.key,
            CRISP_HOOK_SECRET=self.secret,
        )


@contextlib.asynccontextmanager
async def running_sandbox(opts: Options) -> AsyncIterator[SandboxProc]:
    """A fresh sandbox process on the load generator's core, stopped on exit."""
    proc = await Proc.start(
        "sandbox", [PYTHON, "-m", "bench.contenders.sandbox_proc"], cpu=opts.load_cpu
    )
    try:
        info = await proc.ready()
        yield SandboxProc(proc, info["url"], info["website_id"])
    finally:
        await proc.stop()
