"""Event-bound actions against the sandbox over each transport: a handler acts on its
conversation through ``event.*`` alone, and the plugin's own messages never come back
to it as events."""

from __future__ import annotations

from typing import Any

import pytest

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageReceived, MessageSend
from crisp_plugin.events.derived import FieldAnswer, PickerChoice
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import PluginRunner, TransportName, Visitor


class Concierge(Plugin):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.operator_messages: list[str] = []

    @on("message:send", text="^menu$")
    async def menu(self, event: MessageSend) -> None:
        await event.typing()
        await event.reply_picker(
            "What about?", [("orders", "Orders"), ("human", "A human")], id="topic"
        )

    @on("picker:choice", id="topic", value="orders")
    async def orders(self, event: PickerChoice) -> None:
        await event.reply_field("Your order number?", id="order", explain="e.g. 1234")

    @on("field:answer", id="order")
    async def order_number(self, event: FieldAnswer) -> None:
        await event.set_meta(subject=f"order {event.value}", data={"order": event.value})
        await event.note(f"visitor asks about order {event.value}")
        await event.reply(f"Looking at order {event.value}.")
        await event.resolve()

    @on("picker:choice", id="topic", value="human")
    async def human(self, event: PickerChoice) -> None:
        await event.assign("operator-7")
        await event.reply("Passing you to a human.")

    @on("message:received")
    async def heard_operator(self, event: MessageReceived) -> None:
        self.operator_messages.append(str(event.content))


@pytest.mark.parametrize("transport", ["rtm", "webhooks", "both"])
async def test_a_handler_acts_on_its_conversation_through_the_event(
    run_plugin: PluginRunner, visitor: Visitor, sandbox: Sandbox, transport: TransportName
) -> None:
    async with run_plugin(Concierge, transport=transport) as bot:
        await visitor.say("menu")
        picker = await visitor.expect_reply(match="What about?")
        assert picker.type == "picker" and picker.raw["content"]["id"] == "topic"
        typing = sandbox.bus.events(event="message:compose:receive", session_id=visitor.session_id)
        assert [e["data"]["type"] for e in typing] == ["start"]
        await visitor.choose("Orders")
        field = await visitor.expect_reply(match="order number")
        assert field.type == "field" and field.raw["content"]["explain"] == "e.g. 1234"
        await visitor.answer_field("1234")
        await visitor.expect_reply(match="Looking at order 1234.")
        await visitor.expect_no_reply()
        conversation = await visitor.conversation()
        assert conversation["state"] == "resolved"
        assert conversation["meta"]["subject"] == "order 1234"
        assert conversation["meta"]["data"] == {"order": "1234"}
        notes = [m for m in await visitor.transcript() if m.type == "note"]
        assert [n.text for n in notes] == ["visitor asks about order 1234"]
        assert bot.operator_messages == []  # its own picker, field, note and reply: echoes


async def test_assign_hands_the_conversation_to_an_operator(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run_plugin(Concierge):
        await visitor.say("menu")
        await visitor.expect_reply(match="What about?")
        await visitor.choose("A human")
        await visitor.expect_reply(match="Passing you to a human.")
        conversation = await visitor.conversation()
        assert conversation["assigned"] == {"user_id": "operator-7"}


async def test_an_event_outside_a_running_plugin_says_why_it_cannot_act() -> None:
    from crisp_plugin.events import parse_event
    from crisp_plugin.events.binding import Unbound

    event = parse_event(
        "message:send",
        {"website_id": "w", "session_id": "s", "type": "text", "content": "x", "fingerprint": 1},
    )
    with pytest.raises(Unbound, match="not being handled by a running plugin"):
        await event.reply("hi")  # type: ignore[attr-defined]


class Careless(Plugin):
    @on("message:send", text="^number$")
    async def number(self, event: MessageSend) -> None:
        await event.reply(42)  # type: ignore[arg-type]

    @on("message:send", text="^menu$")
    async def menu(self, event: MessageSend) -> None:
        await event.reply_picker("Pick", ["Red", "Blue"], id="colour")  # plain strings


async def test_a_reply_that_is_not_text_fails_before_any_rest_call(
    run_plugin: PluginRunner, visitor: Visitor, sandbox: Sandbox
) -> None:
    async with run_plugin(Careless, allow_errors=True):
        sent_before = len([r for r in sandbox.requests if r["method"] == "POST"])
        await visitor.say("number")
        await visitor.settle()
        await visitor.say("menu")
        picker = await visitor.expect_reply(match="Pick")
    [failure] = run_plugin.failures
    assert isinstance(failure.error, TypeError)
    assert "reply takes the text to send, a str, not int" in str(failure.error)
    posts = [r for r in sandbox.requests if r["method"] == "POST"]
    assert len(posts) - sent_before == 1  # the picker only: the bad reply never left
    assert [(c["value"], c["label"]) for c in picker.choices] == [("Red", "Red"), ("Blue", "Blue")]
