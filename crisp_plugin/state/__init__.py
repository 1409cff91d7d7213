"""Per-conversation key-value state (``self.state``): memory, SQLite and Redis backends.

``create_state(config, link)`` builds the backend plugin.toml names. Every backend
implements ``StateStore``; ``store.for_event(event)`` is a ``ScopedState``: the store
seen from one conversation. The Redis backend (``RedisState``) is imported on use, so
this package loads without redis-py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crisp_plugin.config import Config, StateSettings
from crisp_plugin.errors import ConfigError
from crisp_plugin.state.base import ScopedState, StateStore, conversation_scope
from crisp_plugin.state.memory import MemoryState
from crisp_plugin.state.sqlite import SqliteState

if TYPE_CHECKING:
    from crisp_plugin.redis_client import RedisLink
    from crisp_plugin.state.redis_store import RedisState

__all__ = [
    "MemoryState",
    "RedisState",
    "ScopedState",
    "SqliteState",
    "StateStore",
    "conversation_scope",
    "create_state",
]


def __getattr__(name: str) -> Any:
    if name == "RedisState":
        from crisp_plugin.state.redis_store import RedisState

        return RedisState
    raise AttributeError(f"module 'crisp_plugin.state' has no attribute {name!r}")


def create_state(
    config: Config | StateSettings | None = None, link: RedisLink | None = None
) -> StateStore:
    """The store ``[state]`` asks for (memory by default).

    For ``backend = "redis"`` pass the whole ``Config`` and, to share one pool with the
    REST limits, the ``RedisLink`` from ``open_redis(config)``: the store then leaves
    the link open on ``close()``. Without a link the store opens its own from
    ``[redis]`` (connecting on first use) and closes it with itself. Given only
    ``[state]`` (a ``StateSettings``) a redis backend is a ``ConfigError``: the URL
    lives in ``[redis]``.
    """
    if isinstance(config, Config):
        settings = config.state
    else:
        settings = config or StateSettings()
    if settings.backend == "sqlite":
        return SqliteState(settings.path, default_ttl=settings.ttl)
    if settings.backend == "redis":
        from crisp_plugin.state.redis_store import RedisState

        if link is not None:
            return RedisState(link, default_ttl=settings.ttl)
        if not isinstance(config, Config):
            raise ConfigError(
                [
                    'state.backend = "redis" needs [redis]: build the store with '
                    "create_state(config, link), config the whole plugin.toml"
                ]
            )
        from crisp_plugin.redis_client import redis_link

        return RedisState(redis_link(config), default_ttl=settings.ttl, owns_link=True)
    return MemoryState(default_ttl=settings.ttl)
