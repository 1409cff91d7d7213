"""A plugin author's script: must type-check under ``mypy --strict`` (see test_mypy.py)."""

from __future__ import annotations

import asyncio

from crisp_plugin import Observer
from crisp_plugin.errors import NotFound, RateLimited
from crisp_plugin.rest import Conversation, RestClient, RetryPolicy, SentMessage


class Sent(Observer):
    def message_sent(self, website_id: str, session_id: str, fingerprint: int) -> None:
        print(website_id, session_id, fingerprint)


async def main(identifier: str, key: str, website_id: str) -> list[str]:
    policy = RetryPolicy(max_retries=5, base_delay=0.5)
    async with RestClient(identifier, key, urn="urn:acme:bot:1", retry=policy) as rest:
        sent: SentMessage = await rest.send_message(website_id, "session_x", "Hello!")
        fingerprint: int = sent.fingerprint
        await rest.send_picker(website_id, "session_x", "Pick", [("yes", "Yes"), ("no", "No")])
        await rest.compose(website_id, "session_x", False)
        rest.add_observer(Sent())
        print(fingerprint + 1)
        try:
            conv: Conversation = await rest.get_conversation(website_id, "session_x")
        except NotFound as exc:
            print(exc.status, exc.reason, exc.path)
            return []
        except RateLimited as exc:
            print(exc.retry_after)
            return []
        print(conv.state, conv.meta.email if conv.meta else None)
        await rest.set_state(website_id, conv.session_id, "resolved")
        ids = [c.session_id async for c in rest.list_conversations(website_id, max_pages=2)]
        raw: object = await rest.website.get_conversation_metas(website_id, "session_x")
        await rest.plugin.save_subscription_settings(website_id, "plugin-id", {"a": 1})
        async for site in rest.list_connect_websites():
            ids.append(site.website_id)
        endpoints = await rest.get_connect_endpoints()
        print(raw, endpoints.url, (await rest.get_settings(website_id)).settings)
        return ids


if __name__ == "__main__":
    asyncio.run(main("id", "key", "website"))
