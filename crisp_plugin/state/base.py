"""``StateStore``: the per-conversation key-value store behind ``self.state``.

Values are JSON (dict, list, str, number, bool, None) in every backend, so a plugin
moves from memory to SQLite (or Redis, later) without changing code. Each value lives
in a *scope*; ``conversation(website_id, session_id)`` (or ``for_event(event)``) gives
a view scoped to one conversation:

    convo = self.state.for_event(event)
    step = await convo.get("step", "start")
    await convo.set("step", "asked_email", ttl=3600)

A value expires ``ttl`` seconds after it was set (``ttl=None`` uses the store's
default, ``state.ttl`` in plugin.toml, itself ``None`` for "never"). Expired values
read as absent. A new backend subclasses ``StateStore`` and implements the five
abstract methods.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

from crisp_plugin.events.base import Event

__all__ = ["ScopedState", "StateStore", "conversation_scope", "encode"]


def conversation_scope(website_id: str, session_id: str) -> str:
    """The scope name of one conversation."""
    return f"{website_id}/{session_id}"


def encode(value: Any) -> str:
    """JSON text of a value; ``TypeError`` naming the type when it is not JSON."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"state values must be JSON (dict, list, str, number): {exc}") from None


class StateStore(ABC):
    """Scoped key-value store with per-value TTL. Subclass for a new backend."""

    def __init__(self, *, default_ttl: float | None = None) -> None:
        self.default_ttl = default_ttl

    def _ttl(self, ttl: float | None) -> float | None:
        return self.default_ttl if ttl is None else ttl

    @abstractmethod
    async def get(self, scope: str, key: str, default: Any = None) -> Any:
        """The value, or ``default`` when absent or expired."""

    @abstractmethod
    async def set(self, scope: str, key: str, value: Any, *, ttl: float | None = None) -> None:
        """Store a JSON value; it expires after ``ttl`` seconds (None: store default)."""

    @abstractmethod
    async def delete(self, scope: str, key: str) -> bool:
        """Remove a key; True when it existed (and had not expired)."""

    @abstractmethod
    async def items(self, scope: str) -> dict[str, Any]:
        """Every live key and value of a scope."""

    @abstractmethod
    async def clear(self, scope: str) -> None:
        """Remove every key of a scope."""

    async def close(self) -> None:
        """Release resources (connections, files). Idempotent."""
        return None

    def conversation(self, website_id: str, session_id: str) -> ScopedState:
        """A view of the store scoped to one conversation."""
        return ScopedState(self, conversation_scope(website_id, session_id))

    def for_event(self, event: Event) -> ScopedState:
        """The conversation view of an event; ``ValueError`` if it has no session."""
        if not event.website_id or not event.session_id:
            raise ValueError(f"{event.name} does not belong to a conversation")
        return self.conversation(event.website_id, event.session_id)


class ScopedState:
    """``StateStore`` methods bound to one scope (one conversation)."""

    __slots__ = ("scope", "store")

    def __init__(self, store: StateStore, scope: str) -> None:
        self.store = store
        self.scope = scope

    async def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default``."""
        return await self.store.get(self.scope, key, default)

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``."""
        await self.store.set(self.scope, key, value, ttl=ttl)

    async def delete(self, key: str) -> bool:
        """Remove ``key``."""
        return await self.store.delete(self.scope, key)

    async def items(self) -> dict[str, Any]:
        """Every live key and value."""
        return await self.store.items(self.scope)

    async def clear(self) -> None:
        """Forget the conversation."""
        await self.store.clear(self.scope)
