"""Fixtures for the tests of what the instances of a plugin share through Redis: a
real redis-server per test (``redis_server``), and a sandbox (``sb``) for the REST
limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from crisp_plugin.sandbox import Sandbox
from tests.redis_server import redis_server

__all__ = ["redis_server", "sb"]


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(host="127.0.0.1", port=0) as sandbox:
        yield sandbox
