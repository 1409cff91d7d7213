"""The daily quota and the rate limit counted once for every instance of a plugin.

``crisp.limits_backend = "redis"`` puts ``crisp.daily_quota`` and ``crisp.rate_limit``
on the Redis of ``[redis]``: N instances then spend one quota and keep one pace
together, as Crisp counts them for the token they share.

- ``RedisDailyQuota``: one counter per UTC day (``<prefix>:rest:quota:<date>``),
  expiring at the day's end. A Lua script reads it and counts the request only when
  the quota is not used up, so exactly ``limit`` requests pass in a day across every
  instance; the next one raises ``QuotaExceeded`` and is not sent. The instance whose
  request crosses ``warn_ratio`` of the quota logs the warning, once for all.
- ``RedisTokenBucket``: one token bucket (``<prefix>:rest:rate``, a hash of tokens and
  the time of the last take) refilled at ``rate`` a second up to ``burst``, by Redis's
  clock, in a Lua script; each caller reserves its token and waits the time the script
  answers, as the in-process ``TokenBucket`` does.

A Redis that does not answer raises ``RedisUnavailable`` and the request is not sent:
a quota that cannot be counted is not spent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from crisp_plugin.rest.limits import quota_exceeded

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

    from crisp_plugin.config import Config
    from crisp_plugin.redis_client import RedisLink

__all__ = ["RedisDailyQuota", "RedisTokenBucket", "redis_limits"]

_log = structlog.get_logger("crisp_plugin.rest")

# KEYS: the day's counter. ARGV: limit, expiry (unix seconds). The new count, 0 = refused.
_TAKE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end
return used
"""

# KEYS: the bucket. ARGV: rate (tokens a second), burst. The wait in microseconds.
_ACQUIRE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tokens = burst
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
if saved[1] and saved[2] then
  local idle = math.max(0, now - tonumber(saved[2]))
  tokens = math.min(burst, tonumber(saved[1]) + idle * rate)
end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
  'stamp', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
if tokens >= 0 then return 0 end
return math.ceil(-tokens / rate * 1000000)
"""


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _day_end(day: dt.date) -> int:
    """Unix seconds of the midnight (UTC) that ends ``day``."""
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return int((start + dt.timedelta(days=1)).timestamp())


class RedisDailyQuota:
    """``RequestQuota`` on Redis: ``limit`` requests a UTC day for all instances."""

    def __init__(
        self,
        link: RedisLink,
        limit: int,
        *,
        warn_ratio: float = 0.8,
        today: Callable[[], dt.date] = _utc_today,
    ) -> None:
        if limit <= 0:
            raise ValueError("daily quota must be > 0")
        self.link = link
        self.limit = limit
        self.warn_ratio = warn_ratio
        self._warn_at = max(1, math.ceil(limit * warn_ratio))
        self._today = today
        self._take: AsyncScript = link.client.register_script(_TAKE)

    def __repr__(self) -> str:
        return f"RedisDailyQuota(limit={self.limit}, prefix={self.link.prefix!r})"

    def _key(self, day: dt.date) -> str:
        return self.link.key("rest", "quota", day.isoformat())

    async def take(self) -> None:
        """Count one request for every instance, or raise ``QuotaExceeded``."""
        day = self._today()
        with self.link.failures("rest quota"):
            used = await self._take(keys=[self._key(day)], args=[self.limit, _day_end(day)])
        if not used:
            raise quota_exceeded(self.limit, day, ", counted on Redis for every instance")
        if used == self._warn_at:
            _log.warning(
                "rest.quota_warning",
                used=used,
                limit=self.limit,
                ratio=round(used / self.limit, 3),
                shared=True,
            )

    async def used(self) -> int:
        """Requests counted today by every instance."""
        with self.link.failures("rest quota"):
            found = await self.link.client.get(self._key(self._today()))
        return int(found or 0)

    async def remaining(self) -> int:
        """Requests left today for every instance together."""
        return max(0, self.limit - await self.used())


class RedisTokenBucket:
    """``RequestLimiter`` on Redis: ``rate`` requests a second on average, ``burst`` at
    once, for all instances together."""

    def __init__(self, link: RedisLink, rate: float, burst: int | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 requests per second")
        self.link = link
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1, round(rate)))
        if self.burst < 1:
            raise ValueError("burst must be >= 1")
        self._key = link.key("rest", "rate")
        self._acquire: AsyncScript = link.client.register_script(_ACQUIRE)

    def __repr__(self) -> str:
        return f"RedisTokenBucket(rate={self.rate:g}, burst={self.burst:g})"

    async def reserve(self) -> float:
        """Take one token; the seconds the caller must wait before using it."""
        with self.link.failures("rest rate limit"):
            wait = await self._acquire(keys=[self._key], args=[repr(self.rate), repr(self.burst)])
        return int(wait) / 1_000_000

    async def acquire(self) -> None:
        """Wait for a token of the shared bucket."""
        wait = await self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)


def redis_limits(
    config: Config, link: RedisLink, *, burst: int | None = None, quota_warn_ratio: float = 0.8
) -> tuple[RedisDailyQuota | None, RedisTokenBucket | None]:
    """The shared quota and limiter ``[crisp]`` asks for (``None`` for a limit it does
    not set), on ``link``: pass them to ``RestClient(quota=..., limiter=...)``, or let
    ``RestClient.from_settings(config, link=link)`` do it."""
    crisp = config.crisp
    quota = (
        RedisDailyQuota(link, crisp.daily_quota, warn_ratio=quota_warn_ratio)
        if crisp.daily_quota
        else None
    )
    limiter = RedisTokenBucket(link, crisp.rate_limit, burst) if crisp.rate_limit else None
    return quota, limiter
