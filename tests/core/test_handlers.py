"""@on declarations: what is refused at registration, and what the plugin subscribes to."""

from __future__ import annotations

import re
from typing import Any

import pytest
from core_helpers import message
from structlog.testing import capture_logs

from crisp_plugin import HandlerError, Plugin, on
from crisp_plugin.dispatch import Dispatcher
from crisp_plugin.events import Event, MessageSend


def test_a_non_async_method_is_refused() -> None:
    with pytest.raises(HandlerError, match="is not async: declare it with 'async def'"):

        class Bot(Plugin):
            @on("message:send")
            def greet(self, event: Event) -> None: ...


def test_a_non_async_runtime_function_is_refused() -> None:
    plugin = Plugin()
    with pytest.raises(HandlerError, match="not async"):
        plugin.on("message:send")(lambda event: None)


def test_an_unknown_keyword_suggests_the_right_one() -> None:
    with pytest.raises(HandlerError, match=r"unknown keyword txt=: did you mean text=\?"):
        on("message:send", txt="hello")
    plugin = Plugin()
    with pytest.raises(HandlerError, match=r"unknown keyword websites=: did you mean website=\?"):
        plugin.on("message:send", websites=["a"])


@pytest.mark.parametrize("name", ["session:set_email", "session:*", "people:*", "plugin:event"])
def test_text_filter_needs_an_event_with_text(name: str) -> None:
    with pytest.raises(HandlerError, match="carries no text"):
        on(name, text="hello")


@pytest.mark.parametrize(
    ("pattern", "fed"),
    [
        ("message:send", "message:send"),
        ("message:received", "message:received"),
        ("message:updated", "message:updated"),
        ("message:*", "message:send"),
        ("*", "message:received"),
    ],
)
async def test_text_filter_is_fine_on_text_events_and_wildcards_covering_them(
    pattern: str, fed: str
) -> None:
    class Bot(Plugin):
        seen: list[str | None]

        @on(pattern, text="(?i)hello")
        async def greet(self, event: Event) -> None:
            self.seen.append(event.text)

    plugin = Bot()
    plugin.seen = []
    [handler] = plugin.handlers
    assert handler.spec.pattern == pattern and handler.filters.describe() == "text=/(?i)hello/"
    assert fed in plugin.subscribed_events()
    dispatcher = Dispatcher(plugin)
    assert dispatcher.feed(fed, message("s1", 1, "Hello there"))
    assert dispatcher.feed(fed, message("s1", 2, "goodbye"))
    await dispatcher.wait_idle()
    assert plugin.seen == ["Hello there"]


def test_misspelt_event_names_and_groups_are_refused_with_a_suggestion() -> None:
    with pytest.raises(HandlerError, match="did you mean 'message:send'"):
        on("message:sned")
    with pytest.raises(HandlerError, match="did you mean 'message:\\*'"):
        on("mesage:*")
    with pytest.raises(HandlerError, match="wildcards are"):
        on("message*")


def test_an_unknown_new_event_name_is_allowed_and_logged() -> None:
    with capture_logs() as logs:

        class Bot(Plugin):
            @on("assistant:reply:generated")
            async def new_event(self, event: Event) -> None: ...

        plugin = Bot()
    assert plugin.subscribed_events() == ["assistant:reply:generated"]
    assert any(
        line.get("event_name") == "assistant:reply:generated" and line["log_level"] == "warning"
        for line in logs
    )


def test_bad_regex_and_bad_filter_values() -> None:
    with pytest.raises(HandlerError, match="is not a regex"):
        on("message:send", text="(")
    with pytest.raises(HandlerError, match="list of strings"):
        on("message:send", type=[1, 2])
    with pytest.raises(HandlerError, match="when= takes a function"):
        on("message:send", when=True)


def test_handlers_are_discovered_in_order_and_overrides_win() -> None:
    class Base(Plugin):
        @on("message:send", text=re.compile("hi"))
        async def greet(self, event: MessageSend) -> None: ...

        @on("session:set_state")
        async def resolved(self, event: Event) -> None: ...

    class Child(Base):
        async def resolved(self, event: Event) -> None:  # no @on: not a handler any more
            ...

        @on("message:*")
        @on("people:bind:session")
        async def many(self, event: Event) -> None: ...

    base, child = Base(), Child()
    assert [h.name for h in base.handlers] == ["Base.greet", "Base.resolved"]
    assert [(h.name, h.spec.pattern) for h in child.handlers] == [
        ("Base.greet", "message:send"),
        ("Child.many", "people:bind:session"),
        ("Child.many", "message:*"),
    ]
    assert child.plan("message:send").units()[0].handler.name == "Base.greet"
    assert [u.handler.name for u in child.plan("message:removed").units()] == ["Child.many"]


def test_subscribed_events_expand_wildcards_for_the_tier() -> None:
    class Bot(Plugin):
        @on("message:*")
        async def messages(self, event: Event) -> None: ...

        @on("plugin:settings:saved")
        async def saved(self, event: Event) -> None: ...

    plugin = Bot()
    events = plugin.subscribed_events()
    assert events[0] == "message:updated" and "message:send" in events
    assert len([e for e in events if e.startswith("message:")]) == 13
    assert events[-1] == "plugin:settings:saved"

    class All(Plugin):
        @on("*")
        async def everything(self, event: Event) -> None: ...

    assert "spam:message" not in All().subscribed_events("plugin")
    assert "spam:message" in All().subscribed_events("user")
    assert "identity:verify:request" not in All().subscribed_events("website")


def test_runtime_registration_takes_the_event_only() -> None:
    plugin = Plugin()

    @plugin.on("message:send", text="hello")
    async def handler(event: MessageSend) -> None: ...

    assert [u.handler.name for u in plugin.plan("message:send").units()] == ["handler"]
    assert plugin.subscribed_events() == ["message:send"]


def test_rest_is_explicit_when_missing() -> None:
    plugin = Plugin()
    assert not plugin.has_rest
    with pytest.raises(AttributeError, match="no REST client"):
        plugin.rest  # noqa: B018
    assert getattr(plugin, "rest", None) is None


@pytest.mark.parametrize("name", ["state", "rest", "on_error", "handlers", "settings", "_crisp"])
def test_a_handler_may_not_hide_a_plugin_attribute(name: str) -> None:
    async def handler(self: Plugin, event: Event) -> None: ...

    with pytest.raises(HandlerError, match=f"hides Plugin.{name}"):
        type("Bot", (Plugin,), {name: on("message:send")(handler)})


def test_a_plugins_own_attributes_never_collide_with_the_frameworks() -> None:
    class Bot(Plugin):
        version = "2.1"  # a user's attribute the framework once used for itself

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.name = "triage"
            self.stats = {"greeted": 0}

        @on("message:send")
        async def greet(self, event: MessageSend) -> None: ...

    plugin = Bot()
    plugin.version = "2.2"
    assert (plugin.version, plugin.name, plugin.stats) == ("2.2", "triage", {"greeted": 0})
    assert [h.name for h in plugin.handlers] == ["Bot.greet"]
    plugin.on("message:received")(_noop)
    assert plugin.version == "2.2"  # registering at run time leaves it alone
    assert [h.name for h in plugin.handlers] == ["Bot.greet", "_noop"]


async def _noop(event: Event) -> None: ...


@pytest.mark.parametrize(
    ("name", "filters", "message"),
    [
        ("message:send", {"type": "txt"}, "did you mean 'text'?"),
        ("message:received", {"type": ["text", "image"]}, "type='image'"),
        ("message:compose:send", {"type": "text"}, "known types: start, stop"),
        ("session:set_state", {"type": "text"}, "have no type field"),
        ("session:set_state", {"origin": "chat"}, "have no origin field"),
        ("people:profile:created", {"origin": "chat"}, "have no origin field"),
    ],
)
def test_type_and_origin_filters_that_can_never_match_are_refused(
    name: str, filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(HandlerError) as caught:
        on(name, **filters)
    assert message in str(caught.value)


def test_type_and_origin_filters_that_can_match_are_accepted() -> None:
    on("message:send", type=["text", "file", "picker"], origin="chat")
    on("message:compose:*", type="start")
    on("message:*", type="stop")  # compose events under the wildcard
    on("session:set_origin", origin="email")
    on("message:acknowledge:read:send", origin="chat")
