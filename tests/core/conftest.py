"""Fixtures for the core tests: a real redis-server for the redis state backend."""

from __future__ import annotations

from tests.redis_server import redis_server

__all__ = ["redis_server"]
