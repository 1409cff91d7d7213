"""One running marketplace plugin, three websites with different settings: different
replies; uninstall stops a website's replies and reinstall brings them back; a settings
change applies to the next event without a REST call per event; bad stored settings
are logged and defaulted."""

from __future__ import annotations

from typing import Any

import pytest

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import PluginRunner
from tests.marketplace.bots import Responder
from tests.marketplace.conftest import SITES
from tests.transports.transport_kit import eventually

FIRST, SECOND, THIRD = SITES


def operator_texts(sb: Sandbox, website_id: str, session_id: str) -> list[str]:
    conv = sb.store.websites[website_id].conversations[session_id]
    return [m["content"] for m in conv.messages if m["from"] == "operator"]


def settings_calls(sb: Sandbox) -> list[dict[str, Any]]:
    return [
        r
        for r in sb.requests
        if "/plugins/subscription/" in r["path"] or "/connect/websites" in r["path"]
    ]


@pytest.mark.parametrize("transport", ["rtm", "webhooks"])
async def test_each_website_gets_its_own_reply_and_uninstall_stops_it(
    sb: Sandbox, transport: str
) -> None:
    kit = PluginRunner(sb)
    async with kit(Responder, transport=transport) as bot:  # type: ignore[arg-type]
        assert sorted(s.website_id for s in bot.installations) == sorted(SITES)
        assert sorted(bot.installed) == sorted(SITES)
        sessions = {w: await sb.control.create_conversation(w) for w in SITES}
        for website_id, session in sessions.items():
            await sb.control.visitor_says(website_id, session, "hello")
        await kit.settle()
        assert operator_texts(sb, FIRST, sessions[FIRST]) == ["Bonjour (formal)"]
        assert operator_texts(sb, SECOND, sessions[SECOND]) == ["Hi there (friendly)"]
        assert operator_texts(sb, THIRD, sessions[THIRD]) == []  # turned off there

        before = len(settings_calls(sb))
        await sb.control.uninstall(SECOND)
        await eventually(lambda: SECOND not in bot.installations)
        assert bot.uninstalled == [SECOND]
        await sb.control.visitor_says(SECOND, sessions[SECOND], "still there?")
        await kit.settle()
        assert operator_texts(sb, SECOND, sessions[SECOND]) == ["Hi there (friendly)"]

        await sb.control.install(SECOND)
        await eventually(lambda: SECOND in bot.installations)
        await sb.control.visitor_says(SECOND, sessions[SECOND], "back?")
        await kit.settle()
        assert operator_texts(sb, SECOND, sessions[SECOND])[-1] == "Hi there (friendly)"
        # The reinstall read that website's settings once (its token comes with them).
        assert len(settings_calls(sb)) == before + 1


async def test_saved_settings_apply_to_the_next_event_with_no_call_per_event(
    sb: Sandbox,
) -> None:
    kit = PluginRunner(sb)
    async with kit(Responder, transport="rtm") as bot:  # type: ignore[arg-type]
        session = await sb.control.create_conversation(FIRST)
        await sb.control.save_settings(FIRST, {"message": "Changed", "tone": "friendly"})
        await eventually(lambda: bot.website_settings(FIRST).message == "Changed")
        assert bot.changes == [(FIRST, "Bonjour", "Changed")]
        calls = len(sb.requests)
        for i in range(5):
            await sb.control.visitor_says(FIRST, session, f"m{i}")
        await kit.settle()
        assert operator_texts(sb, FIRST, session) == ["Changed (friendly)"] * 5
        sent = [r for r in sb.requests[calls:] if r["method"] == "POST"]
        assert len(sb.requests) - calls == len(sent) == 5  # the five replies, nothing else


async def test_settings_that_do_not_fit_are_logged_once_and_defaulted(
    sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    await sb.control.save_settings(THIRD, {"message": "", "delay": 600, "tone": "rude"})
    kit = PluginRunner(sb)
    async with kit(Responder, transport="rtm") as bot:  # type: ignore[arg-type]
        site = bot.website_settings(THIRD)
        assert (site.message, site.delay, site.tone, site.enabled) == (
            "Hello from the default", 0, "friendly", True,
        )  # fmt: skip
        assert bot.installation(THIRD) is not None
        assert bot.installation(THIRD).raw["delay"] == 600  # type: ignore[union-attr]
    err = capsys.readouterr()
    text = err.out + err.err
    for field in ("message", "delay", "tone"):
        assert text.count(f"field={field}") + text.count(f'"field": "{field}"') == 1, text


async def test_a_plain_plugin_tracks_no_installations(sb: Sandbox) -> None:
    from crisp_plugin import Plugin, on
    from crisp_plugin.events import MessageSend

    class Plain(Plugin):
        @on("message:send")
        async def answer(self, event: MessageSend) -> None:
            await event.reply("plain")

    kit = PluginRunner(sb)
    async with kit(Plain, transport="rtm") as bot:
        assert "plugin:settings:saved" not in bot.subscribed_events()
        session = await sb.control.create_conversation(THIRD)
        await sb.control.visitor_says(THIRD, session, "hi")
        await kit.settle()
    assert operator_texts(sb, THIRD, session) == ["plain"]
    assert not [r for r in sb.requests if "/connect/websites" in r["path"]]
