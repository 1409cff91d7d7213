"""self.state: memory and SQLite behave the same; TTL expires; SQLite survives a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from core_helpers import message

from crisp_plugin import Config, MemoryState, Plugin, SqliteState, StateStore
from crisp_plugin.events import parse_event
from crisp_plugin.state import create_state


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
async def store_and_clock(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[StateStore, Clock]]:
    clock = Clock()
    store: StateStore
    if request.param == "memory":
        store = MemoryState(clock=clock)
    else:
        store = SqliteState(tmp_path / "state.sqlite3", clock=clock)
    yield store, clock
    await store.close()


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


async def test_store_default_ttl(tmp_path: Path) -> None:
    clock = Clock()
    for store in (
        MemoryState(default_ttl=5, clock=clock),
        SqliteState(tmp_path / "d.sqlite3", default_ttl=5, clock=clock),
    ):
        await store.set("s", "k", "v")
        await store.set("s", "long", "v", ttl=100)
        clock.now += 6
        assert await store.items("s") == {"long": "v"}
        await store.close()


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
