"""Answers from the settings' table; a human after too many misses, or on request."""

from __future__ import annotations

import re

from crisp_plugin import Plugin, Router
from crisp_plugin.events import MessageSend
from crisp_plugin.events.base import SessionEvent
from triage.settings import TriageSettings

router = Router("faq")


@router.on("message:send", step="faq")
async def answer(event: MessageSend, plugin: Plugin[TriageSettings]) -> None:
    text = event.text or ""
    for entry in plugin.settings.answers:
        if re.search(entry.match, text, re.IGNORECASE):
            await event.reply(entry.answer)
            return
    misses = int(event.flow.data.get("misses", 0)) + 1
    if misses >= plugin.settings.misses_before_handoff:
        await hand_off(event, plugin)
        return
    await event.flow.update(misses=misses)
    await event.reply("I don't know that one. Could you say it another way?")


async def hand_off(event: SessionEvent, plugin: Plugin[TriageSettings]) -> None:
    await event.assign(plugin.settings.operator)
    await event.note("The visitor asked for a human (triage bot).")
    await event.reply("I'm passing you to a human. Someone will answer here shortly.")
    await event.flow.goto("human")  # the bot stays silent from here on
