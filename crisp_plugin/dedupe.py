"""Duplicates and echoes: ``TTLSet``, ``CrossCopies``, the ``Deduplicate`` intake step
and the ``DropEchoes`` outer middleware.

``TTLSet`` is a bounded set of recently seen keys that forget after a TTL.

Used for duplicate deliveries and for the plugin's own sent fingerprints, on the hot
path and at scale (100,000 conversations), so it is built for small memory:

- a key is stored as its 64-bit ``hash()`` (one small int), not as the tuple of
  strings it came from. Two different keys colliding needs ~4 billion keys alive at
  once for a 1-in-a-billion chance: far past ``max_size``.
- keys are grouped in time buckets of ``ttl / 64``; a bucket expires whole. A key is
  remembered at least ``ttl`` seconds and at most ``ttl * 65 / 64``.
- every ``add`` drops expired buckets from the front (O(1) each), and ``max_size``
  evicts the oldest keys when full (a 64th of ``max_size`` at a time, oldest first
  inside a bucket too), so memory is bounded whatever the traffic.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

from crisp_plugin.events.base import Event
from crisp_plugin.inbox.base import stable_key
from crisp_plugin.middleware import Next
from crisp_plugin.observer import Observer
from crisp_plugin.settings_models import DispatchSettings
from crisp_plugin.stats import DispatchStats

__all__ = ["CrossCopies", "Deduplicate", "DropEchoes", "TTLSet"]

_FINGERPRINTED = frozenset({"message:send", "message:received"})
_NEVER = float("inf")


class TTLSet:
    """Keys seen in the last ``ttl`` seconds, at most ``max_size`` of them."""

    __slots__ = (
        "_buckets",
        "_chunk",
        "_clock",
        "_first_expiry",
        "_grain",
        "_keys",
        "_off",
        "_peak",
        "_slot",
        "_slot_end",
        "max_size",
        "ttl",
    )

    def __init__(
        self, ttl: float, max_size: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._off = ttl <= 0 or max_size <= 0
        self._clock = clock
        self._grain = ttl / 64 if ttl > 0 else 1.0
        # Keys evicted at once when full: a 64th of the size (a call per add costs more)
        self._chunk = max(1, max_size >> 6)
        self._keys: set[int] = set()
        self._peak = 0  # size the set's table was grown for (sets never shrink alone)
        # (expires_at, keys added in that time slot), oldest first
        self._buckets: deque[tuple[float, deque[int]]] = deque()
        self._first_expiry = _NEVER  # when the oldest bucket expires
        self._slot: deque[int] = deque()  # the newest bucket's keys, taking adds until _slot_end
        self._slot_end = -_NEVER

    def __len__(self) -> int:
        return len(self._keys)

    def _expire(self, now: float) -> None:
        buckets, keys = self._buckets, self._keys
        while buckets and buckets[0][0] <= now:
            for key in buckets.popleft()[1]:
                keys.discard(key)
        self._first_expiry = buckets[0][0] if buckets else _NEVER
        if self._peak > 4096 and len(keys) < self._peak // 4:
            self._keys = set(keys)  # a right-sized table: memory goes back after a peak
            self._peak = len(keys)

    def __contains__(self, key: Hashable) -> bool:
        if not self._keys:
            return False
        now = self._clock()
        if now >= self._first_expiry:
            self._expire(now)
        return hash(key) in self._keys

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; True when it was already there (a duplicate)."""
        if self._off:
            return False
        now = self._clock()
        if now >= self._first_expiry:
            self._expire(now)  # may replace self._keys: read it after
        keys = self._keys
        digest = hash(key)
        if digest in keys:
            return True
        keys.add(digest)
        if now < self._slot_end:
            self._slot.append(digest)
        else:
            self._open_slot(now, digest)
        size = len(keys)
        if size > self._peak:
            self._peak = size
        if size > self.max_size:
            self._evict_oldest()
        return False

    def _open_slot(self, now: float, digest: int) -> None:
        """Start the bucket of the time slot ``now`` falls in, with ``digest``."""
        end = (now // self._grain + 1) * self._grain
        slot = deque((digest,))
        expires = end + self.ttl
        buckets = self._buckets
        if not buckets:
            self._first_expiry = expires
        buckets.append((expires, slot))
        self._slot, self._slot_end = slot, end

    def discard(self, key: Hashable) -> None:
        """Forget ``key`` now (its time bucket keeps a stale digest, which is harmless)."""
        self._keys.discard(hash(key))

    def _evict_oldest(self) -> None:
        """Drop the oldest keys: down to ``max_size`` less a chunk."""
        buckets, keys = self._buckets, self._keys
        excess = len(keys) - self.max_size + self._chunk - 1
        while excess > 0 and buckets:
            oldest = buckets[0][1]
            while oldest and excess > 0:
                digest = oldest.popleft()
                if digest in keys:  # (a discarded key's digest may still be listed)
                    keys.discard(digest)
                    excess -= 1
            if not oldest:
                buckets.popleft()
                if oldest is self._slot:
                    self._slot_end = -_NEVER  # the next add opens a new bucket
        self._first_expiry = buckets[0][0] if buckets else _NEVER

    def clear(self) -> None:
        """Forget everything."""
        self._keys = set()
        self._buckets.clear()
        self._peak = 0
        self._first_expiry = _NEVER
        self._slot_end = -_NEVER


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

    def arrive(
        self, key: Hashable, source: str, redelivery: bool = False, now: float | None = None
    ) -> bool:
        """Record one accepted copy of ``key`` from ``source`` (arrived at ``now``, by
        the clock given; default: now); True for a duplicate."""
        if self.ttl <= 0 or self.max_size <= 0:
            return False
        if redelivery and key in self._seen:
            return True
        if now is None:
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


class Deduplicate:
    """The built-in intake step: a duplicate is dropped before it takes a place in the
    queue (or the inbox), a worker or a line of the log.

    - ``message:send`` / ``message:received`` are keyed by website, session and
      fingerprint for ``dedupe_ttl`` seconds, whatever the source. With ``stable`` keys
      (a durable inbox) the key is a digest every process computes alike, so the
      inbox can keep it and a restart remembers it.
    - Other events carry no id; two equal payloads can be two real events, so a digest
      of the payload is a duplicate only when the earlier copy came from the other
      source (RTM and web hooks) or the delivery is a redelivery, within
      ``dedupe_digest_ttl`` seconds (:class:`CrossCopies`).
    """

    def __init__(
        self, settings: DispatchSettings, stats: DispatchStats, *, stable: bool = False
    ) -> None:
        self.stats = stats
        self.stable = stable
        self._dedupe = TTLSet(settings.dedupe_ttl, settings.dedupe_max)
        self._keyed = settings.dedupe_ttl > 0 and settings.dedupe_max > 0
        self._digests = CrossCopies(settings.dedupe_digest_ttl, settings.dedupe_max)

    def __len__(self) -> int:
        return len(self._dedupe)

    def claim(
        self, event: Event, source: str, redelivery: bool, name: str | None = None
    ) -> tuple[bool, Hashable | None]:
        """``(duplicate, key)``: True (and counted) when ``event`` was already taken;
        ``key`` is the message key now remembered (``None`` for other events). ``name``:
        the event's, when the caller has it at hand."""
        if name is None:
            name = event.name
        key: Hashable | None = None
        if name in _FINGERPRINTED:
            if not self._keyed:
                return False, None  # dedupe_ttl = 0: no key to compute, keep or restore
            fingerprint = getattr(event, "fingerprint", None)
            key = (name, event.website_id, event.session_id, fingerprint)
            if self.stable:
                key = stable_key(key)
            seen = self._dedupe.add(key)
        elif self._digests.ttl <= 0:
            return False, None
        else:
            text = json.dumps(event.raw, sort_keys=True, separators=(",", ":"), default=str)
            digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
            seen = self._digests.arrive((name, digest), source, redelivery)
        if seen:
            self.stats.count("duplicates", name)
            return True, None
        return False, key

    def forget(self, key: Hashable | None) -> None:
        """Undo a claim whose event could not be kept: its redelivery must get in."""
        if key is not None:
            self._dedupe.discard(key)

    def restore(self, keys: Iterable[int]) -> None:
        """Remember keys a durable inbox kept from the last run."""
        for key in keys:
            self._dedupe.add(key)


class DropEchoes(Observer):
    """The built-in outer middleware, first in the worker: the plugin's own messages
    coming back as ``message:received`` (``drop_echoes``) go no further.

    An echo is a message whose origin is the plugin's URN, or whose fingerprint the
    REST client reported sending (this is its :class:`~crisp_plugin.observer.Observer`:
    ``message_sent``). Checked in the conversation's turn, after the handler that sent
    it finished, so the fingerprint is known even when the echo raced the answer. With
    ``remember`` (a durable inbox's ``sent``), each fingerprint is also kept on disk, by
    a stable key, for the next run.
    """

    def __init__(
        self,
        settings: DispatchSettings,
        urn: str,
        stats: DispatchStats,
        *,
        remember: Callable[[int], None] | None = None,
        lookup: Callable[[int], Awaitable[bool]] | None = None,
    ) -> None:
        self.urn = urn
        self.stats = stats
        self.enabled = settings.drop_echoes
        self._remember = remember
        self._lookup = lookup
        self._sent = TTLSet(max(settings.dedupe_ttl, 60.0), max(settings.dedupe_max, 1000))

    async def __call__(self, event: Event, call_next: Next) -> None:
        if not await self.is_echo(event):
            await call_next(event)

    async def is_echo(self, event: Event) -> bool:
        """:meth:`drops`, and when another instance may have sent the message (a shared
        inbox), the fingerprints it recorded."""
        if self.drops(event):
            return True
        if self._lookup is None or not self.enabled or event.name != "message:received":
            return False
        key = self._key(event.website_id, event.session_id, getattr(event, "fingerprint", None))
        if isinstance(key, int) and await self._lookup(key):
            self._sent.add(key)
            self.stats.count("echoes", event.name)
            return True
        return False

    def _key(self, website_id: str | None, session_id: str | None, fingerprint: Any) -> Hashable:
        key = (website_id, session_id, fingerprint)
        return stable_key(key) if self._remember is not None else key

    def message_sent(self, website_id: str, session_id: str, fingerprint: int) -> None:
        key = self._key(website_id, session_id, int(fingerprint))
        self._sent.add(key)
        if self._remember is not None:
            assert isinstance(key, int)
            self._remember(key)

    def restore(self, keys: Iterable[int]) -> None:
        """Remember fingerprints a durable inbox kept from the last run."""
        for key in keys:
            self._sent.add(key)

    def drops(self, event: Event) -> bool:
        """True (and counted) when ``event`` is the plugin's own message coming back."""
        if not self.enabled or event.name != "message:received":
            return False
        if getattr(event, "origin", None) != self.urn:
            fingerprint = getattr(event, "fingerprint", None)
            if self._key(event.website_id, event.session_id, fingerprint) not in self._sent:
                return False
        self.stats.count("echoes", event.name)
        return True
