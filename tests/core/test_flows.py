"""Conversation flows: per-conversation steps in the state store, step filters that see
the step of arrival, data gathered across steps, expiry, and a restart with SQLite."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from core_helpers import message

from crisp_plugin import ANY_STEP, NO_STEP, Config, Plugin, on
from crisp_plugin.dispatch import Dispatcher
from crisp_plugin.events import MessageSend
from crisp_plugin.flows import FLOW_KEY, Flow
from crisp_plugin.state import MemoryState, SqliteState, StateStore


class Step(StrEnum):
    ASK_EMAIL = "ask_email"
    CONFIRM = "confirm"


class Signup(Plugin):
    """start -> ask_email -> confirm -> done; 'cancel' anywhere in a flow ends it (and
    stops the event, so the step's handler does not also take it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.said: list[str] = []

    @on("message:send", step=ANY_STEP, text="cancel")
    async def cancel(self, event: MessageSend) -> None:
        self.said.append(f"cancelled at {event.flow.step}")
        await event.flow.finish()
        event.stop()  # the step's own handler below must not take "cancel" as an answer

    @on("message:send", step=NO_STEP, text="signup")
    async def start(self, event: MessageSend) -> None:
        self.said.append("your e-mail?")
        await event.flow.goto(Step.ASK_EMAIL, started_by=event.text)

    @on("message:send", step=Step.ASK_EMAIL)
    async def email(self, event: MessageSend) -> None:
        self.said.append(f"confirm {event.text}?")
        await event.flow.goto(Step.CONFIRM, email=event.text)

    @on("message:send", step=Step.CONFIRM, text="yes")
    async def confirm(self, event: MessageSend) -> None:
        data = dict(event.flow.data)
        self.said.append(f"done: {data['email']} ({data['started_by']})")
        await event.flow.finish()


def config(path: str = ":memory:") -> Config:
    return Config.model_validate({"plugin": {"urn": "urn:test:bot:1"}})


async def say(plugin: Plugin[Any], *texts: str, session: str = "s", start: int = 1) -> None:
    dispatcher = Dispatcher(plugin)
    for i, text in enumerate(texts, start=start):
        dispatcher.feed("message:send", message(session, i, text))
    await dispatcher.wait_idle()


async def test_a_flow_moves_step_by_step_and_gathers_data() -> None:
    plugin = Signup(config(), state=MemoryState())
    await say(plugin, "hello", "signup", "a@b.c", "no", "yes", "yes")
    assert plugin.said == [
        "your e-mail?",  # "hello" matched nothing: no flow, no 'signup'
        "confirm a@b.c?",
        # "no" at confirm: nothing matches
        "done: a@b.c (signup)",
        # the last "yes": the flow is finished, nothing matches
    ]
    assert await plugin.state.get("w/s", FLOW_KEY) is None


async def test_the_step_filter_sees_the_step_of_arrival_not_a_goto_made_meanwhile() -> None:
    plugin = Signup(config(), state=MemoryState())
    await say(plugin, "signup")
    # start moved to ask_email, but email() did not also run for the same message
    assert plugin.said == ["your e-mail?"]


async def test_flows_are_per_conversation() -> None:
    plugin = Signup(config(), state=MemoryState())
    await say(plugin, "signup", session="alice")
    await say(plugin, "cancel", session="bob", start=10)  # bob has no flow: no match
    await say(plugin, "cancel", session="alice", start=20)
    assert plugin.said == ["your e-mail?", "cancelled at ask_email"]


async def test_a_sqlite_flow_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first = Signup(config(), state=SqliteState(path))
    await say(first, "signup", "a@b.c")
    await first.state.close()
    second = Signup(config(), state=SqliteState(path))  # a new process, the same file
    await say(second, "yes", start=3)
    assert second.said == ["done: a@b.c (signup)"]
    await second.state.close()


async def test_a_flow_expires_after_its_ttl() -> None:
    now = [1000.0]
    store = MemoryState(clock=lambda: now[0])
    flow = Flow(store, "w/s", ttl=60)
    await flow.goto("waiting", n=1)
    assert (await Flow(store, "w/s").load()).step == "waiting"
    now[0] += 61
    later = await Flow(store, "w/s").load()
    assert later.step is None and dict(later.data) == {}


async def test_update_merges_data_and_data_is_read_only() -> None:
    store: StateStore = MemoryState()
    flow = Flow(store, "w/s")
    await flow.goto("a", x=1)
    await flow.update(y=2)
    await flow.goto("b", x=3)
    reread = await Flow(store, "w/s").load()
    assert (reread.step, dict(reread.data)) == ("b", {"x": 3, "y": 2})
    with pytest.raises(TypeError):
        reread.data["z"] = 1  # type: ignore[index]
    with pytest.raises(ValueError, match="non-empty string"):
        await flow.goto("")
    await flow.finish()
    with pytest.raises(RuntimeError, match="no flow is running"):
        await flow.update(z=1)


async def test_a_handler_without_a_step_filter_reads_the_flow_too() -> None:
    """The flow is loaded for every conversation event of a plugin that uses flows,
    not only for the event names that have a step= handler."""
    got: list[str] = []

    class Quiz(Plugin):
        @on("message:send", step=NO_STEP)
        async def start(self, event: MessageSend) -> None:
            await event.flow.goto("asked", topic="quiz")

        @on("session:set_nickname")  # no step= filter on this name at all
        async def named(self, event: Any) -> None:
            got.append(f"{event.flow.step}:{event.flow.data['topic']}")

    plugin = Quiz(config(), state=MemoryState())
    dispatcher = Dispatcher(plugin)
    dispatcher.feed("message:send", message("s", 1, "hi"))
    nickname = {"website_id": "website_1", "session_id": "s", "nickname": "Ada"}
    dispatcher.feed("session:set_nickname", nickname)
    await dispatcher.wait_idle()
    assert got == ["asked:quiz"]


async def test_reading_an_unloaded_flow_says_how_to_load_it() -> None:
    steps: list[str | None] = []

    class NoFilters(Plugin):
        @on("message:send")
        async def look(self, event: MessageSend) -> None:
            with pytest.raises(RuntimeError, match=r"await event\.flow\.load"):
                _ = event.flow.step
            steps.append((await event.flow.load()).step)

    await say(NoFilters(config(), state=MemoryState()), "hi")
    assert steps == [None]
