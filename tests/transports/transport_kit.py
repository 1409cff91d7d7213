"""Helpers of the transport tests: settings that point at a sandbox, a plugin that
records what reached its handler, and a polling wait."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from crisp_plugin import Config, Plugin, on
from crisp_plugin.events import Event
from crisp_plugin.sandbox import Sandbox
from tests.waiting import until


class Recorder(Plugin):
    """Remembers every visitor message its handler saw, in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[str, str | None]] = []
        self.arrived = asyncio.Event()

    @on("message:send")
    async def visitor_message(self, event: Event) -> None:
        self.seen.append((event.name, getattr(event, "text", None)))
        self.arrived.set()

    async def next_text(self, timeout: float = 5.0) -> str | None:  # noqa: ASYNC109
        """Wait for the next message (after the ones already read)."""
        async with asyncio.timeout(timeout):
            while True:
                await self.arrived.wait()
                self.arrived.clear()
                if self.seen:
                    return self.seen[-1][1]


def settings_for(sb: Sandbox, transport: str = "rtm", **sections: dict[str, Any]) -> Config:
    """Config of a plugin run against ``sb`` (an external sandbox), port 0 for hooks."""
    data: dict[str, Any] = {
        "plugin": {"class": "tests:Unused", "urn": "urn:crisp-plugin:test:1"},
        "crisp": {"identifier": sb.identifier, "key": sb.key, "api_url": sb.url},
        "events": {"transport": transport},
        "webhooks": {"host": "127.0.0.1", "port": 0, "secret": sb.secret},
        "rtm": {"reconnect_delay": 0.05, "reconnect_max": 0.5, "auth_timeout": 5},
        "dispatch": {"drain_timeout": 5},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return Config.model_validate(data)


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait until ``check()`` is true (:func:`tests.waiting.until`)."""
    await until(check, timeout)
