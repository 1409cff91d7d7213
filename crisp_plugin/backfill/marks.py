"""Where recovery keeps what must outlive a run: the moment the relay was last heard
(a :class:`~crisp_plugin.transports.gaps.HeardMarks`) and the REST calls recovery
spent today (:class:`RecoveryLedger`).

- :class:`StoreMarks`: in the plugin's state store (``[state] backend``), in a scope of
  the framework's own. SQLite survives a restart; memory is per process, so a restart
  remembers nothing (recovery then covers drops within one run); Redis is shared.
- :class:`LeaseMarks`: on Redis beside the relay lease (``inbox.backend = "redis"``).
  Only the instance holding the lease writes the mark (checked in the same script, so
  an instance that lost the lease cannot move it), and whoever takes the relay next
  reads it: a takeover recovers from the previous holder's last save.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from crisp_plugin.state.base import StateStore

if TYPE_CHECKING:
    from crisp_plugin.inbox.leases import Lease
    from crisp_plugin.redis_client import RedisLink

__all__ = ["LeaseMarks", "RecoveryLedger", "StoreMarks", "utc_day"]

SCOPE = "crisp_plugin/rtm"
"""The state scope of the framework's own keys (no conversation is named so)."""

_KEEP_DAYS = 2 * 86_400  # a day's count outlives its day (time zones of readers)


def utc_day(ms: int) -> str:
    """``YYYY-MM-DD`` of a wall-clock time in ms, in UTC (the quota's day)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


class RecoveryLedger(Protocol):
    """The REST calls recovery spent per UTC day, kept where the marks are."""

    async def spent(self, day: str) -> int:
        """Calls spent on ``day`` so far."""
        ...

    async def spend(self, day: str, calls: int) -> int:
        """Add ``calls`` to ``day``; the new total."""
        ...


class StoreMarks:
    """Marks and ledger in a :class:`~crisp_plugin.state.base.StateStore`."""

    def __init__(self, store: StateStore, *, mark_ttl: float = 30 * 86_400) -> None:
        self._store = store
        self._mark_ttl = mark_ttl

    def __repr__(self) -> str:
        return f"<StoreMarks {type(self._store).__name__}>"

    async def load(self) -> int | None:
        value = await self._store.get(SCOPE, "heard_ms")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    async def save(self, heard_ms: int) -> None:
        await self._store.set(SCOPE, "heard_ms", int(heard_ms), ttl=self._mark_ttl)

    async def spent(self, day: str) -> int:
        value = await self._store.get(SCOPE, f"calls:{day}", 0)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    async def spend(self, day: str, calls: int) -> int:
        total = await self.spent(day) + calls  # one writer: the relay's holder
        await self._store.set(SCOPE, f"calls:{day}", total, ttl=_KEEP_DAYS)
        return total


_SAVE_IF_HOLDER = """
local holder = redis.call('GET', KEYS[1])
if holder and string.sub(holder, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""


class LeaseMarks:
    """Marks and ledger on Redis, written only by the holder of ``lease``."""

    def __init__(self, link: RedisLink, lease: Lease, *, mark_ttl: float = 30 * 86_400) -> None:
        self._link = link
        self._lease = lease
        self._mark_key = link.key("rtm", "heard")
        self._mark_ms = int(mark_ttl * 1000)
        client: Any = link.client
        self._save = client.register_script(_SAVE_IF_HOLDER)

    def __repr__(self) -> str:
        return f"<LeaseMarks {self._mark_key}>"

    async def load(self) -> int | None:
        value: bytes | str | None = await self._link.client.get(self._mark_key)
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else value
        return int(text) if text.isdigit() else None

    async def save(self, heard_ms: int) -> None:
        keys = [self._lease.key, self._mark_key]
        await self._save(keys=keys, args=[self._lease.owner, int(heard_ms), self._mark_ms])

    def _calls_key(self, day: str) -> str:
        return self._link.key("rtm", "recovery-calls", day)

    async def spent(self, day: str) -> int:
        value: bytes | str | None = await self._link.client.get(self._calls_key(day))
        if value is None:
            return 0
        text = value.decode() if isinstance(value, bytes) else value
        return int(text) if text.isdigit() else 0

    async def spend(self, day: str, calls: int) -> int:
        client: Any = self._link.client
        pipe = client.pipeline(transaction=True)
        pipe.incrby(self._calls_key(day), calls)
        pipe.expire(self._calls_key(day), _KEEP_DAYS)
        total, _ = await pipe.execute()
        return int(total)
