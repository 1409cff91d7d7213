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

__all__ = ["CrossCopies", "TTLSet"]


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


class CrossCopies:
    """Copies of one event from several sources (RTM and web hooks), paired up.

    For events without an id of their own (no message fingerprint, no timestamp), two
    equal payloads can be two genuine events (a conversation resolved twice) or one
    event delivered twice (once over RTM, once as a web hook). :meth:`arrive` tells
    them apart: a copy is a duplicate when an earlier, not yet paired copy of the same
    key came from a *different* source in the last ``ttl`` seconds (the copies pair up
    and both are forgotten), or when the delivery says it is a redelivery and a copy of
    the key was accepted in the last ``ttl`` seconds. Repeats from one source are never
    duplicates. At most ``max_size`` keys are kept (the oldest go first).
    """

    __slots__ = ("_clock", "_seen", "_unpaired", "max_size", "ttl")

    def __init__(
        self, ttl: float, max_size: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        # key -> (source, unpaired copies, expires_at); insertion order ~ expiry order
        self._unpaired: dict[int, tuple[str, int, float]] = {}
        self._seen = TTLSet(ttl, max_size, clock=clock)

    def __len__(self) -> int:
        return len(self._unpaired)

    def _expire(self, now: float) -> None:
        unpaired = self._unpaired
        while unpaired:
            oldest = next(iter(unpaired))
            if unpaired[oldest][2] > now and len(unpaired) <= self.max_size:
                break
            del unpaired[oldest]

    def arrive(self, key: Hashable, source: str, redelivery: bool = False) -> bool:
        """Record one accepted copy of ``key`` from ``source``; True for a duplicate."""
        if self.ttl <= 0 or self.max_size <= 0:
            return False
        if redelivery and key in self._seen:
            return True
        now = self._clock()
        self._seen.add(key)
        unpaired = self._unpaired
        key = hash(key)  # one small int kept per key, as in TTLSet
        entry = unpaired.pop(key, None)
        if entry is not None and entry[2] <= now:
            entry = None
        if entry is not None and entry[0] != source:
            if entry[1] > 1:
                unpaired[key] = (entry[0], entry[1] - 1, entry[2])
            return True
        count = entry[1] + 1 if entry is not None else 1
        unpaired[key] = (source, count, now + self.ttl)
        self._expire(now)
        return False

    def clear(self) -> None:
        """Forget everything."""
        self._unpaired.clear()
        self._seen.clear()
