"""A Marketplace plugin over RTM recovers a relay gap from the websites it keeps as
installed: what a visitor wrote while the relay was away is answered, with its
website's settings, and the recovery lists no website over REST."""

from __future__ import annotations

from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import PluginRunner
from tests.marketplace.bots import Responder
from tests.marketplace.conftest import SITES
from tests.transports.transport_kit import eventually

FIRST = next(iter(SITES))


async def test_a_gap_is_recovered_from_the_installations_it_keeps(sb: Sandbox) -> None:
    kit = PluginRunner(sb)
    async with kit(Responder, transport="rtm"):  # type: ignore[arg-type]
        session = await sb.control.create_conversation(FIRST)
        listed_before = sum("/connect/websites/all/" in r["path"] for r in sb.requests)
        await sb.control.relay_outage(0.3)
        await sb.control.visitor_says(FIRST, session, "while the relay was away")
        await eventually(
            lambda: any(
                m["from"] == "operator"
                for m in sb.store.websites[FIRST].conversations[session].messages
            ),
            10,
        )
        await kit.settle()
        conv = sb.store.websites[FIRST].conversations[session]
        assert [m["content"] for m in conv.messages if m["from"] == "operator"] == [
            "Bonjour (formal)"
        ]
        assert sum("/connect/websites/all/" in r["path"] for r in sb.requests) == listed_before
