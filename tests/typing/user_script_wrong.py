"""A plugin author's mistakes: ``mypy --strict`` must reject each line marked ``# wrong``.

test_mypy.py checks that mypy reports an error on exactly these lines, which proves
the client's signatures are real types, not ``Any``.
"""

from __future__ import annotations

from crisp_plugin.rest import RestClient, SentMessage


async def main(rest: RestClient, website_id: str) -> None:
    await rest.send_message(website_id, 42, "Hello!")  # wrong
    await rest.send_message(website_id, "session_x", "Hi", from_="bot")  # wrong
    sent: SentMessage = await rest.send_message(website_id, "session_x", "Hi")
    text: str = sent.fingerprint  # wrong
    await rest.set_state(website_id, "session_x", 3)  # wrong
    print(text)
