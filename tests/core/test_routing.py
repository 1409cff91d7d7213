"""Routers: handlers in modules, included in plugins (class-level and at run time),
routers in routers, the same declaration errors as ``@on``, a plugin's services without
globals, and the derived picker:choice / field:answer events."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import message

from crisp_plugin import (
    Config,
    Event,
    Handler,
    HandlerError,
    Next,
    Plugin,
    Router,
    inner_middleware,
    on,
    outer_middleware,
)
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
    assert [h.router for h in plugin.handlers] == ["outer", "outer > inner", "late"]
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


def test_a_method_given_to_router_on_or_a_function_given_to_on_is_refused_clearly() -> None:
    router = Router()

    async def method_like(self: Any, event: MessageSend) -> None: ...

    with pytest.raises(
        HandlerError, match=r"takes self: in a Plugin class, declare methods with @on"
    ):
        router.on("message:send")(method_like)

    async def function(event: MessageSend) -> None: ...

    with pytest.raises(HandlerError, match=r"@on marks Plugin methods .* use a Router"):
        on("message:send")(function)


def test_an_event_annotation_no_event_of_the_name_can_be_is_refused() -> None:
    router = Router()

    async def wrong(event: MessageSend) -> None: ...

    with pytest.raises(HandlerError, match="takes MessageSend, but picker:choice events are"):
        router.on("picker:choice")(wrong)

    async def broad(event: MessageUpdated | MessageSend) -> None: ...

    router.on("picker:choice")(broad)  # a union is not second-guessed

    async def group(event: MessageSend) -> None: ...

    router.on("message:*")(group)  # some message:* events are MessageSend: fine


def test_filter_words_people_reach_for_get_the_right_keyword() -> None:
    with pytest.raises(HandlerError, match="did you mean value="):
        on("picker:choice", choice="billing")
    with pytest.raises(HandlerError, match=r"hides the lifecycle hook Plugin\.on_startup"):

        class Bot(Plugin):
            @on("message:send")
            async def on_startup(self) -> None: ...


async def test_class_level_middleware_methods_have_the_plugin_at_hand() -> None:
    trail: list[str] = []

    class Bot(Plugin):
        @on("message:send")
        async def answer(self, event: MessageSend) -> None:
            trail.append("answer")

        @outer_middleware
        async def only_allowed(self, event: Event, call_next: Next) -> None:
            if event.website_id in self.settings.get("allowed", []):
                await call_next(event)

        @inner_middleware
        async def around(self, event: Event, call_next: Next, handler: Handler) -> None:
            trail.append(f"{type(self).__name__}:{handler.name}")
            await call_next(event)

    plugin = Bot(config(allowed=["website_1"]))
    dispatcher = Dispatcher(plugin)
    dispatcher.feed("message:send", message("s", 1))
    dispatcher.feed("message:send", message("s", 2, website="other"))
    await dispatcher.wait_idle()
    assert trail == ["Bot:Bot.answer", "answer"]
    assert dispatcher.stats.dropped == {"message:send": 1}
    with pytest.raises(HandlerError, match=r"must take \(self, event, call_next\)"):

        @outer_middleware
        async def missing_self(event: Event, call_next: Next) -> None: ...
