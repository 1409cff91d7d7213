"""Fixtures for the tests of what the instances of a plugin share through Redis: a
real redis-server per test (``redis_server``)."""

from __future__ import annotations

from tests.redis_server import redis_server

__all__ = ["redis_server"]
