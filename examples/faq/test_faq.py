"""FAQ: answers from the toml's table; after "human" the bot hands over and stays silent."""

from pathlib import Path

from faq import FAQ

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import PluginRunner, Visitor

CONFIG = Path(__file__).with_name("plugin.toml")


async def test_answers_from_the_table(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(FAQ, config=CONFIG):
        await visitor.say("How much does it cost?")
        await visitor.expect_reply(match="25 EUR a month")
        await visitor.say("Can I get a refund?")
        await visitor.expect_reply(match="cancel any time")
        await visitor.say("Nice weather today")
        await visitor.expect_no_reply()


async def test_hands_over_to_a_human_then_stays_silent(
    run_plugin: PluginRunner, visitor: Visitor, sandbox: Sandbox
) -> None:
    owner = sandbox.store.websites[visitor.website_id].operators[0]["user_id"]
    async with run_plugin(FAQ, config=CONFIG):
        await visitor.say("I want to talk to a human please")
        await visitor.expect_reply(match="passing you to a human")
        conversation = await visitor.conversation()
        assert conversation["assigned"] == {"user_id": owner}
        await visitor.say("What are your prices?")  # would be answered before the hand-off
        await visitor.expect_no_reply()
    texts = [m.text for m in await visitor.replies()]
    assert texts == ["Sure, I'm passing you to a human. Someone will answer here shortly."]
