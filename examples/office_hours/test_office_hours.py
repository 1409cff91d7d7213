"""Office hours: one auto-reply per conversation outside hours, none inside."""

from pathlib import Path

from office_hours import OfficeHours

from crisp_plugin.testing import NewVisitor, PluginRunner, Visitor

CONFIG = Path(__file__).with_name("plugin.toml")
SATURDAY_NIGHT = "2026-11-21T23:30:00+01:00"  # Paris time; the office opens Mon-Fri 9-18
TUESDAY_MORNING = "2026-11-24T10:15:00+01:00"


async def test_one_reply_per_conversation_after_hours(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run_plugin(OfficeHours, config=CONFIG, settings={"now": SATURDAY_NIGHT}):
        await visitor.say("Hello, is anyone there?")
        reply = await visitor.expect_reply(match="We're away", timeout=5)
        assert "Monday to Friday" in reply.text
        await visitor.say("I'll wait then.")
        await visitor.expect_no_reply()
    replies = await visitor.replies()
    assert [m.text for m in replies] == [reply.text]  # one, not two


async def test_each_conversation_gets_its_own_reply(
    run_plugin: PluginRunner, new_visitor: NewVisitor
) -> None:
    async with run_plugin(OfficeHours, config=CONFIG, settings={"now": SATURDAY_NIGHT}):
        first, second = await new_visitor(), await new_visitor()
        await first.say("hi")
        await second.say("hi")
        await first.expect_reply(match="We're away")
        await second.expect_reply(match="We're away")


async def test_silent_during_office_hours(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(OfficeHours, config=CONFIG, settings={"now": TUESDAY_MORNING}):
        await visitor.say("Hello?")
        await visitor.expect_no_reply()


async def test_time_zone_decides(run_plugin: PluginRunner, visitor: Visitor) -> None:
    # 08:30 UTC on a Tuesday is 09:30 in Paris (open) but 03:30 in New York (closed).
    settings = {"now": "2026-11-24T08:30:00+00:00", "timezone": "America/New_York"}
    async with run_plugin(OfficeHours, config=CONFIG, settings=settings):
        await visitor.say("Hello?")
        await visitor.expect_reply(match="We're away")
