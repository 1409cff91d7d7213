"""In-memory ``StateStore``: fast, per process, gone on restart.

Values are stored as JSON text so they behave exactly as in the other backends
(a value read back is a fresh copy; a non-JSON value is refused at ``set``).
Expired values are dropped when read and by a sweep every few thousand writes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from crisp_plugin.state.base import StateStore, encode

__all__ = ["MemoryState"]

_SWEEP_EVERY = 4096


class MemoryState(StateStore):
    """Dict of scopes of ``key -> (json, expires_at | None)``."""

    def __init__(
        self,
        *,
        default_ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(default_ttl=default_ttl)
        self._data: dict[str, dict[str, tuple[str, float | None]]] = {}
        self._clock = clock
        self._writes = 0

    def _live(self, scope: str, key: str) -> str | None:
        entries = self._data.get(scope)
        if not entries:
            return None
        found = entries.get(key)
        if found is None:
            return None
        text, expires = found
        if expires is not None and expires <= self._clock():
            del entries[key]
            if not entries:
                del self._data[scope]
            return None
        return text

    async def get(self, scope: str, key: str, default: Any = None) -> Any:
        text = self._live(scope, key)
        return default if text is None else json.loads(text)

    async def set(self, scope: str, key: str, value: Any, *, ttl: float | None = None) -> None:
        text = encode(value)
        ttl = self._ttl(ttl)
        expires = None if ttl is None else self._clock() + ttl
        self._data.setdefault(scope, {})[key] = (text, expires)
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self.sweep()

    async def delete(self, scope: str, key: str) -> bool:
        if self._live(scope, key) is None:
            return False
        entries = self._data[scope]
        del entries[key]
        if not entries:
            del self._data[scope]
        return True

    async def items(self, scope: str) -> dict[str, Any]:
        out = {}
        for key in list(self._data.get(scope, {})):
            text = self._live(scope, key)
            if text is not None:
                out[key] = json.loads(text)
        return out

    async def clear(self, scope: str) -> None:
        self._data.pop(scope, None)

    def sweep(self) -> int:
        """Drop every expired value now; returns how many."""
        now = self._clock()
        dropped = 0
        for scope in list(self._data):
            entries = self._data[scope]
            for key in [k for k, (_, exp) in entries.items() if exp is not None and exp <= now]:
                del entries[key]
                dropped += 1
            if not entries:
                del self._data[scope]
        return dropped
