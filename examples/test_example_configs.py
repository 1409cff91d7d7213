"""Every example's plugin.toml (and the quickstart's) is valid and names a class that imports.

Runs ``python -m crisp_plugin check`` on each, as a reader of the README would.
"""

import asyncio
import os
import sys
from pathlib import Path

import pytest

from crisp_plugin.sandbox import Sandbox
from tests.redis_server import RedisServer

HERE = Path(__file__).parent
QUICKSTART = HERE.parent / "plugin.toml"
CONFIGS = [*sorted(HERE.glob("*/plugin.toml")), QUICKSTART]


# Examples whose plugin.toml takes its values from the environment, as a deployment's
# does; they talk to a sandbox and a Redis of their own (see their folder).
FROM_ENVIRONMENT = {"several_instances"}


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda p: "quickstart" if p == QUICKSTART else p.parent.name
)
async def test_check_accepts_the_config(config: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    server: RedisServer | None = None
    sandbox: Sandbox | None = None
    if config.parent.name in FROM_ENVIRONMENT:
        server = RedisServer(tmp_path / "redis")
        server.start()
        sandbox = Sandbox(port=0)
        await sandbox.start()
        env.update(
            REDIS_URL=server.url,
            CRISP_IDENTIFIER=sandbox.identifier,
            CRISP_KEY=sandbox.key,
            CRISP_HOOK_SECRET=sandbox.secret,
            CRISP_API_URL=sandbox.url,
            HOOK_PORT="8081",
        )
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "crisp_plugin",
            "check",
            str(config),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
        out, _ = await proc.communicate()
    finally:
        if sandbox is not None:
            await sandbox.stop()
        if server is not None:
            server.stop()
    text = out.decode()
    assert proc.returncode == 0, text
    assert f"{config}: valid" in text


def test_every_example_has_a_module_a_config_and_a_test() -> None:
    examples = [p.parent for p in CONFIGS if p != QUICKSTART]
    assert {p.name for p in examples} == {
        "greeter",
        "office_hours",
        "faq",
        "email_capture",
        "satisfaction",
        "triage",
        "several_instances",
        "auto_responder",
    }
    for folder in examples:
        module = folder / f"{folder.name}.py"
        package = folder / folder.name / "__init__.py"  # an example over several modules
        assert module.is_file() or package.is_file()
        assert (folder / f"test_{folder.name}.py").is_file()
        if folder.name not in FROM_ENVIRONMENT:  # the others run on the embedded sandbox
            assert "enabled = true" in (folder / "plugin.toml").read_text()
