"""Redis ``StateStore``: one state for every instance of a plugin.

Redis 7.0 has no per-field TTL in a hash, so each value has a key of its own, and each
scope an index listing its keys:

    <prefix>:state:<scope>:<key>    the value's JSON text, with PX = its TTL
    <prefix>:state-keys:<scope>     a sorted set: member = key, score = expiry
                                    (seconds by the store's clock, +inf for never)

Every operation is one Lua script, so a value and its index entry change together
and each call is a single round trip. ``items`` and ``clear`` read the index, never a
SCAN of the keyspace. A value is live while its index score lies ahead of the store's
clock (``time.time`` by default: the same wall clock for every instance, as in SQLite);
Redis itself drops the value at its PX; every write gives the index the TTL of its
longest-lived value (none while one never expires) and prunes its expired entries,
so nothing outlives the values of a scope.

A Redis that cannot be reached, times out or refuses a command raises
``RedisUnavailable`` naming ``redis.url`` (password masked); nothing was changed by
that call. The store works again as soon as Redis answers (scripts are loaded again
after a restart by redis-py on their own).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crisp_plugin.state.base import StateStore, encode

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from crisp_plugin.redis_client import RedisLink

__all__ = ["RedisState"]

# KEYS: value, index. ARGV: member, now. The value when its score is ahead of now.
_GET = """
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score then return false end
if score ~= 'inf' and tonumber(score) <= tonumber(ARGV[2]) then return false end
return redis.call('GET', KEYS[1])
"""

# Drop the index's expired entries and give it the TTL of its longest-lived value
# (none while one never expires); Redis removes a sorted set left empty.
_TIDY = """
local function tidy(index, now)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if #top == 0 then return end
  if top[2] == 'inf' then
    redis.call('PERSIST', index)
  else
    local ms = math.ceil((tonumber(top[2]) - tonumber(now)) * 1000)
    redis.call('PEXPIRE', index, math.max(ms, 1))
  end
end
"""

# KEYS: value, index. ARGV: member, text, ttl ms ('' = never), score, now.
_SET = (
    _TIDY
    + """
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
tidy(KEYS[2], ARGV[5])
return 1
"""
)

# KEYS: value, index. ARGV: member, now. 1 when a live value was removed.
_DELETE = (
    _TIDY
    + """
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
tidy(KEYS[2], ARGV[2])
if not score or existed == 0 then return 0 end
if score ~= 'inf' and tonumber(score) <= tonumber(ARGV[2]) then return 0 end
return 1
"""
)

# KEYS: index. ARGV: value key prefix, now. Flat [key, text, key, text...].
_ITEMS = """
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf')
local out = {}
for _, member in ipairs(members) do
  local text = redis.call('GET', ARGV[1] .. member)
  if text then
    out[#out + 1] = member
    out[#out + 1] = text
  end
end
return out
"""

# KEYS: index. ARGV: value key prefix. Every value of the scope, then the index.
_CLEAR = """
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, member in ipairs(members) do
  redis.call('DEL', ARGV[1] .. member)
end
redis.call('DEL', KEYS[1])
return #members
"""


class RedisState(StateStore):
    """State on Redis through a :class:`~crisp_plugin.redis_client.RedisLink`.

    ``owns_link``: ``close()`` closes the link too (``create_state`` sets it when it
    opened the link itself); a link shared with other parts is left open.
    """

    def __init__(
        self,
        link: RedisLink,
        *,
        default_ttl: float | None = None,
        clock: Callable[[], float] = time.time,
        owns_link: bool = False,
    ) -> None:
        super().__init__(default_ttl=default_ttl)
        self.link = link
        self._clock = clock
        self._owns_link = owns_link
        client = link.client
        self._get: AsyncScript = client.register_script(_GET)
        self._set: AsyncScript = client.register_script(_SET)
        self._delete: AsyncScript = client.register_script(_DELETE)
        self._items: AsyncScript = client.register_script(_ITEMS)
        self._clear: AsyncScript = client.register_script(_CLEAR)

    def __repr__(self) -> str:
        return f"RedisState(url={self.link.url!r}, prefix={self.link.prefix!r})"

    def _base(self, scope: str) -> str:
        # the scope is escaped by key(); the value's own key follows the last colon raw
        return self.link.key("state", scope) + ":"

    def _index(self, scope: str) -> str:
        return self.link.key("state-keys", scope)

    async def get(self, scope: str, key: str, default: Any = None) -> Any:
        keys = [self._base(scope) + key, self._index(scope)]
        with self.link.failures("state get"):
            text = await self._get(keys=keys, args=[key, repr(self._clock())])
        return default if text is None else json.loads(text)

    async def set(self, scope: str, key: str, value: Any, *, ttl: float | None = None) -> None:
        text = encode(value)
        ttl = self._ttl(ttl)
        if ttl is not None and ttl <= 0:  # expired on arrival, as in the other backends
            await self.delete(scope, key)
            return
        now = self._clock()
        if ttl is None:
            px, score = "", "+inf"
        else:
            px, score = str(max(1, math.ceil(ttl * 1000))), repr(now + ttl)
        keys = [self._base(scope) + key, self._index(scope)]
        with self.link.failures("state set"):
            await self._set(keys=keys, args=[key, text, px, score, repr(now)])

    async def delete(self, scope: str, key: str) -> bool:
        keys = [self._base(scope) + key, self._index(scope)]
        with self.link.failures("state delete"):
            removed = await self._delete(keys=keys, args=[key, repr(self._clock())])
        return bool(removed)

    async def items(self, scope: str) -> dict[str, Any]:
        with self.link.failures("state items"):
            flat = await self._items(
                keys=[self._index(scope)], args=[self._base(scope), repr(self._clock())]
            )
        pairs = sorted(zip(flat[::2], flat[1::2], strict=True))
        return {key: json.loads(text) for key, text in pairs}

    async def clear(self, scope: str) -> None:
        with self.link.failures("state clear"):
            await self._clear(keys=[self._index(scope)], args=[self._base(scope)])

    async def close(self) -> None:
        if self._owns_link:
            await self.link.close()
