"""Routers: handlers in modules, included in plugins (class-level and at run time),
routers in routers, the same declaration errors as ``@on``, a plugin's services without
globals, and the derived picker:choice / field:answer events."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import message

from crisp_plugin import Config, HandlerError, Plugin, Router, on
from crisp_plugin.dispatch import Dispatcher
from crisp_plugin.events import MessageSend, MessageUpdated
from crisp_plugin.events.derived import FieldAnswer, PickerChoice


def config(**settings: Any) -> Config:
    return Config.model_validate({"plugin": {"urn": "urn:test:bot:1"}, "settings": settings})


def updated(session: str, content: dict[str, Any], fingerprint: int = 9) -> dict[str, Any]:
    return {
        "website_id": "w",
        "session_id": session,
        "fingerprint": fingerprint,
        "content": content,
    }


def picker(picker_id: str, chosen: str | None) -> dict[str, Any]:
    choices = [
        {"value": v, "label": v.title(), "selected": v == chosen} for v in ("billing", "tech")
    ]
    return {"id": picker_id, "text": "Topic?", "choices": choices}


async def run(plugin: Plugin[Any], *events: tuple[str, dict[str, Any]]) -> Dispatcher:
    dispatcher = Dispatcher(plugin)
    for name, payload in events:
        assert dispatcher.feed(name, payload)
    await dispatcher.wait_idle()
    return dispatcher


async def test_router_functions_get_the_plugin_and_run_after_its_own_handlers() -> None:
    order: list[str] = []
    router = Router("greetings")

    @router.on("message:send", text="hello")
    async def greet(event: MessageSend, plugin: Plugin[Any]) -> None:
        order.append(f"router:{plugin.settings['name']}:{event.text}")

    @router.on("message:send")
    async def seen(event: MessageSend) -> None:  # (event) alone works too
        order.append("router:seen")

    class Bot(Plugin):
        @on("message:send")
        async def first(self, event: MessageSend) -> None:
            order.append("method")

    Bot.include_router(router)
    await run(Bot(config(name="bot-a")), ("message:send", message("s", 1, "hello")))
    assert order == ["method", "router:bot-a:hello", "router:seen"]


async def test_routers_include_routers_depth_first_and_at_run_time() -> None:
    order: list[str] = []
    outer, inner, late = Router("outer"), Router("inner"), Router("late")

    @outer.on("message:send")
    async def a(event: MessageSend) -> None:
        order.append("outer")

    @inner.on("message:send")
    async def b(event: MessageSend) -> None:
        order.append("inner")

    @late.on("message:send")
    async def c(event: MessageSend) -> None:
        order.append("late")

    outer.include_router(inner)
    plugin: Plugin[Any] = Plugin(config())
    plugin.include_router(outer)
    dispatcher = await run(plugin, ("message:send", message("s", 1)))
    plugin.include_router(late)  # at run time: the next event sees it
    dispatcher.feed("message:send", message("s", 2))
    await dispatcher.wait_idle()
    assert order == ["outer", "inner", "outer", "inner", "late"]
    assert [h.name for h in plugin.handlers] == ["a", "b", "c"]
    assert [h.router for h in plugin.handlers] == ["outer", "inner", "late"]
    assert plugin.subscribed_events() == ["message:send"]


def test_a_router_cannot_include_itself_or_be_included_twice() -> None:
    one, two = Router("one"), Router("two")
    one.include_router(two)
    with pytest.raises(HandlerError, match="cannot include itself"):
        two.include_router(one)
    with pytest.raises(HandlerError, match="already included"):
        one.include_router(two)

    class Bot(Plugin):
        pass

    Bot.include_router(one)
    with pytest.raises(HandlerError, match="already included in Bot"):
        Bot.include_router(one)


@pytest.mark.parametrize(
    ("name", "filters", "message_part"),
    [
        ("mesage:send", {}, "did you mean 'message:send'"),
        ("message:send", {"txt": "hi"}, "did you mean text="),
        ("session:set_state", {"text": "x"}, "carries no text"),
        ("message:send", {"type": "txt"}, "did you mean 'text'"),
        ("message:send", {"id": "topic"}, "id= works on field:answer and picker:choice only"),
        ("picker:choise", {}, "did you mean 'picker:choice'"),
        ("people:profile:created", {"step": "x"}, "have no flow step"),
    ],
)
def test_router_on_refuses_what_at_on_refuses(
    name: str, filters: dict[str, Any], message_part: str
) -> None:
    with pytest.raises(HandlerError, match=message_part):
        Router().on(name, **filters)
    with pytest.raises(HandlerError, match=message_part):
        on(name, **filters)


def test_router_functions_must_be_async_and_take_event_or_event_and_plugin() -> None:
    router = Router()
    with pytest.raises(HandlerError, match="is not async"):
        router.on("message:send")(lambda event: None)  # type: ignore[arg-type, return-value]

    async def three(event: MessageSend, plugin: Plugin[Any], extra: int) -> None: ...

    with pytest.raises(HandlerError, match=r"must take \(event\) or \(event, plugin\)"):
        router.on("message:send")(three)


async def test_picker_choices_and_field_answers_are_typed_events_matched_by_id() -> None:
    got: list[str] = []

    class Bot(Plugin):
        @on("picker:choice", id="topic", value="billing")
        async def billing(self, event: PickerChoice) -> None:
            got.append(f"billing:{event.label}:{event.fingerprint}")

        @on("picker:choice", id="topic")
        async def any_topic(self, event: PickerChoice) -> None:
            got.append(f"topic:{event.value}")

        @on("picker:choice", id="rating")
        async def rating(self, event: PickerChoice) -> None:
            got.append("rating")  # never: another picker

        @on("field:answer", id="email")
        async def email(self, event: FieldAnswer) -> None:
            got.append(f"email:{event.value}:{event.field.explain}")

        @on("message:updated")
        async def raw(self, event: MessageUpdated) -> None:
            got.append("updated")

    plugin = Bot(config())
    field = {"id": "email", "text": "E-mail?", "explain": "you@x", "value": "a@b.c"}
    await run(
        plugin,
        ("message:updated", updated("s", picker("topic", "billing"), 1)),
        ("message:updated", updated("s", picker("topic", "tech"), 2)),
        ("message:updated", updated("s", picker("topic", None), 3)),  # nothing chosen yet
        ("message:updated", updated("s", field, 4)),
        ("message:updated", updated("s", {"id": "email", "text": "E-mail?"}, 5)),  # no value
    )
    assert got == [
        "updated",
        "billing:Billing:1",
        "topic:billing",
        "updated",
        "topic:tech",
        "updated",
        "updated",
        "email:a@b.c:you@x",
        "updated",
    ]
    assert plugin.subscribed_events() == ["message:updated"]


async def test_derived_names_are_not_covered_by_wildcards() -> None:
    got: list[str] = []

    class Bot(Plugin):
        @on("*")
        async def everything(self, event: Any) -> None:
            got.append(event.name)

    await run(Bot(config()), ("message:updated", updated("s", picker("topic", "tech"))))
    assert got == ["message:updated"]  # not also picker:choice


async def test_only_picker_choice_handlers_still_take_message_updated() -> None:
    got: list[str] = []

    class Bot(Plugin):
        @on("picker:choice")
        async def chosen(self, event: PickerChoice) -> None:
            got.append(event.value)

    dispatcher = await run(Bot(config()), ("message:updated", updated("s", picker("t", "tech"))))
    assert got == ["tech"]
    assert dispatcher.stats.handled == {"message:updated": 1}
