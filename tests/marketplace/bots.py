"""A marketplace plugin the marketplace tests run: it answers each visitor with its
website's message (when the website turned it on), and a widget button and data item."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend
from crisp_plugin.marketplace import Installation, Marketplace, WidgetAction, widget


class SiteSettings(BaseModel):
    enabled: bool = Field(True, title="Answer visitors")
    message: str = Field("Hello from the default", title="Message", min_length=1, max_length=300)
    tone: Literal["friendly", "formal"] = Field("friendly", title="Tone")
    delay: int = Field(0, ge=0, le=60, title="Delay (s)", description="Seconds before answering")


class Responder(Plugin, Marketplace[SiteSettings]):
    widget_sections = {"replies": "Canned replies"}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.installed: list[str] = []
        self.uninstalled: list[str] = []
        self.changes: list[tuple[str, str, str]] = []

    @on("message:send")
    async def answer(self, event: MessageSend) -> None:
        site = self.website_settings(event)
        if site.enabled:
            await event.reply(f"{site.message} ({site.tone})")

    @widget.button("send_canned", section="replies", label="Send the canned reply", color="blue")
    async def send_canned(self, action: WidgetAction[SiteSettings]) -> None:
        await self.rest.send_message(
            action.website_id, action.session_id, f"canned: {action.settings.message}"
        )

    @widget.data("tone", section="replies", label="Tone", editable=True)
    async def tone(self, action: WidgetAction[SiteSettings]) -> str:
        if action.value is not None:
            return f"asked: {action.value}"
        return action.settings.tone

    @widget.button("explode", section="danger", label="Fail on purpose", color="red")
    async def explode(self, action: WidgetAction[SiteSettings]) -> None:
        raise RuntimeError("this button always fails")

    async def on_install(self, site: Installation[SiteSettings]) -> None:
        self.installed.append(site.website_id)

    async def on_uninstall(self, website_id: str) -> None:
        self.uninstalled.append(website_id)

    async def on_settings_changed(
        self, site: Installation[SiteSettings], before: SiteSettings, after: SiteSettings
    ) -> None:
        self.changes.append((site.website_id, before.message, after.message))
