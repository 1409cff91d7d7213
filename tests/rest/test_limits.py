"""Client-side limits: the token bucket spaces requests, the daily quota warns and stops."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
import structlog

from crisp_plugin.errors import QuotaExceeded
from crisp_plugin.rest import DailyQuota, RequestLimiter, RequestQuota, RestClient, TokenBucket
from tests.rest.conftest import StubCrisp


async def test_token_bucket_allows_burst_then_paces(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url, rate_limit=20, burst=3) as rest:
        await rest.check_session()  # warm the connection
        await asyncio.sleep(0.2)  # refill the bucket
        start = time.monotonic()
        await asyncio.gather(*(rest.check_session() for _ in range(3)))
        burst_time = time.monotonic() - start
        await asyncio.gather(*(rest.check_session() for _ in range(6)))
        total = time.monotonic() - start
    assert burst_time < 0.05  # three at once
    assert total >= 6 / 20 - 0.02  # then 20 a second


async def test_quota_warns_at_80_percent_and_refuses_at_limit(stub: StubCrisp) -> None:
    async with RestClient("i", "k", api_url=stub.url, daily_quota=5) as rest:
        with structlog.testing.capture_logs() as logs:
            for _ in range(5):
                await rest.check_session()
            with pytest.raises(QuotaExceeded, match="daily request quota of 5"):
                await rest.check_session()
    warnings = [e for e in logs if e["event"] == "rest.quota_warning"]
    assert len(warnings) == 1 and warnings[0]["used"] == 4 and warnings[0]["limit"] == 5
    assert len(stub.seen) == 5  # the refused call never reached the server


async def test_quota_resets_on_a_new_utc_day() -> None:
    day = [dt.date(2026, 1, 1)]
    quota = DailyQuota(2, warn_ratio=0.5, today=lambda: day[0])
    await quota.take()
    await quota.take()
    with pytest.raises(QuotaExceeded):
        await quota.take()
    day[0] = dt.date(2026, 1, 2)
    assert quota.remaining == 2
    await quota.take()
    assert quota.used == 1


class CountingLimiter:
    def __init__(self) -> None:
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1


class RefusingQuota:
    """Lets ``allowed`` requests through, then refuses."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed

    async def take(self) -> None:
        if self.allowed <= 0:
            raise QuotaExceeded("no more today")
        self.allowed -= 1


async def test_any_quota_and_limiter_plug_into_the_client(stub: StubCrisp) -> None:
    assert isinstance(DailyQuota(1), RequestQuota) and isinstance(TokenBucket(1), RequestLimiter)
    quota, limiter = RefusingQuota(2), CountingLimiter()
    assert isinstance(quota, RequestQuota) and isinstance(limiter, RequestLimiter)
    async with RestClient(
        "i", "k", api_url=stub.url, quota=quota, limiter=limiter, daily_quota=100, rate_limit=1
    ) as rest:
        assert rest.quota is quota and rest.limiter is limiter  # in place of the built-in ones
        await rest.check_session()
        await rest.check_session()
        with pytest.raises(QuotaExceeded, match="no more today"):
            await rest.check_session()
    assert limiter.acquired == 2 and len(stub.seen) == 2  # the refused call was not sent


def test_bucket_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        DailyQuota(0)
