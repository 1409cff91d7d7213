"""Config for our contenders, and starting our runner in its own process."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.model import Options
from bench.payloads import HOOK_PATH, IDENTIFIER, KEY, SECRET
from bench.procs import PYTHON, Proc, scratch_dir

URN = "urn:crisp-plugin:bench:1"


def settings(
    plugin: str,
    *,
    api_url: str,
    transport: str = "webhooks",
    hook_port: int = 0,
    identifier: str = IDENTIFIER,
    key: str = KEY,
    dedupe_ttl: float | None = None,
    extra_dispatch: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A plugin.toml-shaped dict. Logs at warning: the Node contenders log nothing."""
    dispatch: dict[str, Any] = dict(extra_dispatch or {})
    if dedupe_ttl is not None:
        dispatch["dedupe_ttl"] = dedupe_ttl
    return {
        "plugin": {"class": f"bench.contenders.bots:{plugin}", "urn": URN},
        "crisp": {"identifier": identifier, "key": key, "api_url": api_url},
        "events": {"transport": transport},
        "webhooks": {"host": "127.0.0.1", "port": hook_port, "path": HOOK_PATH, "secret": SECRET},
        "dispatch": dispatch,
        "log": {"level": "warning", "format": "json"},
    }


def write_settings(data: dict[str, Any]) -> Path:
    fd, name = tempfile.mkstemp(prefix="settings-", suffix=".json", dir=scratch_dir())
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    return Path(name)


async def start_runner(
    name: str, data: dict[str, Any], opts: Options, expect: int | None = None
) -> Proc:
    """Our runner in its own process on the contender's core; returns once ready."""
    argv = [PYTHON, "-m", "bench.contenders.ours_runner", str(write_settings(data))]
    if expect is not None:
        argv.append(str(expect))
    proc = await Proc.start(name, argv, cpu=opts.server_cpu)
    try:
        await proc.ready()
    except BaseException:
        await proc.stop()
        raise
    return proc
