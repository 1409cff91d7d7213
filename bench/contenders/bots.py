"""The plugins our side runs in the benchmarks, written as a user would write them."""

from __future__ import annotations

import asyncio

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend


class NoopPlugin(Plugin):
    """W1 and memory: a handler that does nothing, so the framework's cost is measured."""

    @on("message:send")
    async def ignore(self, event: MessageSend) -> None:
        return None


class AutoReply(Plugin):
    """W3: answer every visitor message with one text reply (as the Node bot does)."""

    @on("message:send")
    async def reply(self, event: MessageSend) -> None:
        assert event.session_id is not None
        await self.rest.send_message(
            event.website_id, event.session_id, f"auto-reply to {event.fingerprint}"
        )


class Counter(Plugin):
    """W2: count visitor messages; ``reached`` is set when ``expect`` have been seen."""

    seen = 0
    expect = 0
    reached: asyncio.Event | None = None

    @on("message:send")
    async def count(self, event: MessageSend) -> None:
        cls = type(self)
        cls.seen += 1
        if cls.seen == cls.expect and cls.reached is not None:
            cls.reached.set()
