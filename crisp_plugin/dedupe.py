"""``TTLSet``: a bounded set of recently seen keys that forget after a TTL.

Used for duplicate deliveries and for the plugin's own sent fingerprints. Keys are
kept in insertion order with their expiry; since the TTL is the same for all, the
oldest key is always the first to expire, so each ``add`` drops expired keys from the
front in O(1) each, and ``max_size`` evicts the oldest when full. Memory is bounded
by ``max_size`` whatever the traffic.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["TTLSet"]


class TTLSet:
    """Keys seen in the last ``ttl`` seconds, at most ``max_size`` of them."""

    __slots__ = ("_clock", "_keys", "max_size", "ttl")

    def __init__(
        self, ttl: float, max_size: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._keys: OrderedDict[Hashable, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def _expire(self, now: float) -> None:
        keys = self._keys
        while keys:
            first = next(iter(keys))
            if keys[first] > now:
                break
            keys.popitem(last=False)

    def __contains__(self, key: Hashable) -> bool:
        expires = self._keys.get(key)
        return expires is not None and expires > self._clock()

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; True when it was already there (a duplicate)."""
        if self.ttl <= 0 or self.max_size <= 0:
            return False
        now = self._clock()
        self._expire(now)
        keys = self._keys
        if key in keys:
            return True
        keys[key] = now + self.ttl
        if len(keys) > self.max_size:
            keys.popitem(last=False)
        return False

    def clear(self) -> None:
        """Forget everything."""
        self._keys.clear()
