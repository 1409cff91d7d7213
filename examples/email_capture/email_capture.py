"""E-mail capture: ask the visitor for an e-mail address and file it.

On a conversation's first visitor message the bot sends a ``field`` message (an input
box in the chat). The answer arrives as ``field:answer`` (the field filled in) or as a
plain text reply. A valid address is stored twice: on the conversation
(``meta.email``) and in the people profiles (created, or updated when one already has
that address). An invalid one gets a polite retry. Progress lives in ``self.state``.
"""

from __future__ import annotations

import re

from crisp_plugin import Plugin, on
from crisp_plugin.errors import APIError
from crisp_plugin.events import FieldAnswer, MessageSend

FIELD_ID = "email"
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


def find_email(text: str) -> str | None:
    """The first e-mail address in ``text``, lower-cased, or None."""
    found = EMAIL.search(text)
    return found.group(0).lower() if found else None


class EmailCapture(Plugin):
    """Asks for an e-mail address once per conversation and stores the answer."""

    @on("message:send")
    async def ask_or_read(self, event: MessageSend) -> None:
        conversation = self.state.for_event(event)
        if await conversation.get("email"):
            return  # already captured
        if not await conversation.get("asked"):
            await conversation.set("asked", True)
            await event.reply_field(
                "Can I have your e-mail address, in case we get cut off?",
                id=FIELD_ID,
                explain="you@example.com",
            )
            return
        await self.capture(event, event.text or "")

    @on("field:answer", id=FIELD_ID)
    async def field_answered(self, event: FieldAnswer) -> None:
        if await self.state.for_event(event).get("email"):
            return
        await self.capture(event, event.value)

    async def capture(self, event: MessageSend | FieldAnswer, answer: str) -> None:
        email = find_email(answer)
        if email is None:
            await event.reply("That doesn't look like an e-mail address. Could you check it?")
            return
        await event.set_meta(email=email)
        await self.save_profile(event.website_id, email)
        await self.state.for_event(event).set("email", email)
        await event.reply(f"Thanks! We'll write to {email} if needed.")

    async def save_profile(self, website_id: str, email: str) -> None:
        """Create the people profile, or update the one that already has this address."""
        profile = {"email": email, "person": {"nickname": email.split("@")[0]}}
        try:
            await self.rest.website.add_new_people_profile(website_id, profile)
        except APIError as exc:
            if exc.reason != "people_exists":
                raise
            await self.rest.update_profile(website_id, email, profile)
