"""Fixtures of the transport tests: a sandbox on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from crisp_plugin.sandbox import Sandbox


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(hook_retry_delays=(0.1, 0.2), hook_timeout=2.0)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()
