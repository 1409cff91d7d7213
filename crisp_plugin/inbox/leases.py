"""Leases on Redis: which instance owns what, for how long, with fencing tokens.

A lease is a key holding ``<instance>:<token>`` with a TTL. Taking a free one draws a
new token from a counter (``INCR``), so every holder of a given lease has a greater
token than the one before; renewing checks the value is still ours before extending it.
An instance that cannot renew (it stalled, or lost Redis) stops acting on what the lease
covers once its own clock says the TTL ran out: by then another may hold it.

:class:`PartitionLeases` spreads ``partitions`` leases over the live instances (each
heartbeats into a sorted set): every instance aims at ``ceil(partitions / live)``,
takes free partitions while under that share and lets go of extras while over it, so
instances joining or leaving rebalance within a few renewal periods.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from crisp_plugin.redis_client import RedisLink

__all__ = ["Lease", "PartitionLeases", "instance_id"]

log = structlog.get_logger("crisp_plugin.inbox")

_TAKE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def instance_id() -> str:
    """A name for this process among the instances (unique per start)."""
    return uuid.uuid4().hex[:12]


class Lease:
    """One lease key: take, renew, release; ``valid`` by this process's own clock."""

    __slots__ = ("_link", "_release", "_renew", "_take", "fence_key", "key", "owner", "ttl")

    def __init__(self, link: RedisLink, name: str, owner: str, ttl: float) -> None:
        self._link = link
        self.key = link.key("lease", name)
        self.fence_key = link.key("fence", name)
        self.owner = owner
        self.ttl = ttl
        client: Any = link.client
        self._take = client.register_script(_TAKE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def _value(self, token: int) -> str:
        return f"{self.owner}:{token}"

    async def take(self) -> int | None:
        """The new fencing token when the lease was free, else ``None``."""
        token = await self._take(
            keys=[self.key, self.fence_key], args=[self.owner, int(self.ttl * 1000)]
        )
        return int(token) or None

    async def renew(self, token: int) -> bool:
        """True when it is still ours (and now extended)."""
        return bool(await self._renew(keys=[self.key], args=[self._value(token), self._ms()]))

    async def release(self, token: int) -> None:
        """Let it go, if it is still ours."""
        await self._release(keys=[self.key], args=[self._value(token)])

    async def holder(self) -> str | None:
        """``<instance>:<token>`` of whoever holds it now."""
        value: bytes | str | None = await self._link.client.get(self.key)
        if isinstance(value, bytes):
            return value.decode()
        return value

    def _ms(self) -> int:
        return int(self.ttl * 1000)


class PartitionLeases:
    """This instance's share of the partitions, kept current in the background.

    ``on_gained(partition, token)`` and ``on_lost(partition)`` are called as the share
    changes; ``leaving`` holds the partitions over the share, which take nothing new, and
    ``releasable(partition)`` says whether one can be let go now (its events in flight
    are done)."""

    def __init__(
        self,
        link: RedisLink,
        *,
        partitions: int,
        ttl: float,
        owner: str,
        on_gained: Callable[[int, int], Awaitable[None]],
        on_lost: Callable[[int], None],
        releasable: Callable[[int], bool],
    ) -> None:
        self._link = link
        self.partitions = partitions
        self.ttl = ttl
        self.owner = owner
        self._leases = [Lease(link, f"partition:{p}", owner, ttl) for p in range(partitions)]
        self._members = link.key("instances")
        # The instances that read batch entries (redis_entries): while one that does not
        # is live (an older version, mid-deploy), events are written one entry each.
        self._batch_readers = link.key("instances", "batches")
        self.everyone_reads_batches = False  # known after the first round
        self._on_gained = on_gained
        self._on_lost = on_lost
        self._releasable = releasable
        self.owned: dict[int, int] = {}  # partition -> fencing token
        self.leaving: set[int] = set()  # owned, over the share: to let go once idle
        self._renewed: dict[int, float] = {}  # partition -> monotonic time of the last renewal
        self.live = 1
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._first = abs(zlib.crc32(owner.encode())) % max(1, partitions)
        self.failures = 0

    @property
    def period(self) -> float:
        """Seconds between two renewals: a third of the TTL."""
        return self.ttl / 3

    def valid(self, partition: int, token: int) -> bool:
        """True while ``partition`` is ours with ``token`` and not past its TTL by our
        clock (a renewal that failed for a whole TTL means another may hold it)."""
        if self.owned.get(partition) != token:
            return False
        return time.monotonic() - self._renewed.get(partition, 0.0) < self.ttl

    async def start(self) -> None:
        """One round now (so the first partitions are taken before events flow), then
        rounds every ``period`` in the background."""
        await self._round()
        self._task = asyncio.create_task(self._loop(), name="crisp-partition-leases")

    async def stop(self) -> None:
        """Stop renewing and let every partition go (another instance takes them)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for partition, token in list(self.owned.items()):
            self._drop(partition)
            try:
                await self._leases[partition].release(token)
            except Exception:
                pass  # a lost Redis: the lease runs out on its own
        try:
            await self._link.client.zrem(self._members, self.owner)
            await self._link.client.zrem(self._batch_readers, self.owner)
        except Exception:
            pass

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.period)
                return
            except TimeoutError:
                pass
            try:
                await self._round()
                self.failures = 0
            except Exception as exc:
                self.failures += 1
                log.warning("partition leases: a round failed", error=str(exc))
                self._expire_overdue()

    def _expire_overdue(self) -> None:
        """Without Redis, stop acting on partitions whose TTL ran out by our clock."""
        now = time.monotonic()
        for partition in list(self.owned):
            if now - self._renewed.get(partition, 0.0) >= self.ttl:
                log.warning("partition lease ran out: no longer acting on it", partition=partition)
                self._drop(partition)

    def _drop(self, partition: int) -> None:
        self.leaving.discard(partition)
        if self.owned.pop(partition, None) is not None:
            self._renewed.pop(partition, None)
            self._on_lost(partition)

    async def _round(self) -> None:
        client: Any = self._link.client
        now_ms = int(time.time() * 1000)
        pipe = client.pipeline(transaction=False)
        for members in (self._members, self._batch_readers):
            pipe.zadd(members, {self.owner: now_ms})
            pipe.zremrangebyscore(members, "-inf", now_ms - int(self.ttl * 1000))
            pipe.zcard(members)
        results = await pipe.execute()
        self.live = max(1, int(results[2]))
        self.everyone_reads_batches = int(results[5]) >= int(results[2])
        share = math.ceil(self.partitions / self.live)
        for partition, token in list(self.owned.items()):
            # The clock starts before the call: Redis starts its TTL later than that.
            asked = time.monotonic()
            if await self._leases[partition].renew(token):
                self._renewed[partition] = asked
            else:
                log.warning("partition lease lost to another instance", partition=partition)
                self._drop(partition)
        extra = len(self.owned) - share
        # Over the share: the highest partitions are let go, each once its events in
        # flight are done; meanwhile nothing new is read from them (``leaving``).
        self.leaving = set(sorted(self.owned, reverse=True)[: max(0, extra)])
        if extra > 0:
            for partition in sorted(self.leaving):
                if self._releasable(partition):
                    token = self.owned[partition]
                    self._drop(partition)
                    await self._leases[partition].release(token)
            return
        for step in range(self.partitions):
            if len(self.owned) >= share:
                break
            partition = (self._first + step) % self.partitions
            if partition in self.owned:
                continue
            asked = time.monotonic()
            taken = await self._leases[partition].take()
            if taken is not None:
                self.owned[partition] = taken
                self._renewed[partition] = asked
                await self._on_gained(partition, taken)
