"""Office hours: outside business hours, tell the visitor once when someone will answer.

The hours are the plugin's typed ``[settings]`` (see plugin.toml); ``check`` refuses a
typo in them::

    [settings]
    timezone = "Europe/Paris"          # any IANA zone name
    days = ["mon", "tue", "wed", "thu", "fri"]
    open = "09:00"
    close = "18:00"
    message = "We're away right now ..."

One auto-reply per conversation: the plugin remembers in ``self.state`` that it
already answered, so a visitor who writes three messages at night gets one reply.
The clock can be pinned for tests or demos with ``now = "2026-11-21T23:00:00+01:00"``.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HoursSettings(BaseModel):
    timezone: str = "UTC"
    days: list[str] = Field(default_factory=lambda: list(DAY_NAMES[:5]))
    open: time = time(9)
    close: time = time(18)
    message: str = (
        "Thanks for your message! We're away right now and will answer during office hours."
    )
    now: datetime | None = None


class OfficeHours(Plugin[HoursSettings]):
    """Auto-replies once per conversation when a visitor writes outside office hours."""

    def now(self) -> datetime:
        """The current time in the configured zone (``now`` in [settings] pins it)."""
        zone = ZoneInfo(self.settings.timezone)
        pinned = self.settings.now
        return pinned.astimezone(zone) if pinned else datetime.now(zone)

    def is_open(self, moment: datetime) -> bool:
        hours = self.settings
        days = [day.lower()[:3] for day in hours.days]
        return DAY_NAMES[moment.weekday()] in days and hours.open <= moment.time() < hours.close

    @on("message:send")
    async def after_hours(self, event: MessageSend) -> None:
        if self.is_open(self.now()):
            return
        conversation = self.state.for_event(event)
        if await conversation.get("away_sent"):
            return  # one auto-reply per conversation
        await event.reply(self.settings.message)
        await conversation.set("away_sent", True)
