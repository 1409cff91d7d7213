"""``python -m crisp_plugin sandbox``: prints a ready plugin.toml, serves, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import base64
import re
import signal
import socket
import sys
import tomllib

import aiohttp


async def start(*flags: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crisp_plugin",
        "sandbox",
        "--port",
        "0",
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    lines = []
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        assert line, f"sandbox exited early: {(await proc.stderr.read()).decode()}"  # type: ignore[union-attr]
        lines.append(line)
        if line.startswith("Press Ctrl+C"):
            return proc, "".join(lines)


async def stop(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0
    return out.decode()


async def test_generated_credentials_make_a_working_plugin_toml() -> None:
    proc, banner = await start()
    try:
        toml = tomllib.loads(banner.split("# plugin.toml\n", 1)[1].split("Press Ctrl+C")[0])
        crisp = toml["crisp"]
        assert crisp["tier"] == "plugin" and crisp["api_url"].startswith("http://127.0.0.1:")
        assert len(toml["webhooks"]["secret"]) >= 16
        token = base64.b64encode(f"{crisp['identifier']}:{crisp['key']}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "X-Crisp-Tier": "plugin"}
        async with (
            aiohttp.ClientSession() as http,
            http.get(crisp["api_url"] + "/v1/plugin/connect/account", headers=headers) as resp,
        ):
            assert resp.status == 200
            assert (await resp.json())["data"]["plugin_id"] == crisp["plugin_id"]
    finally:
        assert "sandbox stopped" in await stop(proc)


async def test_given_credentials_and_websites_are_used_and_not_echoed() -> None:
    proc, banner = await start(
        "--identifier",
        "id-1",
        "--key",
        "key-very-secret",
        "--secret",
        "hook-very-secret",
        "--plugin-id",
        "plugin-1",
        "--website",
        "site-a",
        "--website",
        "site-b",
        "--hook",
        "http://127.0.0.1:9/hooks",
    )
    try:
        assert "key-very-secret" not in banner and "hook-very-secret" not in banner
        assert 'identifier = "id-1"' in banner and "site-a, site-b" in banner
        url = re.search(r"listening on (\S+)", banner)
        assert url is not None
        token = base64.b64encode(b"id-1:key-very-secret").decode()
        headers = {"Authorization": f"Basic {token}", "X-Crisp-Tier": "plugin"}
        async with aiohttp.ClientSession() as http:
            async with http.get(url.group(1) + "/v1/website/site-b", headers=headers) as resp:
                assert resp.status == 200
            async with http.get(url.group(1) + "/_sandbox/hooks") as resp:
                assert (await resp.json())["urls"] == ["http://127.0.0.1:9/hooks"]
    finally:
        await stop(proc)


async def run_to_exit(*flags: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crisp_plugin",
        "sandbox",
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_hook_that_is_not_an_http_url_is_refused_at_the_command_line() -> None:
    for bad in ("notaurl", "ftp://example.com/hooks", "http:///hooks", "http://host:99999/x"):
        code, out, err = await run_to_exit("--port", "0", "--hook", bad)
        assert code == 2, (bad, out, err)
        assert f"argument --hook: {bad!r} is not a web hook URL" in err
        assert "Traceback" not in err and "listening" not in out


async def test_a_port_in_use_prints_one_clear_line_and_exits_1() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = await run_to_exit("--port", str(port), "--hook", "http://127.0.0.1:9/h")
    assert code == 1 and "listening" not in out
    assert err == f"sandbox: cannot listen on 127.0.0.1:{port}: address already in use\n"


async def test_a_port_out_of_range_is_refused_at_the_command_line() -> None:
    for bad in ("99999", "65536", "-5", "http", "8.5"):
        code, out, err = await run_to_exit("--port", bad)
        assert code == 2, (bad, out, err)
        assert err.splitlines()[-1] == (
            f"python -m crisp_plugin sandbox: error: argument --port: {bad!r} is not a port "
            "(a number from 0 to 65535; 0 picks a free one)"
        )
        assert "Traceback" not in err and "listening" not in out


async def test_the_hook_retry_budget_is_set_from_the_command_line() -> None:
    proc, banner = await start(
        "--hook",
        "http://127.0.0.1:9/h",
        "--hook-retry-delays",
        "0.1,0.2",
        "--hook-attempt-limit",
        "5",
    )
    try:
        assert "hook retries after 0.1, 0.2 s; 5 attempts, the last 0.7 s after the first" in banner
        url = re.search(r"listening on (\S+)", banner)
        assert url is not None
        async with (
            aiohttp.ClientSession() as http,
            http.get(url.group(1) + "/_sandbox/hooks/retries") as resp,
        ):
            budget = await resp.json()
        assert budget["delays"] == [0.1, 0.2] and budget["attempt_limit"] == 5
        assert budget["window"] == 0.7
    finally:
        await stop(proc)


async def test_a_bad_retry_budget_is_refused_at_the_command_line() -> None:
    for flag, bad in (
        ("--hook-retry-delays", "0.5,x"),
        ("--hook-retry-delays", "-1"),
        ("--hook-retry-delays", "nan"),
        ("--hook-attempt-limit", "0"),
        ("--hook-attempt-limit", "two"),
    ):
        code, out, err = await run_to_exit("--port", "0", flag, bad)
        assert code == 2, (flag, bad, out, err)
        assert f"argument {flag}: {bad!r} is not" in err
        assert "Traceback" not in err and "listening" not in out
    code, out, err = await run_to_exit(
        "--port", "0", "--hook-retry-delays", "", "--hook-attempt-limit", "3"
    )
    assert code == 2 and "listening" not in out
    assert err == "sandbox: an attempt limit above 1 needs at least one retry delay\n"


async def test_hook_groups_from_the_command_line() -> None:
    proc, banner = await start(
        "--hook-group",
        "bot=http://127.0.0.1:9/a,http://127.0.0.1:9/b",
        "--hook-group",
        "http://127.0.0.1:9/c",
    )
    try:
        assert "hook group   bot: http://127.0.0.1:9/a, http://127.0.0.1:9/b" in banner
        assert "hook group   group-2: http://127.0.0.1:9/c" in banner
        url = re.search(r"listening on (\S+)", banner)
        assert url is not None
        async with (
            aiohttp.ClientSession() as http,
            http.get(url.group(1) + "/_sandbox/hooks") as resp,
        ):
            listing = await resp.json()
        assert [g["name"] for g in listing["groups"]] == ["bot", "group-2"]
        assert [i["url"] for i in listing["groups"][0]["instances"]] == [
            "http://127.0.0.1:9/a",
            "http://127.0.0.1:9/b",
        ]
    finally:
        await stop(proc)


async def test_a_bad_hook_group_is_refused_at_the_command_line() -> None:
    code, out, err = await run_to_exit("--port", "0", "--hook-group", "bot=ftp://x")
    assert code == 2 and "argument --hook-group: 'ftp://x' is not a web hook URL" in err
    code, out, err = await run_to_exit("--port", "0", "--hook-group", "bot=")
    assert code == 2 and "argument --hook-group: 'bot=' is not a hook group" in err
    code, out, err = await run_to_exit(
        "--port", "0", "--hook-group", "a=http://h/1", "--hook-group", "a=http://h/2"
    )
    assert code == 2 and err == "sandbox: hook group a exists\n" and "listening" not in out
