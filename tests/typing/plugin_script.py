"""A bot author's script using routers, flows, middleware and typed settings: must
type-check under ``mypy --strict`` (see test_mypy.py)."""

from __future__ import annotations

import time
from enum import StrEnum

from pydantic import BaseModel

from crisp_plugin import (
    NO_STEP,
    Event,
    Handler,
    Next,
    Plugin,
    Router,
    on,
)
from crisp_plugin.events import MessageSend
from crisp_plugin.events.derived import FieldAnswer, PickerChoice
from crisp_plugin.rest import SentMessage


class BotSettings(BaseModel):
    greeting: str = "Hi!"
    misses: int = 2


class Step(StrEnum):
    TOPIC = "topic"
    EMAIL = "email"


router = Router("support")


@router.on("message:send", step=NO_STEP)
async def start(event: MessageSend, plugin: Plugin[BotSettings]) -> None:
    greeting: str = plugin.settings.greeting
    sent: SentMessage = await event.reply(greeting)
    print(sent.fingerprint + 1)
    await event.reply_picker("Topic?", [("a", "A"), ("b", "B")], id="topic")
    await event.flow.goto(Step.TOPIC, asked_at=time.time())


@router.on("picker:choice", id="topic", step=Step.TOPIC)
async def chosen(event: PickerChoice) -> None:
    value: str = event.value
    await event.reply_field("E-mail?", id="email", explain="you@x.com")
    await event.flow.goto(Step.EMAIL, topic=value)


@router.on("field:answer", id="email", step=Step.EMAIL)
async def email(event: FieldAnswer) -> None:
    topic = event.flow.data["topic"]
    await event.set_meta(email=event.value, data={"topic": str(topic)})
    await event.note(f"e-mail {event.value}", mentions=["operator-1"])
    await event.typing(False)
    await event.flow.finish()
    await event.resolve()


@router.middleware
async def timed(event: Event, call_next: Next) -> None:
    started = time.monotonic()
    await call_next(event)
    print(event.name, time.monotonic() - started)


@router.inner_middleware
async def named(event: Event, call_next: Next, handler: Handler) -> None:
    print(handler.name, handler.router)
    await call_next(event)


class Support(Plugin[BotSettings]):
    @on("message:send", text="(?i)human")
    async def human(self, event: MessageSend) -> None:
        misses: int = self.settings.misses
        await event.assign(None if misses else "operator-1", silent=True)
        event.stop()


Support.include_router(router)
