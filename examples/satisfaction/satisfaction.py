"""Satisfaction: ask for a rating when a conversation is resolved, and record it.

When an operator resolves a conversation (``session:set_state`` to ``resolved``) the
bot sends a ``picker`` message with five ratings. The visitor's choice comes back as
``message:updated`` with the chosen entry ``selected``; the bot records it in
``self.state`` and in the conversation's meta data (``{"rating": "5"}``, visible in
the Crisp inbox), and thanks the visitor.
"""

from __future__ import annotations

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageUpdated, SessionSetState

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
        await self.rest.send_picker(
            event.website_id,
            event.session_id,
            "Thanks for chatting with us! How did we do?",
            RATINGS,
            picker_id=PICKER_ID,
        )

    @on("message:updated")
    async def rated(self, event: MessageUpdated) -> None:
        content = event.content
        if not isinstance(content, dict) or content.get("id") != PICKER_ID:
            return
        chosen = [c for c in content.get("choices", []) if c.get("selected")]
        if not chosen:
            return
        rating = str(chosen[0]["value"])
        await self.state.for_event(event).set("rating", rating)
        await self.rest.update_meta(event.website_id, event.session_id, data={"rating": rating})
        await self.rest.send_message(
            event.website_id, event.session_id, "Thank you for your feedback!"
        )
