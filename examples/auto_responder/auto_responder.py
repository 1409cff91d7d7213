"""Auto-responder: a marketplace plugin, installed on many websites, each with its own
settings, edited by the website's admins on the settings page the plugin serves.

Each website chooses whether it answers, its welcome message (sent once per
conversation), and its office hours with the message sent outside them. Operators get a
widget in the inbox sidebar: a button that sends the website's canned reply into the
conversation, and a line saying whether the auto-reply went out there already.

    python -m crisp_plugin run examples/auto_responder/plugin.toml

runs it on the embedded sandbox; ``python -m crisp_plugin schema`` / ``widget`` on the
same plugin.toml print what to paste in the Crisp Marketplace (see the README's
"Building a marketplace plugin").
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, Field, field_validator

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend
from crisp_plugin.marketplace import Installation, Marketplace, WidgetAction, widget

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SiteSettings(BaseModel):
    """One website's settings (every field has a default: a new install saved nothing)."""

    enabled: bool = Field(True, title="Answer visitors automatically")
    welcome: str = Field(
        "Hi! Thanks for writing: someone from the team will be with you shortly.",
        title="Welcome message",
        description="Sent once per conversation, during office hours.",
        min_length=1,
        max_length=500,
    )
    timezone: str = Field("UTC", title="Time zone", description="An IANA name: Europe/Paris")
    days: list[Day] = Field(default_factory=lambda: list(DAYS[:5]), title="Open on")
    open: time = Field(time(9), title="Opens at")
    close: time = Field(time(18), title="Closes at")
    away: str = Field(
        "Thanks for your message! We're away right now and will answer when we're back.",
        title="Away message",
        description="Sent once per conversation, outside office hours.",
        min_length=1,
        max_length=500,
    )
    canned: str = Field(
        "Could you tell us a bit more, so we find the right person?",
        title="Canned reply",
        description="What the widget's button sends.",
        min_length=1,
        max_length=500,
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"{value!r} is not a time zone name (try Europe/Paris)")
        return value


def is_open(site: SiteSettings, moment: datetime) -> bool:
    """Whether ``moment`` falls in the website's office hours, in its time zone (``open``
    equal to ``close``: all day; ``close`` before ``open``: through midnight)."""
    local = moment.astimezone(ZoneInfo(site.timezone))
    if DAYS[local.weekday()] not in site.days:
        return False
    now, opens, closes = local.time(), site.open, site.close
    if opens == closes:
        return True  # all day
    if opens < closes:
        return opens <= now < closes
    return now >= opens or now < closes  # overnight, as 22:00-06:00


class AutoResponder(Plugin, Marketplace[SiteSettings]):
    """Answers each conversation once, as its website's settings say."""

    widget_sections = {"auto_reply": "Auto-responder"}

    @on("message:send")
    async def answer(self, event: MessageSend) -> None:
        site = self.website_settings(event)
        if not site.enabled:
            return
        conversation = self.state.for_event(event)
        if await conversation.get("answered"):
            return  # once per conversation
        await conversation.set("answered", True)
        await event.reply(site.welcome if is_open(site, datetime.now(UTC)) else site.away)

    @widget.button("send_canned", section="auto_reply", label="Send the canned reply")
    async def send_canned(self, action: WidgetAction[SiteSettings]) -> None:
        await self.rest.send_message(action.website_id, action.session_id, action.settings.canned)

    @widget.data("status", section="auto_reply", label="Auto-reply")
    async def status(self, action: WidgetAction[SiteSettings]) -> str:
        if not action.settings.enabled:
            return "off for this website"
        conversation = self.state.conversation(action.website_id, action.session_id)
        return "sent" if await conversation.get("answered") else "not sent yet"

    async def on_install(self, site: Installation[SiteSettings]) -> None:
        self.log.info("installed", website_id=site.website_id)

    async def on_uninstall(self, website_id: str) -> None:
        self.log.info("uninstalled", website_id=website_id)
