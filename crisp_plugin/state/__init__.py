"""Per-conversation key-value state (``self.state``): memory and SQLite backends.

``create_state(settings.state)`` builds the backend plugin.toml names. Both backends
implement ``StateStore``; a Redis backend joins by implementing the same five methods.
``store.for_event(event)`` is a ``ScopedState``: the store seen from one conversation.
"""

from __future__ import annotations

from crisp_plugin.config import StateSettings
from crisp_plugin.state.base import ScopedState, StateStore, conversation_scope
from crisp_plugin.state.memory import MemoryState
from crisp_plugin.state.sqlite import SqliteState

__all__ = [
    "MemoryState",
    "ScopedState",
    "SqliteState",
    "StateStore",
    "conversation_scope",
    "create_state",
]


def create_state(settings: StateSettings | None = None) -> StateStore:
    """The store ``[state]`` asks for (memory by default)."""
    settings = settings or StateSettings()
    if settings.backend == "sqlite":
        return SqliteState(settings.path, default_ttl=settings.ttl)
    return MemoryState(default_ttl=settings.ttl)
