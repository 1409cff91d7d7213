"""FAQ: answer common questions from a table, hand over to a human on request.

The table lives in the typed ``[settings]`` of ``plugin.toml``::

    [settings]
    handoff = '(?i)\\b(human|agent|operator)\\b'
    # operator = "<user_id>"     # who takes over; default: the website's first operator

    [[settings.answers]]
    match = '(?i)\\b(price|pricing|cost)\\b'
    answer = "Plans start at 25 EUR a month."

A visitor's text is tried against each ``match`` (a regular expression) in order; the
first hit is answered. Asking for a human assigns the conversation to an operator
(``PATCH .../routing``) and the bot stays silent in that conversation from then on:
the hand-off is remembered in ``self.state``.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend

HANDOFF_REPLY = "Sure, I'm passing you to a human. Someone will answer here shortly."


class Answer(BaseModel):
    match: str  # a regular expression
    answer: str


class FaqSettings(BaseModel):
    handoff: str = r"(?i)\b(human|agent)\b"
    operator: str | None = None
    answers: list[Answer] = Field(default_factory=list)


class FAQ(Plugin[FaqSettings]):
    """Answers from a keyword table; hands the conversation to an operator on request."""

    def answer_for(self, text: str) -> str | None:
        for entry in self.settings.answers:
            if re.search(entry.match, text):
                return entry.answer
        return None

    async def operator_for(self, website_id: str) -> str | None:
        """The operator to hand over to: ``operator`` in [settings], else the first one."""
        if self.settings.operator:
            return self.settings.operator
        operators = await self.rest.website.list_website_operators(website_id)
        for operator in operators or []:
            user_id = (operator.get("details") or {}).get("user_id")
            if user_id:
                return str(user_id)
        return None

    @on("message:send", type="text")
    async def answer(self, event: MessageSend) -> None:
        conversation = self.state.for_event(event)
        if await conversation.get("handed_off"):
            return  # a human has it now
        text = event.text or ""
        if re.search(self.settings.handoff, text):
            await conversation.set("handed_off", True)
            await event.assign(await self.operator_for(event.website_id))
            await event.reply(HANDOFF_REPLY)
            return
        reply = self.answer_for(text)
        if reply is not None:
            await event.reply(reply)
