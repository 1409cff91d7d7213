"""``crisp.limits_backend = "redis"``: the daily quota and the rate limit counted once
for every instance of a plugin.

Two RestClients on links of their own play two instances; they send to the sandbox
(the local Crisp), whose request log says what reached it and when."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
import structlog

from crisp_plugin.config import Config
from crisp_plugin.errors import ConfigError, QuotaExceeded, RedisUnavailable
from crisp_plugin.redis_client import RedisLink, open_redis
from crisp_plugin.rest import RestClient
from crisp_plugin.rest.redis_limits import RedisDailyQuota, RedisTokenBucket, redis_limits
from crisp_plugin.sandbox import Sandbox
from tests.redis_server import RedisServer

MESSAGE_PATH = "/v1/website/{}/conversation/{}/message"


def config(sb: Sandbox, redis_url: str, **crisp: Any) -> Config:
    return Config.model_validate(
        {
            "crisp": {
                "identifier": sb.identifier,
                "key": sb.key,
                "api_url": sb.url,
                "max_retries": 0,
                "limits_backend": "redis",
                **crisp,
            },
            "redis": {"url": redis_url, "connect_timeout": 1, "socket_timeout": 1},
        }
    )


class Instances:
    """N instances of one plugin: a link and a REST client each."""

    def __init__(self) -> None:
        self.links: list[RedisLink] = []
        self.clients: list[RestClient] = []

    async def start(self, settings: Config, count: int = 2) -> list[RestClient]:
        for _ in range(count):
            link = await open_redis(settings)
            self.links.append(link)
            client = RestClient.from_settings(settings, link=link)
            await client.__aenter__()
            self.clients.append(client)
        return self.clients

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        for link in self.links:
            await link.close()


@pytest.fixture
async def instances() -> AsyncIterator[Instances]:
    made = Instances()
    yield made
    await made.close()


async def conversation(sb: Sandbox) -> tuple[str, str]:
    website = sb.websites[0]
    return website, await sb.control.create_conversation(website)


def sent(sb: Sandbox, website: str, session: str) -> list[dict[str, Any]]:
    path = MESSAGE_PATH.format(website, session)
    return [r for r in sb.requests if r["method"] == "POST" and r["path"] == path]


async def test_two_instances_spend_exactly_the_daily_quota_together(
    sb: Sandbox, redis_server: RedisServer, instances: Instances
) -> None:
    first, second = await instances.start(config(sb, redis_server.url, daily_quota=100))
    website, session = await conversation(sb)

    async def reply(client: RestClient, n: int) -> str:
        try:
            await client.send_message(website, session, f"reply {n}")
        except QuotaExceeded:
            return "refused"
        return "sent"

    with structlog.testing.capture_logs() as logs:
        outcomes = await asyncio.gather(
            *(reply(client, n) for n in range(60) for client in (first, second))
        )
    assert outcomes.count("sent") == 100 and outcomes.count("refused") == 20
    assert len(sent(sb, website, session)) == 100
    assert len(await sb.control.transcript(website, session)) == 100

    with pytest.raises(QuotaExceeded) as caught:  # the 101st, from either instance
        await first.send_message(website, session, "one more")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert str(caught.value) == (
        f"daily request quota of 100 used up for {today} (UTC), counted on Redis for every "
        "instance; raise crisp.daily_quota or wait for the next day"
    )
    assert len(sent(sb, website, session)) == 100  # nothing was sent

    warnings = [e for e in logs if e["event"] == "rest.quota_warning"]
    assert len(warnings) == 1  # one instance crossed 80 %, for both
    assert warnings[0]["used"] == 80 and warnings[0]["limit"] == 100 and warnings[0]["shared"]
    assert isinstance(first.quota, RedisDailyQuota) and await first.quota.used() == 100


async def test_the_rate_limit_holds_across_both_instances(
    sb: Sandbox, redis_server: RedisServer, instances: Instances
) -> None:
    rate = 20  # a burst of 20, then 20 a second, for the two together
    first, second = await instances.start(config(sb, redis_server.url, rate_limit=rate))
    website, session = await conversation(sb)
    await asyncio.gather(
        *(
            client.send_message(website, session, f"m{n}")
            for n in range(20)
            for client in (first, second)
        )
    )
    stamps = sorted(r["at"] / 1000 for r in sent(sb, website, session))
    assert len(stamps) == 40
    # the 20 past the burst wait for tokens: 1 s at 20 a second (each alone: no wait)
    assert stamps[-1] - stamps[0] >= (40 - rate) / rate - 0.06
    for i, start in enumerate(stamps):  # no stretch of time carries more than the bucket
        for j in range(i, len(stamps)):
            assert j - i + 1 <= rate + rate * (stamps[j] - start) + 3


async def test_in_process_limits_would_let_both_burst(sb: Sandbox) -> None:
    """The contrast: without the shared bucket each instance has a burst of its own."""
    settings = Config.model_validate(
        {"crisp": {"identifier": sb.identifier, "key": sb.key, "api_url": sb.url, "rate_limit": 20}}
    )
    website, session = await conversation(sb)
    async with (
        RestClient.from_settings(settings) as first,
        RestClient.from_settings(settings) as second,
    ):
        await asyncio.gather(
            *(c.send_message(website, session, f"m{n}") for n in range(20) for c in (first, second))
        )
    stamps = sorted(r["at"] / 1000 for r in sent(sb, website, session))
    assert len(stamps) == 40 and stamps[-1] - stamps[0] < 0.5


async def test_a_shared_bucket_hands_out_waits_in_turn(redis_server: RedisServer) -> None:
    settings = Config.model_validate({"redis": {"url": redis_server.url}})
    one, two = await open_redis(settings), await open_redis(settings)
    try:
        a, b = RedisTokenBucket(one, rate=10, burst=2), RedisTokenBucket(two, rate=10, burst=2)
        waits = [await a.reserve(), await b.reserve(), await a.reserve(), await b.reserve()]
        assert waits[:2] == [0.0, 0.0]
        assert waits[2] == pytest.approx(0.1, abs=0.02)
        assert waits[3] == pytest.approx(0.2, abs=0.02)
        assert await one.client.pttl(one.key("rest", "rate")) > 0  # an idle bucket goes away
    finally:
        await one.close()
        await two.close()


async def test_the_counter_is_per_utc_day_and_expires_at_its_end(
    redis_server: RedisServer,
) -> None:
    link = await open_redis(Config.model_validate({"redis": {"url": redis_server.url}}))
    today = dt.datetime.now(dt.UTC).date()
    day = [today]
    quota = RedisDailyQuota(link, 2, today=lambda: day[0])
    try:
        await quota.take()
        await quota.take()
        with pytest.raises(QuotaExceeded):
            await quota.take()
        key = link.key("rest", "quota", today.isoformat())
        midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.UTC)
        assert await link.client.execute_command("EXPIRETIME", key) == int(midnight.timestamp())
        day[0] = today + dt.timedelta(days=1)  # a new UTC day: a new counter
        assert await quota.remaining() == 2
        await quota.take()
        assert await quota.used() == 1
    finally:
        await link.close()


async def test_a_redis_that_is_gone_sends_nothing_then_counting_resumes(
    sb: Sandbox, redis_server: RedisServer, instances: Instances
) -> None:
    (client,) = await instances.start(config(sb, redis_server.url, daily_quota=5), count=1)
    website, session = await conversation(sb)
    await client.send_message(website, session, "before")
    redis_server.kill()
    with pytest.raises(RedisUnavailable) as caught:
        await client.send_message(website, session, "while Redis is down")
    assert str(caught.value) == (
        f'rest quota: Redis cannot be reached at redis.url = "redis://127.0.0.1:{redis_server.port}'
        '/0" (Connection refused): start it or fix redis.url'
    )
    assert len(sent(sb, website, session)) == 1  # a quota that cannot be counted is not spent
    redis_server.start()
    await client.send_message(website, session, "after")
    assert len(sent(sb, website, session)) == 2


def test_shared_limits_need_a_link(sb: Sandbox) -> None:
    settings = config(sb, "redis://127.0.0.1:1/0", daily_quota=10)
    with pytest.raises(ConfigError) as caught:
        RestClient.from_settings(settings)
    assert caught.value.problems == [
        'crisp.limits_backend = "redis" needs a Redis link: '
        "RestClient.from_settings(config, link=await open_redis(config))"
    ]


async def test_redis_limits_builds_only_what_crisp_sets(redis_server: RedisServer) -> None:
    link = await open_redis(Config.model_validate({"redis": {"url": redis_server.url}}))
    try:
        none = Config.model_validate({"crisp": {"limits_backend": "redis"}})
        assert redis_limits(none, link) == (None, None)
        both = Config.model_validate({"crisp": {"rate_limit": 5, "daily_quota": 50}})
        quota, limiter = redis_limits(both, link)
        assert isinstance(quota, RedisDailyQuota) and quota.limit == 50
        assert isinstance(limiter, RedisTokenBucket) and limiter.rate == 5 and limiter.burst == 5
        assert repr(limiter) == "RedisTokenBucket(rate=5, burst=5)"
    finally:
        await link.close()
