"""Triage end to end on the sandbox, over RTM, web hooks and both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from triage.bot import Triage

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import PluginRunner, TransportName, Visitor

CONFIG = Path(__file__).with_name("plugin.toml")
OPEN = {"now": "2026-12-01T10:00:00+01:00"}  # a Tuesday morning in Paris
MEMORY = {"backend": "memory"}


def run(runner: PluginRunner, transport: TransportName = "rtm", **options: Any) -> Any:
    options.setdefault("settings", OPEN)
    options.setdefault("state", MEMORY)
    return runner(Triage, transport=transport, config=CONFIG, **options)


@pytest.mark.parametrize("transport", ["rtm", "webhooks", "both"])
async def test_greet_sort_file_the_email_answer_then_hand_over(
    run_plugin: PluginRunner, visitor: Visitor, sandbox: Sandbox, transport: TransportName
) -> None:
    async with run(run_plugin, transport):
        await visitor.say("hello")
        greeting = await visitor.expect_reply(match="^Hi! I'm the help bot.$")
        assert "away" not in greeting.text
        await visitor.expect_reply(match="What is it about?")
        await visitor.say("hello again?")  # greets once; asks to pick instead
        await visitor.expect_reply(match="Please pick a topic first")
        await visitor.choose("Billing")
        await visitor.expect_reply(match="Your e-mail")
        await visitor.answer_field("Ada@Example.com")
        await visitor.expect_reply(match="Thanks! Ask me about billing.")
        assert (await visitor.conversation())["meta"]["email"] == "ada@example.com"
        people = sandbox.store.websites[visitor.website_id].people
        assert [p["email"] for p in people.values()] == ["ada@example.com"]

        await visitor.say("Where is my invoice?")
        await visitor.expect_reply(match="Settings > Billing > Invoices")
        await visitor.say("Can you sing?")
        await visitor.expect_reply(match="I don't know that one")
        await visitor.say("Or dance?")  # the second miss: a human
        await visitor.expect_reply(match="passing you to a human")
        notes = [m.text for m in await visitor.transcript() if m.type == "note"]
        assert notes == ["The visitor asked for a human (triage bot)."]
        await visitor.say("hello?")
        await visitor.expect_no_reply()  # a human has it now


async def test_outside_office_hours_the_greeting_says_when_a_human_answers(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run(run_plugin, settings={"now": "2026-12-06T11:00:00+01:00"}):  # a Sunday
        await visitor.say("anyone there?")
        await visitor.expect_reply(match="We're away now; a human answers from 09:00.")


async def test_asking_for_a_human_hands_over_at_once(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run(run_plugin, settings={**OPEN, "operator": "operator-7"}):
        await visitor.say("hi")
        await visitor.expect_reply(match="What is it about?")
        await visitor.choose("A human")
        await visitor.expect_reply(match="passing you to a human")
        assert (await visitor.conversation())["assigned"] == {"user_id": "operator-7"}


async def test_a_typed_email_is_checked_and_accepted(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run(run_plugin):
        await visitor.say("hi")
        await visitor.choose("Technical")
        await visitor.expect_reply(match="Your e-mail")
        await visitor.say("it's ada at example")
        await visitor.expect_reply(match="doesn't look like an e-mail")
        await visitor.say("sorry: ada@example.com")
        await visitor.expect_reply(match="Ask me about technical.")
        await visitor.say("I forgot my password")
        await visitor.expect_reply(match="Forgot password")


async def test_the_conversation_resumes_its_step_after_a_restart_with_sqlite(
    run_plugin: PluginRunner, visitor: Visitor, tmp_path: Path
) -> None:
    sqlite = {"backend": "sqlite", "path": str(tmp_path / "triage.sqlite3")}
    async with run(run_plugin, state=sqlite):
        await visitor.say("hi")
        await visitor.choose("Billing")
        await visitor.expect_reply(match="Your e-mail")
    async with run(run_plugin, state=sqlite):  # a new process would see the same file
        await visitor.answer_field("ada@example.com")
        await visitor.expect_reply(match="Ask me about billing.")  # the topic survived
        await visitor.say("hello")
        await visitor.expect_reply(match="Invoices|25 EUR|don't know")  # in the FAQ step
