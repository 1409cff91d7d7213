"""The inbox between the transports and the dispatcher (``[inbox] backend``).

- ``memory``: the dispatcher's queues only; at most once on a crash.
- ``sqlite``: durable on one machine: committed before the hook is answered, replayed
  after a crash (:mod:`crisp_plugin.inbox.sqlite`).

``create_inbox(config)`` builds the one ``[inbox]`` names.
"""

from __future__ import annotations

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


def create_inbox(config: Config) -> Inbox:
    """The inbox ``[inbox]`` asks for."""
    settings = config.inbox
    if settings.backend == "sqlite":
        dispatch = config.dispatch
        return SqliteInbox(
            settings.path,
            dedupe_ttl=dispatch.dedupe_ttl,
            sent_ttl=max(dispatch.dedupe_ttl, 60.0),
            synchronous=settings.synchronous,
        )
    return MemoryInbox()
