"""The inbox between the transports and the dispatcher (``[inbox] backend``).

- ``memory``: the dispatcher's queues only; at most once on a crash.
- ``sqlite``: durable on one machine: committed before the hook is answered, replayed
  after a crash (:mod:`crisp_plugin.inbox.sqlite`).
- ``redis``: one inbox for N instances, partitioned by conversation
  (:mod:`crisp_plugin.inbox.redis_streams`).

``create_inbox(config, link)`` builds the one ``[inbox]`` names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crisp_plugin.config import Config
from crisp_plugin.inbox.base import Entry, Inbox, InboxUnavailable, Recovered, stable_key
from crisp_plugin.inbox.memory import MemoryInbox
from crisp_plugin.inbox.sqlite import SqliteInbox

__all__ = [
    "Entry",
    "Inbox",
    "InboxUnavailable",
    "MemoryInbox",
    "Recovered",
    "SqliteInbox",
    "create_inbox",
    "stable_key",
]


if TYPE_CHECKING:
    from crisp_plugin.redis_client import RedisLink


def create_inbox(config: Config, link: RedisLink | None = None) -> Inbox:
    """The inbox ``[inbox]`` asks for (``link``: the Redis one, for ``redis``)."""
    settings = config.inbox
    dispatch = config.dispatch
    if settings.backend == "redis":
        from crisp_plugin.errors import ConfigError
        from crisp_plugin.inbox.redis_streams import RedisInbox

        if link is None:
            raise ConfigError(['inbox.backend = "redis" needs [redis] url'])
        return RedisInbox(
            link,
            partitions=settings.partitions,
            lease_ttl=settings.lease_ttl,
            dedupe_ttl=dispatch.dedupe_ttl,
            sent_ttl=max(dispatch.dedupe_ttl, 60.0),
            in_flight=max(1, min(dispatch.queue_limit, 1000)),
        )
    if settings.backend == "sqlite":
        return SqliteInbox(
            settings.path,
            dedupe_ttl=dispatch.dedupe_ttl,
            sent_ttl=max(dispatch.dedupe_ttl, 60.0),
            synchronous=settings.synchronous,
        )
    return MemoryInbox()
