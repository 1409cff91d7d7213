"""A bot author's mistakes: ``mypy --strict`` must reject each line marked ``# wrong``."""

from __future__ import annotations

from pydantic import BaseModel

from crisp_plugin import Plugin, Router
from crisp_plugin.events import MessageSend


class BotSettings(BaseModel):
    greeting: str = "Hi!"


router = Router()


@router.on("message:send")
async def start(event: MessageSend, plugin: Plugin[BotSettings]) -> None:
    await event.reply(42)  # wrong
    await event.reply_picker("Topic?", [1, 2])  # wrong
    await event.flow.goto(3)  # wrong
    count: int = plugin.settings.greeting  # wrong
    await event.set_state("done")  # wrong
    print(count)


@router.on("message:send", step=7)  # wrong
async def step_of_the_wrong_type(event: MessageSend) -> None: ...
