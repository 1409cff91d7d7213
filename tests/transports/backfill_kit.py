"""Helpers of the RTM recovery tests: a bot that answers every visitor message once and
records what it saw, visitors writing at a steady rate, and the checks of the outcome."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend
from crisp_plugin.sandbox import SandboxControl


class Echo(Plugin):
    """Answers ``re: <text>`` to every visitor message; notes the order it saw them in
    per conversation, and which came from a recovery."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: dict[str, list[str]] = defaultdict(list)
        self.recovered: list[str] = []

    @on("message:send")
    async def answer(self, event: MessageSend) -> None:
        text = event.text or ""
        self.seen[event.session_id].append(text)
        if event.recovered:
            self.recovered.append(text)
        await event.reply(f"re: {text}")


class Visitors:
    """``conversations`` visitors writing ``rate`` messages a second in all, numbered
    ``<conversation>-<n>``, until :meth:`stop`."""

    def __init__(self, control: SandboxControl, sessions: list[str], rate: float) -> None:
        self.control = control
        self.sessions = sessions
        self.rate = rate
        self.sent: dict[str, list[str]] = {s: [] for s in sessions}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.count = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        period = 1.0 / self.rate
        began = time.monotonic()
        while not self._stop.is_set():
            session = self.sessions[self.count % len(self.sessions)]
            text = f"{self.sessions.index(session)}-{len(self.sent[session])}"
            self.sent[session].append(text)
            self.count += 1
            # one message after the other: each conversation's order is the test's point
            await self.control.visitor_says(None, session, text)
            due = began + self.count * period
            pause = due - time.monotonic()
            if pause > 0:  # the pace of the load, not a wait for a result
                try:
                    await asyncio.wait_for(self._stop.wait(), pause)
                except TimeoutError:
                    pass

    async def stop(self) -> int:
        """Stop writing; how many messages were written."""
        self._stop.set()
        if self._task is not None:
            await self._task
        return self.count


async def wait_for_replies(
    control: SandboxControl,
    visitors: Visitors,
    timeout: float = 20.0,  # noqa: ASYNC109
) -> dict[str, list[str]]:
    """Wait until every visitor message has a reply; the replies per conversation."""
    deadline = time.monotonic() + timeout
    while True:
        replies = {}
        for session in visitors.sessions:
            transcript = await control.transcript(None, session)
            replies[session] = [
                str(m["content"]) for m in transcript if m.get("from") == "operator"
            ]
        if all(len(replies[s]) >= len(visitors.sent[s]) for s in visitors.sessions):
            return replies
        if time.monotonic() > deadline:
            missing = sum(len(visitors.sent[s]) - len(replies[s]) for s in visitors.sessions)
            raise AssertionError(f"{missing} visitor messages still without a reply")
        await asyncio.sleep(0.1)


def assert_each_answered_once_in_order(
    bot: Echo, visitors: Visitors, replies: dict[str, list[str]]
) -> None:
    for session in visitors.sessions:
        sent = visitors.sent[session]
        assert bot.seen[session] == sent, f"{session}: handled {bot.seen[session]} of {sent}"
        assert replies[session] == [f"re: {t}" for t in sent]
