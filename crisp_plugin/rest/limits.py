"""Client-side rate limiting: a token bucket and a daily quota counter.

Crisp answers 429/420 when a token goes too fast and plugin tokens have a daily quota
(5,000 requests a day by default for production plugins). ``TokenBucket`` spaces
requests out (``rate`` per second, ``burst`` at once); ``DailyQuota`` counts requests per
UTC day, warns once when ``warn_ratio`` of the quota is used and refuses to send
(``QuotaExceeded``) once it is all used, so a plugin never burns its quota unawares.
Every attempt counts, retries included: each one reaches Crisp and counts there too.
These counters live in the process; they start at zero when the plugin starts.

``RestCore`` takes any ``RequestQuota`` (``async take()``) and ``RequestLimiter``
(``async acquire()``): :mod:`crisp_plugin.rest.redis_limits` has the ones that count
once for every instance of a plugin, on Redis (``crisp.limits_backend = "redis"``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import structlog

from crisp_plugin.errors import QuotaExceeded

__all__ = ["DailyQuota", "RequestLimiter", "RequestQuota", "TokenBucket", "quota_exceeded"]

_log = structlog.get_logger("crisp_plugin.rest")


@runtime_checkable
class RequestQuota(Protocol):
    """Counts the requests ``RestCore`` is about to send."""

    async def take(self) -> None:
        """Count one request, or raise ``QuotaExceeded``: the request is then not sent."""
        ...


@runtime_checkable
class RequestLimiter(Protocol):
    """Spaces out the requests ``RestCore`` sends."""

    async def acquire(self) -> None:
        """Return when one more request may be sent."""
        ...


def quota_exceeded(limit: int, day: dt.date, where: str = "") -> QuotaExceeded:
    """The error of a used-up quota (``where``: how it is counted, e.g. across instances)."""
    return QuotaExceeded(
        f"daily request quota of {limit} used up for {day.isoformat()} (UTC){where}; "
        "raise crisp.daily_quota or wait for the next day"
    )


class TokenBucket:
    """At most ``rate`` requests per second on average, ``burst`` back to back.

    Waiters reserve their token up front (the balance may go negative), so concurrent
    callers are served in order without a lock.
    """

    def __init__(self, rate: float, burst: int | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 requests per second")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1, round(rate)))
        if self.burst < 1:
            raise ValueError("burst must be >= 1")
        self._tokens = self.burst
        self._stamp = time.monotonic()

    def reserve(self) -> float:
        """Take one token; return how long the caller must wait before using it."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.rate

    async def acquire(self) -> None:
        """Wait for a token."""
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst:g})"


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class DailyQuota:
    """Counts requests per UTC day; warns at ``warn_ratio``, refuses at the limit."""

    def __init__(
        self,
        limit: int,
        *,
        warn_ratio: float = 0.8,
        today: Callable[[], dt.date] = _utc_today,
    ) -> None:
        if limit <= 0:
            raise ValueError("daily quota must be > 0")
        self.limit = limit
        self.warn_ratio = warn_ratio
        self._today = today
        self._day = today()
        self.used = 0
        self._warned = False

    @property
    def remaining(self) -> int:
        self._roll()
        return max(0, self.limit - self.used)

    def _roll(self) -> None:
        day = self._today()
        if day != self._day:
            self._day = day
            self.used = 0
            self._warned = False

    async def take(self) -> None:
        """Count one request, or raise QuotaExceeded (nothing is sent then)."""
        self._roll()
        if self.used >= self.limit:
            raise quota_exceeded(self.limit, self._day)
        self.used += 1
        if not self._warned and self.used >= self.limit * self.warn_ratio:
            self._warned = True
            _log.warning(
                "rest.quota_warning",
                used=self.used,
                limit=self.limit,
                ratio=round(self.used / self.limit, 3),
            )

    def __repr__(self) -> str:
        return f"DailyQuota(limit={self.limit}, used={self.used})"
