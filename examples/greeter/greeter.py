"""The greeter: the smallest useful bot. It answers a visitor's greeting."""

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend


class Greeter(Plugin):
    @on("message:send", text=r"(?i)\b(hello|hi|hey)\b")
    async def greet(self, event: MessageSend) -> None:
        await event.reply("Hi! How can I help?")
