"""The topic choice, and the visitor's e-mail: filed in the conversation and the
contacts (people profiles)."""

from __future__ import annotations

import re

from crisp_plugin import Plugin, Router
from crisp_plugin.errors import APIError
from crisp_plugin.events import MessageSend
from crisp_plugin.events.derived import FieldAnswer, PickerChoice
from triage.faq import hand_off
from triage.settings import TriageSettings

router = Router("contact")

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}")


@router.on("picker:choice", id="topic", step="choose_topic")
async def topic(event: PickerChoice, plugin: Plugin[TriageSettings]) -> None:
    if event.value == "human":
        await hand_off(event, plugin)
        return
    await event.reply_field("Your e-mail, in case we get cut off?", id="email", explain="you@x.com")
    await event.flow.goto("ask_email", topic=event.value)


@router.on("field:answer", id="email", step="ask_email")
async def email_field(event: FieldAnswer, plugin: Plugin[TriageSettings]) -> None:
    await save_email(event, event.value, plugin)


@router.on("message:send", step="ask_email")
async def email_typed(event: MessageSend, plugin: Plugin[TriageSettings]) -> None:
    await save_email(event, event.text or "", plugin)


async def save_email(
    event: FieldAnswer | MessageSend, answer: str, plugin: Plugin[TriageSettings]
) -> None:
    found = EMAIL.search(answer)
    if found is None:
        await event.reply("That doesn't look like an e-mail address. Could you check it?")
        return
    email = found.group(0).lower()
    await event.set_meta(email=email)
    profile = {"email": email, "person": {"nickname": email.split("@")[0]}}
    try:
        await plugin.rest.website.add_new_people_profile(event.website_id, profile)
    except APIError as exc:
        if exc.reason != "people_exists":
            raise
        await plugin.rest.update_profile(event.website_id, email, profile)
    await event.reply(f"Thanks! Ask me about {event.flow.data['topic']}.")
    await event.flow.goto("faq", email=email, misses=0)
