"""The middleware pipeline: outer middleware before the filters, inner around each
handler, the order of plugin and router middleware, dropping events, failures."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from core_helpers import message

from crisp_plugin import Config, Event, Handler, HandlerError, Next, Plugin, Router, on
from crisp_plugin.dispatch import Dispatcher
from crisp_plugin.events import MessageSend


def config(**dispatch: Any) -> Config:
    return Config.model_validate({"plugin": {"urn": "urn:test:bot:1"}, "dispatch": dispatch})


class Bot(Plugin):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trail: list[str] = []
        self.errors: list[tuple[str, BaseException]] = []

    @on("message:send", text="hello")
    async def greet(self, event: MessageSend) -> None:
        self.trail.append("greet")

    @on("message:send")
    async def track(self, event: MessageSend) -> None:
        self.trail.append("track")
        if event.text == "crash":
            raise RuntimeError("handler broke")

    async def on_error(self, event: Event, exc: BaseException) -> None:
        self.errors.append((event.name, exc))


async def feed(plugin: Plugin[Any], *texts: str) -> Dispatcher:
    dispatcher = Dispatcher(plugin, plugin.config.dispatch)
    for i, text in enumerate(texts, start=1):
        dispatcher.feed("message:send", message("s", i, text))
    await dispatcher.wait_idle()
    return dispatcher


async def test_outer_runs_once_before_filters_and_inner_around_each_matched_handler() -> None:
    plugin = Bot(config())

    @plugin.middleware
    async def outer(event: Event, call_next: Next) -> None:
        plugin.trail.append("outer>")
        await call_next(event)
        plugin.trail.append("<outer")

    @plugin.inner_middleware
    async def inner(event: Event, call_next: Next, handler: Handler) -> None:
        plugin.trail.append(f"inner:{handler.name}>")
        await call_next(event)
        plugin.trail.append("<inner")

    await feed(plugin, "hi")  # greet's filter does not match: no inner run for it
    assert plugin.trail == ["outer>", "inner:Bot.track>", "track", "<inner", "<outer"]


async def test_an_outer_middleware_that_does_not_call_next_drops_the_event() -> None:
    plugin = Bot(config())

    @plugin.middleware
    async def only_hello(event: Event, call_next: Next) -> None:
        if event.text == "hello":
            await call_next(event)

    dispatcher = await feed(plugin, "spam", "hello")
    assert plugin.trail == ["greet", "track"]
    assert dispatcher.stats.dropped == {"message:send": 1}
    assert dispatcher.stats.handled == {"message:send": 1}


async def test_router_middleware_wraps_its_own_handlers_and_its_childrens_only() -> None:
    trail: list[str] = []
    billing, invoices = Router("billing"), Router("invoices")

    @billing.middleware
    async def billing_outer(event: Event, call_next: Next) -> None:
        trail.append("billing>")
        await call_next(event)

    @billing.inner_middleware
    async def billing_inner(event: Event, call_next: Next, handler: Handler) -> None:
        trail.append(f"[{handler.router}:{handler.name}]")
        await call_next(event)

    @invoices.on("message:send")
    async def invoice(event: MessageSend) -> None:
        trail.append("invoice")

    billing.include_router(invoices)

    class App(Plugin):
        @on("message:send")
        async def own(self, event: MessageSend) -> None:
            trail.append("own")  # not inside billing's middleware

    App.include_router(billing)
    await feed(App(config()), "x")
    assert trail == ["own", "billing>", "[billing > invoices:invoice]", "invoice"]


async def test_a_failing_middleware_is_reported_and_stops_only_its_event() -> None:
    plugin = Bot(config())

    @plugin.middleware
    async def picky(event: Event, call_next: Next) -> None:
        if event.text == "bad":
            raise ValueError("middleware broke")
        await call_next(event)

    dispatcher = await feed(plugin, "bad", "hello", "crash")
    assert plugin.trail == ["greet", "track", "track"]
    assert [(n, str(e)) for n, e in plugin.errors] == [
        ("message:send", "middleware broke"),
        ("message:send", "handler broke"),
    ]
    assert dispatcher.stats.failed == {"message:send": 2}


async def test_the_handler_timeout_covers_inner_middleware_too() -> None:
    plugin = Bot(config(handler_timeout=0.05))

    @plugin.inner_middleware
    async def stuck(event: Event, call_next: Next, handler: Handler) -> None:
        await asyncio.sleep(10)

    dispatcher = await feed(plugin, "hello")
    assert plugin.trail == []
    assert [type(e) for _, e in plugin.errors] == [TimeoutError, TimeoutError]
    assert dispatcher.stats.timeouts == {"message:send": 2}


async def test_duplicates_never_reach_user_middleware() -> None:
    plugin = Bot(config())
    seen: list[int] = []

    @plugin.middleware
    async def count(event: Event, call_next: Next) -> None:
        seen.append(event.fingerprint)  # type: ignore[attr-defined]
        await call_next(event)

    dispatcher = Dispatcher(plugin)
    dispatcher.feed("message:send", message("s", 7, "hello"), source="rtm")
    dispatcher.feed("message:send", message("s", 7, "hello"), source="webhook")
    await dispatcher.wait_idle()
    assert seen == [7]
    assert dispatcher.stats.duplicates == {"message:send": 1}


def test_middleware_signatures_are_checked_when_added() -> None:
    router = Router()

    def not_async(event: Event, call_next: Next) -> None: ...

    async def wrong_arity(event: Event) -> None: ...

    with pytest.raises(HandlerError, match="is not async"):
        router.middleware(not_async)  # type: ignore[type-var]
    with pytest.raises(HandlerError, match=r"must take \(event, call_next\)"):
        router.middleware(wrong_arity)
    with pytest.raises(HandlerError, match=r"must take \(event, call_next, handler\)"):
        router.inner_middleware(wrong_arity)
