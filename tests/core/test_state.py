"""self.state: memory, SQLite and Redis behave the same; TTL expires; SQLite survives a
restart. The Redis backend runs on a real redis-server of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from core_helpers import message

from crisp_plugin import Config, MemoryState, Plugin, SqliteState, StateStore
from crisp_plugin.events import parse_event
from crisp_plugin.redis_client import redis_link
from crisp_plugin.state import RedisState, create_state
from tests.redis_server import RedisServer

BACKENDS = ["memory", "sqlite", "redis"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


StoreFactory = Callable[..., StateStore]


@pytest.fixture(params=BACKENDS)
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """``open_store(clock=..., default_ttl=...)``: a new store of the test's backend."""
    backend: str = request.param
    server: RedisServer | None = (
        request.getfixturevalue("redis_server") if backend == "redis" else None
    )
    opened: list[StateStore] = []

    def open_one(*, clock: Clock, default_ttl: float | None = None) -> StateStore:
        store: StateStore
        if backend == "memory":
            store = MemoryState(default_ttl=default_ttl, clock=clock)
        elif backend == "sqlite":
            path = tmp_path / f"state{len(opened)}.sqlite3"
            store = SqliteState(path, default_ttl=default_ttl, clock=clock)
        else:
            assert server is not None
            link = redis_link(Config.model_validate({"redis": {"url": server.url}}))
            store = RedisState(link, default_ttl=default_ttl, clock=clock, owns_link=True)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


@pytest.fixture
def store_and_clock(open_store: StoreFactory) -> tuple[StateStore, Clock]:
    clock = Clock()
    return open_store(clock=clock), clock


async def test_get_set_delete_items_clear(store_and_clock: tuple[StateStore, Clock]) -> None:
    store, _ = store_and_clock
    convo = store.conversation("w", "s1")
    other = store.conversation("w", "s2")
    assert await convo.get("step") is None
    assert await convo.get("step", "start") == "start"
    await convo.set("step", "asked_email")
    await convo.set("cart", {"items": [1, 2], "total": 9.5})
    await other.set("step", "done")
    assert await convo.get("step") == "asked_email"
    assert await convo.items() == {"cart": {"items": [1, 2], "total": 9.5}, "step": "asked_email"}
    assert await convo.delete("step") is True
    assert await convo.delete("step") is False
    await convo.clear()
    assert await convo.items() == {}
    assert await other.get("step") == "done"


async def test_values_are_copies_and_must_be_json(
    store_and_clock: tuple[StateStore, Clock],
) -> None:
    store, _ = store_and_clock
    value = {"a": [1]}
    await store.set("scope", "k", value)
    value["a"].append(2)
    read = await store.get("scope", "k")
    assert read == {"a": [1]}
    with pytest.raises(TypeError, match="state values must be JSON"):
        await store.set("scope", "k", object())


async def test_ttl_expires_values(store_and_clock: tuple[StateStore, Clock]) -> None:
    store, clock = store_and_clock
    await store.set("s", "short", 1, ttl=10)
    await store.set("s", "forever", 2)
    clock.now += 9
    assert await store.get("s", "short") == 1
    clock.now += 2
    assert await store.get("s", "short") is None
    assert await store.items("s") == {"forever": 2}
    assert await store.delete("s", "short") is False


async def test_store_default_ttl(open_store: StoreFactory) -> None:
    clock = Clock()
    store = open_store(clock=clock, default_ttl=5)
    await store.set("s", "k", "v")
    await store.set("s", "long", "v", ttl=100)
    clock.now += 6
    assert await store.items("s") == {"long": "v"}
    assert await store.get("s", "k", "gone") == "gone"


async def test_a_value_set_again_takes_its_new_ttl(
    store_and_clock: tuple[StateStore, Clock],
) -> None:
    store, clock = store_and_clock
    await store.set("s", "k", "first", ttl=5)
    await store.set("s", "k", "second")  # no TTL now: it stays
    await store.set("s", "short", 1, ttl=100)
    await store.set("s", "short", 2, ttl=1)  # a shorter TTL replaces the longer one
    clock.now += 10
    assert await store.items("s") == {"k": "second"}
    assert await store.delete("s", "k") is True
    assert await store.items("s") == {}


async def test_keys_and_scopes_with_colons_stay_apart(
    store_and_clock: tuple[StateStore, Clock],
) -> None:
    store, _ = store_and_clock
    await store.set("a:b", "c", 1)
    await store.set("a", "b:c", 2)
    await store.set("a", "b", 3)
    assert await store.items("a:b") == {"c": 1}
    assert await store.items("a") == {"b:c": 2, "b": 3}
    await store.clear("a")
    assert await store.get("a:b", "c") == 1
    assert await store.get("a", "b:c") is None


async def test_sqlite_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    clock = Clock()
    first = SqliteState(path, clock=clock)
    await first.conversation("w", "s").set("step", "asked_email")
    await first.conversation("w", "s").set("otp", "1234", ttl=30)
    await first.close()

    clock.now += 60  # the process was down for a minute
    second = SqliteState(path, clock=clock)
    assert await second.conversation("w", "s").get("step") == "asked_email"
    assert await second.conversation("w", "s").get("otp") is None
    await second.close()


async def test_for_event_scopes_by_conversation() -> None:
    store = MemoryState()
    event = parse_event("message:send", message("s9", 1))
    await store.for_event(event).set("seen", True)
    assert await store.conversation("website_1", "s9").get("seen") is True
    with pytest.raises(ValueError, match="does not belong to a conversation"):
        store.for_event(
            parse_event(
                "plugin:settings:saved", {"website_id": "w", "plugin_id": "p", "settings": {}}
            )
        )


async def test_plugin_state_follows_the_config(tmp_path: Path) -> None:
    path = tmp_path / "cfg.sqlite3"
    settings = Config.model_validate({"state": {"backend": "sqlite", "path": str(path), "ttl": 60}})
    plugin = Plugin(settings)
    assert isinstance(plugin.state, SqliteState) and plugin.state.default_ttl == 60
    await plugin.state.close()
    assert isinstance(create_state(), MemoryState)


async def test_create_state_builds_the_redis_backend(redis_server: RedisServer) -> None:
    config = Config.model_validate(
        {"state": {"backend": "redis", "ttl": 60}, "redis": {"url": redis_server.url}}
    )
    store = create_state(config)  # its own link, closed with it
    assert isinstance(store, RedisState) and store.default_ttl == 60
    await store.conversation("w", "s").set("step", "one")
    shared = redis_link(config)
    other = create_state(config, shared)  # a link shared with other parts stays open
    assert await other.conversation("w", "s").get("step") == "one"
    await other.close()
    await store.close()
    assert store.link.closed and not shared.closed
    assert await shared.client.ping() is True
    await shared.close()
