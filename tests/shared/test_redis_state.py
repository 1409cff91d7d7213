"""``state.backend = "redis"``: what N instances of a plugin see through one Redis.

Each instance is a store on a link of its own (its own pool), as two processes would
be; the Redis is a real redis-server of the test's own. The semantics every backend
shares are in tests/core/test_state.py, run there against Redis too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from crisp_plugin.config import Config
from crisp_plugin.errors import RedisUnavailable
from crisp_plugin.redis_client import RedisLink, redis_link
from crisp_plugin.state import RedisState, create_state
from tests.redis_server import RedisServer

PASSWORD = "state-pass-5521ab"


def config(url: str, urn: str = "urn:acme:helpdesk:1", **redis: object) -> Config:
    return Config.model_validate(
        {
            "plugin": {"urn": urn},
            "state": {"backend": "redis"},
            "redis": {"url": url, "connect_timeout": 1, "socket_timeout": 1, **redis},
        }
    )


async def wait_for(
    condition: Callable[[], Awaitable[bool]],
    timeout: float = 10.0,  # noqa: ASYNC109
) -> float:
    """Poll ``condition`` until true; the seconds it took. Fails after ``timeout``."""
    started = time.monotonic()
    while not await condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture
async def instances(redis_server: RedisServer) -> AsyncIterator[list[RedisState]]:
    """Two instances of one plugin: one store each, on links of their own."""
    stores = [create_state(config(redis_server.url)) for _ in range(2)]
    assert all(isinstance(store, RedisState) for store in stores)
    yield [store for store in stores if isinstance(store, RedisState)]
    for store in stores:
        await store.close()


async def test_two_instances_see_each_others_values(instances: list[RedisState]) -> None:
    first, second = instances
    assert first.link is not second.link
    a, b = first.conversation("w1", "s1"), second.conversation("w1", "s1")
    await a.set("step", "asked_email")
    await a.set("cart", {"items": [1, 2]})
    assert await b.get("step") == "asked_email"
    assert await b.items() == {"cart": {"items": [1, 2]}, "step": "asked_email"}
    assert await b.delete("step") is True
    assert await a.get("step") is None and await a.delete("step") is False
    await b.clear()
    assert await a.items() == {}


async def test_writes_from_both_instances_at_once_all_land(instances: list[RedisState]) -> None:
    first, second = instances
    await asyncio.gather(
        *(store.set("w/s", f"k{i}", i) for i in range(100) for store in (first, second))
    )
    assert await first.items("w/s") == {f"k{i}": i for i in range(100)}


async def test_values_expire_for_every_instance_and_leave_nothing_behind(
    instances: list[RedisState],
) -> None:
    first, second = instances
    client = first.link.client
    await first.set("w/s", "otp", "1234", ttl=0.3)
    await first.set("w/s", "code", "99", ttl=0.6)
    assert await second.get("w/s", "otp") == "1234"
    assert await client.pttl(first.link.key("state-keys", "w/s")) > 300  # the index outlives both

    async def otp_gone() -> bool:
        return await second.get("w/s", "otp") is None

    took = await wait_for(otp_gone)
    assert took >= 0.2  # not before its time (less the round trips since the set)
    assert await second.items("w/s") == {"code": "99"}

    async def redis_is_empty() -> bool:  # Redis dropped the values and the index itself
        return await client.dbsize() == 0

    await wait_for(redis_is_empty)
    assert await second.items("w/s") == {}


async def test_the_index_lives_as_long_as_its_longest_value(instances: list[RedisState]) -> None:
    store = instances[0]
    client, index = store.link.client, store.link.key("state-keys", "w/s")
    await store.set("w/s", "short", 1, ttl=30)
    assert 0 < await client.pttl(index) <= 30_000
    await store.set("w/s", "forever", 2)
    assert await client.pttl(index) == -1  # no expiry while one value has none
    await store.delete("w/s", "forever")
    assert 0 < await client.pttl(index) <= 30_000  # back to the longest value left
    await store.delete("w/s", "short")
    assert await client.exists(index) == 0


async def test_a_default_ttl_applies_to_every_instance(redis_server: RedisServer) -> None:
    settings = config(redis_server.url).model_copy(
        update={"state": Config().state.model_copy(update={"backend": "redis", "ttl": 0.2})}
    )
    writer, reader = create_state(settings), create_state(settings)
    try:
        await writer.set("w/s", "k", "v")
        assert await reader.get("w/s", "k") == "v"

        async def gone() -> bool:
            return await reader.get("w/s", "k") is None

        assert await wait_for(gone) >= 0.1
    finally:
        await writer.close()
        await reader.close()


async def test_two_plugins_on_one_redis_never_share_a_key(redis_server: RedisServer) -> None:
    helpdesk = create_state(config(redis_server.url, urn="urn:acme:helpdesk:1"))
    sales = create_state(config(redis_server.url, urn="urn:acme:sales:1"))
    named = create_state(config(redis_server.url, prefix="billing"))
    try:
        for store, value in ((helpdesk, "h"), (sales, "s"), (named, "b")):
            await store.conversation("w", "s").set("step", value)
        assert await helpdesk.conversation("w", "s").get("step") == "h"
        assert await sales.conversation("w", "s").get("step") == "s"
        assert await named.conversation("w", "s").get("step") == "b"
        await sales.conversation("w", "s").clear()
        assert await helpdesk.conversation("w", "s").items() == {"step": "h"}
        assert await named.conversation("w", "s").items() == {"step": "b"}
        assert isinstance(helpdesk, RedisState)
        keys = sorted(await helpdesk.link.client.keys("*"))
        assert keys == [
            "billing:state-keys:w/s",
            "billing:state:w/s:step",
            "crisp:{urn:acme:helpdesk:1}:state-keys:w/s",
            "crisp:{urn:acme:helpdesk:1}:state:w/s:step",
        ]
    finally:
        for store in (helpdesk, sales, named):
            await store.close()


async def test_a_redis_restart_is_a_clear_error_then_the_store_works_again(
    redis_server: RedisServer,
) -> None:
    store = create_state(config(redis_server.url))
    convo = store.conversation("w", "s")
    try:
        await convo.set("step", "one")
        redis_server.kill()  # Redis goes away mid-run
        shown = f'redis.url = "redis://127.0.0.1:{redis_server.port}/0"'
        calls: list[tuple[Callable[[], Awaitable[object]], str]] = [
            (lambda: convo.get("step"), "state get"),
            (lambda: convo.set("step", "two"), "state set"),
            (lambda: convo.delete("step"), "state delete"),
            (convo.items, "state items"),
            (convo.clear, "state clear"),
        ]
        for call, doing in calls:
            with pytest.raises(RedisUnavailable) as caught:
                await call()
            assert str(caught.value) == (
                f"{doing}: Redis cannot be reached at {shown} (Connection refused): "
                "start it or fix redis.url"
            )
        redis_server.start()  # back, on the same port, empty (no persistence)
        assert await convo.get("step") is None
        await convo.set("step", "three")
        assert await convo.items() == {"step": "three"}
    finally:
        await store.close()


async def test_after_a_restart_with_persistence_the_values_are_there(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "aof", persist=True)
    server.start()
    store = create_state(config(server.url))
    try:
        await store.set("w/s", "kept", {"n": 1})
        server.restart()  # its script cache is empty now: the store loads them again
        assert await store.get("w/s", "kept") == {"n": 1}
        assert await store.items("w/s") == {"kept": {"n": 1}}
        assert await store.delete("w/s", "kept") is True
    finally:
        await store.close()
        server.stop()


async def test_a_password_never_shows_in_reprs_or_errors(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "auth", password=PASSWORD)
    server.start()
    link: RedisLink = redis_link(config(server.url))
    store = RedisState(link)
    try:
        await store.set("w/s", "k", 1)
        assert PASSWORD not in repr(store) and PASSWORD not in repr(link)
        server.stop()
        with pytest.raises(RedisUnavailable) as caught:
            await store.get("w/s", "k")
        assert PASSWORD not in str(caught.value)
        assert f'"redis://***@127.0.0.1:{server.port}/0"' in str(caught.value)
    finally:
        await link.close()
        server.stop()
