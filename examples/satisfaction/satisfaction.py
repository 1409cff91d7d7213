"""Satisfaction: ask for a rating when a conversation is resolved, and record it.

When an operator resolves a conversation (``session:set_state`` to ``resolved``) the
bot sends a ``picker`` with five ratings. The visitor's choice arrives as a
``picker:choice`` event; the bot records it in ``self.state`` and in the conversation's
meta data (``{"rating": "5"}``, visible in the Crisp inbox), and thanks the visitor.
"""

from __future__ import annotations

from crisp_plugin import Plugin, on
from crisp_plugin.events import PickerChoice, SessionSetState

PICKER_ID = "satisfaction"
RATINGS = [("5", "Excellent"), ("4", "Good"), ("3", "Okay"), ("2", "Poor"), ("1", "Bad")]


class Satisfaction(Plugin):
    """Sends a rating picker on resolve and stores the visitor's choice."""

    @on("session:set_state", when=lambda event: event.state == "resolved")
    async def resolved(self, event: SessionSetState) -> None:
        conversation = self.state.for_event(event)
        if await conversation.get("rating_asked"):
            return  # resolved again: ask once
        await conversation.set("rating_asked", True)
        await event.reply_picker(
            "Thanks for chatting with us! How did we do?", RATINGS, id=PICKER_ID
        )

    @on("picker:choice", id=PICKER_ID)
    async def rated(self, event: PickerChoice) -> None:
        await self.state.for_event(event).set("rating", event.value)
        await event.set_meta(data={"rating": event.value})
        await event.reply("Thank you for your feedback!")
