"""E-mail capture: the field's answer or a typed address ends up in the people profile."""

from email_capture import EmailCapture

from crisp_plugin.testing import PluginRunner, Visitor


async def test_field_answer_is_stored(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(EmailCapture) as plugin:
        await visitor.say("Hi, I have a question")
        ask = await visitor.expect_reply(match="e-mail address")
        assert ask.type == "field"
        await visitor.answer_field("Ada@Example.com")
        await visitor.expect_reply(match="ada@example.com")
        profile = await plugin.rest.get_profile(visitor.website_id, "ada@example.com")
        assert profile.email == "ada@example.com"
        assert profile.nickname == "ada"
        meta = await plugin.rest.get_meta(visitor.website_id, visitor.session_id)
        assert meta.email == "ada@example.com"


async def test_typed_answer_is_validated_then_stored(
    run_plugin: PluginRunner, visitor: Visitor
) -> None:
    async with run_plugin(EmailCapture) as plugin:
        await visitor.say("hello")
        await visitor.expect_reply(match="e-mail address")
        await visitor.say("my address is grace at navy")
        await visitor.expect_reply(match="doesn't look like an e-mail")
        await visitor.say("sorry: grace@navy.mil")
        await visitor.expect_reply(match="grace@navy.mil")
        profile = await plugin.rest.get_profile(visitor.website_id, "grace@navy.mil")
        assert profile.email == "grace@navy.mil"
        await visitor.say("thanks")
        await visitor.expect_no_reply()  # asked once, captured once
