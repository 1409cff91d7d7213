"""Satisfaction: resolving a conversation brings a rating picker; the choice is recorded."""

from satisfaction import Satisfaction

from crisp_plugin.testing import PluginRunner, Visitor


async def test_rating_is_recorded(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(Satisfaction) as plugin:
        await visitor.say("Thanks, that solved it")
        await visitor.resolve()
        picker = await visitor.expect_reply(match="How did we do")
        assert picker.type == "picker"
        assert [c["value"] for c in picker.choices] == ["5", "4", "3", "2", "1"]
        await visitor.choose("Excellent")
        await visitor.expect_reply(match="Thank you for your feedback")
        meta = await plugin.rest.get_meta(visitor.website_id, visitor.session_id)
        assert meta.data["rating"] == "5"
        state = plugin.state.conversation(visitor.website_id, visitor.session_id)
        assert await state.get("rating") == "5"
