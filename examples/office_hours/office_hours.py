"""Office hours: outside business hours, tell the visitor once when someone will answer.

The hours come from the ``[settings]`` table of ``plugin.toml``::

    [settings]
    timezone = "Europe/Paris"          # any IANA zone name
    days = ["mon", "tue", "wed", "thu", "fri"]
    open = "09:00"
    close = "18:00"
    message = "We're away right now ..."

One auto-reply per conversation: the plugin remembers in ``self.state`` that it
already answered, so a visitor who writes three messages at night gets one reply.

The clock can be pinned for tests or demos with ``now = "2026-11-21T23:00:00+01:00"``
in ``[settings]``, or by overriding the ``now()`` method in a subclass.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_MESSAGE = (
    "Thanks for your message! We're away right now and will answer during office hours."
)


class OfficeHours(Plugin):
    """Auto-replies once per conversation when a visitor writes outside office hours."""

    def now(self) -> datetime:
        """The current time in the configured zone (``now`` in [settings] pins it)."""
        zone = ZoneInfo(str(self.settings.get("timezone", "UTC")))
        pinned = self.settings.get("now")
        if pinned:
            return datetime.fromisoformat(str(pinned)).astimezone(zone)
        return datetime.now(zone)

    def is_open(self, moment: datetime) -> bool:
        options = self.settings
        days = [str(day).lower()[:3] for day in options.get("days", DAY_NAMES[:5])]
        opens = time.fromisoformat(str(options.get("open", "09:00")))
        closes = time.fromisoformat(str(options.get("close", "18:00")))
        return DAY_NAMES[moment.weekday()] in days and opens <= moment.time() < closes

    @on("message:send")
    async def after_hours(self, event: MessageSend) -> None:
        if self.is_open(self.now()):
            return
        conversation = self.state.for_event(event)
        if await conversation.get("away_sent"):
            return  # one auto-reply per conversation
        message = str(self.settings.get("message", DEFAULT_MESSAGE))
        await self.rest.send_message(event.website_id, event.session_id, message)
        await conversation.set("away_sent", True)
