"""The greeter answers a greeting, over each transport, and ignores other talk."""

import pytest
from greeter import Greeter

from crisp_plugin.testing import PluginRunner, TransportName, Visitor


@pytest.mark.parametrize("transport", ["rtm", "webhooks", "both"])
async def test_answers_hello(
    run_plugin: PluginRunner, visitor: Visitor, transport: TransportName
) -> None:
    async with run_plugin(Greeter, transport=transport):
        await visitor.say("hello there")
        reply = await visitor.expect_reply(timeout=5)
        assert reply.text == "Hi! How can I help?"
        await visitor.expect_no_reply()  # once, even when both transports deliver


async def test_ignores_other_messages(run_plugin: PluginRunner, visitor: Visitor) -> None:
    async with run_plugin(Greeter):
        await visitor.say("where is my parcel?")
        await visitor.expect_no_reply()
        await visitor.say("Hey!")
        await visitor.expect_reply(match="How can I help", timeout=5)
