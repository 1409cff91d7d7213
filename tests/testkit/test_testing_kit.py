"""crisp_plugin.testing: the fixtures plugin authors use, checked on a tiny echo bot."""

from __future__ import annotations

import pytest

from crisp_plugin import Plugin, on
from crisp_plugin.events import MessageSend, MessageUpdated
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import NewVisitor, PluginRunner, Transport, Visitor


class Echo(Plugin):
    """Echoes text with a prefix from [settings]; "menu" sends a picker."""

    @on("message:send", type="text")
    async def echo(self, event: MessageSend) -> None:
        text = event.text or ""
        if text == "menu":
            await self.rest.send_picker(
                event.website_id, event.session_id, "Pick one", [("a", "Apples"), ("p", "Pears")]
            )
            return
        prefix = str(self.settings.get("prefix", "echo"))
        await self.rest.send_message(event.website_id, event.session_id, f"{prefix}: {text}")

    @on("message:updated")
    async def picked(self, event: MessageUpdated) -> None:
        content = event.content if isinstance(event.content, dict) else {}
        chosen = [c["value"] for c in content.get("choices", []) if c.get("selected")]
        await self.rest.send_message(event.website_id, event.session_id, f"picked {chosen}")


async def test_replies_are_read_in_order(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(Echo, settings={"prefix": "you said"}) as plugin:
        assert plugin.settings == {"prefix": "you said"}
        await visitor.say("one")
        await visitor.say("two")
        first = await visitor.expect_reply()
        second = await visitor.expect_reply()
        assert (first.text, second.text) == ("you said: one", "you said: two")
        assert first.from_ == "operator" and first.origin == plugin.urn
        texts = [m.text for m in await visitor.transcript()]
        assert sorted(texts) == ["one", "two", "you said: one", "you said: two"]


async def test_expect_reply_says_what_came_instead(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run_plugin(Echo):
        await visitor.say("hello")
        with pytest.raises(AssertionError, match=r"matching 'goodbye'.*'echo: hello'"):
            await visitor.expect_reply(match="goodbye", timeout=0.5)


async def test_expect_no_reply_fails_when_the_bot_answers(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run_plugin(Echo):
        await visitor.say("hello")
        with pytest.raises(AssertionError, match=r"expected no reply.*'echo: hello'"):
            await visitor.expect_no_reply(within=0.5)


async def test_choose_by_label_or_value(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(Echo):
        await visitor.say("menu")
        picker = await visitor.expect_reply(match="Pick one")
        assert [c["label"] for c in picker.choices] == ["Apples", "Pears"]
        with pytest.raises(AssertionError, match="not a choice"):
            await visitor.choose("Bananas")
        await visitor.choose("Pears")
        await visitor.expect_reply(match=r"picked \['p'\]")
        await visitor.choose("a", picker=picker)
        await visitor.expect_reply(match=r"picked \['a'\]")


async def test_each_visitor_has_a_conversation(
    run_plugin: PluginRunner, new_visitor: NewVisitor
) -> None:
    async with run_plugin(Echo):
        alice, bob = await new_visitor(), await new_visitor()
        assert alice.session_id != bob.session_id
        await alice.say("from alice")
        await bob.say("from bob")
        assert (await bob.expect_reply()).text == "echo: from bob"
        assert (await alice.expect_reply()).text == "echo: from alice"


@pytest.mark.parametrize("transport", ["webhooks", "both"])
async def test_hooks_are_registered_for_the_run_only(
    run_plugin: PluginRunner, visitor: Visitor, sandbox: Sandbox, transport: Transport
) -> None:
    async with run_plugin(Echo, transport=transport):
        assert len(sandbox.hooks.urls) == 1
        await visitor.say("over hooks")
        await visitor.expect_reply(match="echo: over hooks")
        await visitor.expect_no_reply(within=0.3)
    assert sandbox.hooks.urls == []
