"""``TTLSet``: a bounded set of recently seen keys that forget after a TTL.

Used for duplicate deliveries and for the plugin's own sent fingerprints, on the hot
path and at scale (100,000 conversations), so it is built for small memory:

- a key is stored as its 64-bit ``hash()`` (one small int), not as the tuple of
  strings it came from. Two different keys colliding needs ~4 billion keys alive at
  once for a 1-in-a-billion chance: far past ``max_size``.
- keys are grouped in time buckets of ``ttl / 64``; a bucket expires whole. A key is
  remembered at least ``ttl`` seconds and at most ``ttl * 65 / 64``.
- every ``add`` drops expired buckets from the front (O(1) each), and ``max_size``
  evicts the oldest keys when full, so memory is bounded whatever the traffic.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

__all__ = ["TTLSet"]


class TTLSet:
    """Keys seen in the last ``ttl`` seconds, at most ``max_size`` of them."""

    __slots__ = ("_buckets", "_clock", "_grain", "_keys", "_peak", "max_size", "ttl")

    def __init__(
        self, ttl: float, max_size: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._grain = ttl / 64 if ttl > 0 else 1.0
        self._keys: set[int] = set()
        self._peak = 0  # size the set's table was grown for (sets never shrink alone)
        # (expires_at, keys added in that time slot), oldest first
        self._buckets: deque[tuple[float, list[int]]] = deque()

    def __len__(self) -> int:
        return len(self._keys)

    def _expire(self, now: float) -> None:
        buckets, keys = self._buckets, self._keys
        while buckets and buckets[0][0] <= now:
            for key in buckets.popleft()[1]:
                keys.discard(key)
        if self._peak > 4096 and len(keys) < self._peak // 4:
            self._keys = set(keys)  # a right-sized table: memory goes back after a peak
            self._peak = len(keys)

    def __contains__(self, key: Hashable) -> bool:
        if not self._keys:
            return False
        self._expire(self._clock())
        return hash(key) in self._keys

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; True when it was already there (a duplicate)."""
        if self.ttl <= 0 or self.max_size <= 0:
            return False
        now = self._clock()
        buckets = self._buckets
        if buckets and buckets[0][0] <= now:
            self._expire(now)  # may replace self._keys: read it after
        keys = self._keys
        digest = hash(key)
        if digest in keys:
            return True
        keys.add(digest)
        if len(keys) > self._peak:
            self._peak = len(keys)
        expires = (now // self._grain + 1) * self._grain + self.ttl
        if buckets and buckets[-1][0] == expires:
            buckets[-1][1].append(digest)
        else:
            buckets.append((expires, [digest]))
        if len(keys) > self.max_size:
            self._evict_oldest()
        return False

    def _evict_oldest(self) -> None:
        oldest = self._buckets[0][1]
        self._keys.discard(oldest.pop())
        if not oldest:
            self._buckets.popleft()

    def clear(self) -> None:
        """Forget everything."""
        self._keys = set()
        self._buckets.clear()
        self._peak = 0
