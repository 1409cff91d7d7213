"""The settings page a marketplace plugin serves: the token check, the generated form,
saving through Crisp's settings route, validation messages next to their field, and
refusing a forged cross-site post. Over real HTTP, as Crisp's iframe would."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import PluginRunner
from tests.marketplace.bots import Responder
from tests.marketplace.conftest import SITES
from tests.transports.transport_kit import eventually

FIRST, SECOND, _ = SITES


def hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def field_error(page: str, name: str) -> str | None:
    found = re.search(rf'id="f-{name}-error" role="alert">([^<]*)<', page)
    return found.group(1) if found else None


@pytest.mark.parametrize("transport", ["webhooks", "rtm"])
async def test_the_page_shows_the_form_and_saves_through_crisp(sb: Sandbox, transport: str) -> None:
    kit = PluginRunner(sb)
    async with kit(Responder, transport=transport) as bot, aiohttp.ClientSession() as http:  # type: ignore[arg-type]
        url = kit.settings_page(bot, FIRST)
        async with http.get(url) as resp:
            assert resp.status == 200
            page = await resp.text()
            csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors https://app.crisp.chat" in csp
        assert resp.headers["Cache-Control"] == "no-store"
        # not no-referrer: the browser would then post the form with "Origin: null"
        assert resp.headers["Referrer-Policy"] == "same-origin"
        assert ">Bonjour</textarea>" in page and "Answer visitors" in page
        assert '<option value="formal" selected>' in page
        assert 'min="0"' in page and 'max="60"' in page and "Seconds before answering" in page
        token = sb.store.websites[FIRST].token
        assert token not in page and sb.key not in page and sb.secret not in page  # no secret

        form = {**hidden(page), "enabled": "on", "message": "Saved here", "tone": "friendly",
                "delay": "5"}  # fmt: skip
        action = url.split("?")[0]
        async with http.post(action, data=form) as resp:
            assert resp.status == 200
            saved = await resp.text()
        assert "Saved." in saved and ">Saved here</textarea>" in saved
        assert sb.store.websites[FIRST].settings == {
            "enabled": True, "message": "Saved here", "tone": "friendly", "delay": 5
        }  # fmt: skip
        assert bot.website_settings(FIRST).message == "Saved here"  # no wait: kept at once
        assert bot.website_settings(SECOND).message == "Hi there"  # the others untouched


async def test_problems_show_next_to_their_field_and_nothing_is_saved(sb: Sandbox) -> None:
    kit = PluginRunner(sb)
    async with kit(Responder, transport="webhooks") as bot, aiohttp.ClientSession() as http:  # type: ignore[arg-type]
        url = kit.settings_page(bot, FIRST)
        async with http.get(url) as resp:
            page = await resp.text()
        form = {**hidden(page), "message": "", "tone": "friendly", "delay": "600"}
        async with http.post(url.split("?")[0], data=form) as resp:
            assert resp.status == 400
            refused = await resp.text()
        assert "Nothing saved" in refused
        assert field_error(refused, "message") is not None
        assert "less than or equal to 60" in (field_error(refused, "delay") or "")
        assert field_error(refused, "tone") is None
        assert sb.store.websites[FIRST].settings == SITES[FIRST]
        assert bot.website_settings(FIRST).message == "Bonjour"


async def test_a_wrong_or_missing_token_gets_401_and_shows_nothing(sb: Sandbox) -> None:
    kit = PluginRunner(sb)
    async with kit(Responder, transport="webhooks") as bot, aiohttp.ClientSession() as http:  # type: ignore[arg-type]
        url = kit.settings_page(bot, FIRST)
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}{parts.path}"
        other = sb.store.websites[SECOND].token
        queries = [
            "",
            f"?website_id={FIRST}",
            f"?website_id={FIRST}&token=nope",
            f"?website_id={FIRST}&token={other}",
            "?website_id=unknown&token=x",
        ]
        for query in queries:
            async with http.get(base + query) as resp:
                assert resp.status == 401, query
                assert "Bonjour" not in await resp.text()
        assert parse_qs(parts.query)["website_id"] == [FIRST]


async def test_a_forged_cross_site_post_changes_nothing(sb: Sandbox) -> None:
    kit = PluginRunner(sb)
    async with kit(Responder, transport="webhooks") as bot, aiohttp.ClientSession() as http:  # type: ignore[arg-type]
        url = kit.settings_page(bot, FIRST)
        async with http.get(url) as resp:
            form = {**hidden(await resp.text()), "message": "forged", "tone": "friendly",
                    "delay": "0"}  # fmt: skip
        action = url.split("?")[0]
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                        {"Origin": "null"}):  # fmt: skip
            async with http.post(action, data=form, headers=headers) as resp:
                assert resp.status == 403, headers
        bad = {**form, "form_token": "0" * 64}
        async with http.post(action, data=bad) as resp:
            assert resp.status == 403
        stale = {**form, "expires": "1"}
        async with http.post(action, data=stale) as resp:
            assert resp.status == 403
        assert sb.store.websites[FIRST].settings == SITES[FIRST]
        await eventually(lambda: bot.website_settings(FIRST).message == "Bonjour")
