"""``until`` and ``until_async``: wait on a condition, not a fixed time (import them from
``tests.waiting``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    """Poll ``check()`` until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {within:g} s")
        await asyncio.sleep(0.005)


async def until_async(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """``until`` for a check that awaits (a query to a server)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {within:g} s")
        await asyncio.sleep(0.01)
