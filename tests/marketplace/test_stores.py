"""Where the installations are kept: in SQLite a restart catches up with one
``websites/since`` call instead of listing every website again; in Redis the instances
share them (a change kept by one is seen by the others without a call to Crisp); and
events of websites that did not install the plugin reach no handler."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from crisp_plugin.config import settings_from_dict
from crisp_plugin.marketplace.store import RedisInstallationStore
from crisp_plugin.redis_client import open_redis
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.signing import sign
from crisp_plugin.testing import PluginRunner
from tests.marketplace.bots import Responder
from tests.marketplace.conftest import SITES
from tests.redis_server import RedisServer, redis_server
from tests.transports.transport_kit import eventually

__all__ = ["redis_server"]

FIRST, SECOND, THIRD = SITES


def listing_calls(sb: Sandbox, since: int = 0) -> list[str]:
    """``all`` or ``since`` for each installed-websites listing the plugin made."""
    return [
        r["path"].split("/connect/websites/")[1].split("/")[0].split("?")[0]
        for r in sb.requests[since:]
        if "/connect/websites/" in r["path"]
    ]


async def test_a_restart_on_sqlite_catches_up_with_one_since_call(
    sb: Sandbox, tmp_path: Path
) -> None:
    kit = PluginRunner(sb)
    state = {"backend": "sqlite", "path": str(tmp_path / "state.db")}
    async with kit(Responder, transport="webhooks", state=state) as bot:  # type: ignore[arg-type]
        assert sorted(s.website_id for s in bot.installations) == sorted(SITES)
    assert set(listing_calls(sb)) == {"all"}

    # While it is down: one website leaves, another changes its settings.
    await sb.control.uninstall(THIRD)
    await sb.control.save_settings(FIRST, {"message": "Changed while down"})
    mark = len(sb.requests)
    async with kit(Responder, transport="webhooks", state=state) as bot:  # type: ignore[arg-type]
        assert listing_calls(sb, mark) == ["since"]
        assert sorted(s.website_id for s in bot.installations) == sorted([FIRST, SECOND])
        assert bot.website_settings(FIRST).message == "Changed while down"
        assert bot.website_settings(SECOND).message == "Hi there"  # kept from the file


async def test_instances_on_redis_share_the_installations(
    sb: Sandbox, tmp_path: Path, redis_server: RedisServer
) -> None:
    config = tmp_path / "plugin.toml"
    config.write_text(f'[state]\nbackend = "redis"\n[redis]\nurl = "{redis_server.url}"\n')
    kit = PluginRunner(sb)
    async with kit(Responder, transport="webhooks", config=config) as one:  # type: ignore[arg-type]
        assert listing_calls(sb) == ["all"] * len(listing_calls(sb))
        mark = len(sb.requests)
        async with kit(Responder, transport="webhooks", config=config) as two:  # type: ignore[arg-type]
            # The second found them in Redis: a since call, not the whole listing.
            assert listing_calls(sb, mark) == ["since"]
            assert sorted(s.website_id for s in two.installations) == sorted(SITES)

            # A change kept by a third party (another instance, here the test) reaches
            # both through Redis, with no call to Crisp.
            link = await open_redis(settings_from_dict(kit.settings_for(Responder, config=config)))
            try:
                other = RedisInstallationStore(link, origin="another-instance")
                calls = len(sb.requests)
                row: dict[str, Any] = {
                    "website_id": SECOND,
                    "token": "kept-token",
                    "settings": {"message": "Set elsewhere"},
                    "plan": None,
                }
                await other.save(row)
                for bot in (one, two):
                    await eventually(
                        lambda b=bot: b.website_settings(SECOND).message == "Set elsewhere"
                    )
                await other.remove(THIRD)
                for bot in (one, two):
                    await eventually(lambda b=bot: THIRD not in b.installations)
                assert bot.uninstalled == [THIRD]
                assert len(sb.requests) == calls
            finally:
                await link.close()


def signed_hook(secret: str, website_id: str, fingerprint: int) -> tuple[bytes, dict[str, str]]:
    """A ``message:send`` hook for ``website_id``, signed as Crisp signs them."""
    now = int(time.time() * 1000)
    data = {
        "website_id": website_id,
        "session_id": "session_5d7b5b2e-0000-4000-8000-000000000001",
        "type": "text",
        "from": "user",
        "origin": "chat",
        "content": "hello?",
        "fingerprint": fingerprint,
        "timestamp": now,
    }
    event = {"website_id": website_id, "event": "message:send", "data": data, "timestamp": now}
    body = json.dumps(event).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Crisp-Request-Timestamp": str(now),
        "X-Crisp-Signature": sign(secret, str(now), body),
    }
    return body, headers


async def test_events_of_websites_that_did_not_install_it_reach_no_handler(
    sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    stranger = "44444444-4444-4444-8444-444444444444"
    kit = PluginRunner(sb)
    async with kit(Responder, transport="webhooks") as bot:  # type: ignore[arg-type]
        url = kit.page_url(bot, "/crisp/hooks")
        async with aiohttp.ClientSession() as http:
            for fingerprint in (1, 2):  # two messages: the line is said once
                body, headers = signed_hook(sb.secret, stranger, fingerprint)
                async with http.post(url, data=body, headers=headers) as r:
                    assert r.status == 200, await r.text()
        await kit.settle()
        runner_stats = kit.stats(bot)
        assert runner_stats["dropped"].get("message:send") == 2, runner_stats
        assert not [r for r in sb.requests if stranger in r["path"]]
    said = capsys.readouterr()
    assert (said.out + said.err).count("has not installed the plugin are ignored") == 1
