"""The first message of a conversation: a greeting, once, and the topic picker."""

from __future__ import annotations

from crisp_plugin import NO_STEP, Plugin, Router
from crisp_plugin.events import MessageSend
from triage.hours import is_open
from triage.settings import TriageSettings

router = Router("greeting")

TOPICS = [("billing", "Billing"), ("technical", "Technical"), ("human", "A human")]


@router.on("message:send", step=NO_STEP)
async def greet(event: MessageSend, plugin: Plugin[TriageSettings]) -> None:
    scope = plugin.state.for_event(event)
    if await scope.get("greeted"):
        return  # once per conversation, even after a flow ended
    await scope.set("greeted", True)
    hours = plugin.settings
    away = "" if is_open(hours) else f" We're away now; a human answers from {hours.open:%H:%M}."
    await event.reply(f"Hi! I'm the help bot.{away}")
    await event.reply_picker("What is it about?", TOPICS, id="topic")
    await event.flow.goto("choose_topic")


@router.on("message:send", step="choose_topic")
async def pick_first(event: MessageSend) -> None:
    await event.reply_picker("Please pick a topic first:", TOPICS, id="topic")
