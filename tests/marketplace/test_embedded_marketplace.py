"""``crisp_plugin run`` with ``[sandbox] enabled`` and a marketplace plugin: the embedded
sandbox's Marketplace lists the plugin (Settings and Action URLs, both schemas), its
dashboard address is printed, and the settings page lets that dashboard frame it."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "auto_responder"


async def test_run_lists_the_plugin_in_the_embedded_sandbox(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE / "auto_responder.py", tmp_path)
    toml = (EXAMPLE / "plugin.toml").read_text()
    toml = toml.replace("port = 8090", "port = 0").replace(
        "enabled = true", "enabled = true\nport = 0"
    )
    (tmp_path / "plugin.toml").write_text(toml)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crisp_plugin", "run", "plugin.toml", cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        said = ""
        async with asyncio.timeout(30):
            while "/dashboard" not in said:
                line = await process.stdout.readline()
                assert line, f"run ended early:\n{said}"
                said += line.decode()
        dashboard = re.search(r"the dashboard \(settings page, widget\) at (\S+)", said)
        assert dashboard is not None, said
        sandbox = dashboard.group(1).removesuffix("/dashboard")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{sandbox}/_sandbox/plugin") as resp:
                entry = await resp.json()
            site = entry["settings_url"].removesuffix("/crisp/settings")
            assert entry["action_url"] == f"{site}/crisp/widget"
            assert entry["settings_schema"]["$id"].endswith("auto-responder:1")
            assert entry["settings_schema"]["properties"]["welcome"]["title"] == "Welcome message"
            items = [i["id"] for s in entry["widget_schema"]["sections"] for i in s["items"]]
            assert items == ["send_canned", "status"]
            async with http.get(f"{sandbox}/_sandbox/websites") as resp:
                first = (await resp.json())[0]
            query = {"website_id": first["website_id"], "token": first["token"]}
            async with http.get(entry["settings_url"], params=query) as resp:
                assert resp.status == 200
                csp = resp.headers["Content-Security-Policy"]
            assert f"frame-ancestors https://app.crisp.chat {sandbox}" in csp
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
