"""FAQ: answer common questions from a table, hand over to a human on request.

The table lives in the ``[settings]`` table of ``plugin.toml``::

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

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend

HANDOFF_REPLY = "Sure, I'm passing you to a human. Someone will answer here shortly."


class FAQ(Plugin):
    """Answers from a keyword table; hands the conversation to an operator on request."""

    def answer_for(self, text: str) -> str | None:
        for entry in self.settings.get("answers", []):
            if re.search(str(entry["match"]), text):
                return str(entry["answer"])
        return None

    async def operator_for(self, website_id: str) -> str | None:
        """The operator to hand over to: ``operator`` in [settings], else the first one."""
        configured = self.settings.get("operator")
        if configured:
            return str(configured)
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
        if re.search(str(self.settings.get("handoff", r"(?i)\b(human|agent)\b")), text):
            await conversation.set("handed_off", True)
            operator = await self.operator_for(event.website_id)
            await self.rest.assign(event.website_id, event.session_id, operator)
            await self.rest.send_message(event.website_id, event.session_id, HANDOFF_REPLY)
            return
        reply = self.answer_for(text)
        if reply is not None:
            await self.rest.send_message(event.website_id, event.session_id, reply)
