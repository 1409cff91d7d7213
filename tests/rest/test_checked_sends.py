"""Checked sends against the sandbox over loopback: lost answers on both sides of the
store, timeouts after it, 429 bursts; every message lands exactly once."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from typing import Any

import pytest

from crisp_plugin import Plugin, on
from crisp_plugin.errors import RequestTimeout, ServerError
from crisp_plugin.events import MessageSend
from crisp_plugin.observer import Observer
from crisp_plugin.rest import RestClient, RetryPolicy, SentMessage
from crisp_plugin.rest.sends import FINGERPRINT_MIN
from crisp_plugin.sandbox import Sandbox
from crisp_plugin.testing import PluginRunner, Visitor

FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.02, rate_limited_delay=0.01)
# Generous enough that a send under ~50% failed attempts and 20% failed checks always
# ends (the odds of 25 bad steps in a row are below 1e-10), quick enough for a test.
STURDY = RetryPolicy(max_retries=25, base_delay=0.005, max_delay=0.05, rate_limited_delay=0.01)


class Attempts(Observer):
    """Every REST attempt the client made, by method and status (None: no answer)."""

    def __init__(self) -> None:
        self.seen: Counter[tuple[str, int | None]] = Counter()

    def rest_answered(self, method: str, status: int | None, seconds: float) -> None:
        self.seen[(method, status)] += 1

    def count(self, method: str, status: int | None = 0) -> int:
        if status == 0:
            return sum(n for (m, _), n in self.seen.items() if m == method)
        return self.seen[(method, status)]


def operator_messages(transcript: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in transcript if m["from"] == "operator"]


async def test_a_500_after_the_store_is_returned_as_sent(sb: Sandbox) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    await sb.control.set_faults(error_after_store_rate=1.0)
    attempts = Attempts()
    async with RestClient(
        sb.identifier, sb.key, api_url=sb.url, retry=FAST, observers=[attempts]
    ) as rest:
        sent = await rest.send_message(website, session, "kept once")
    [stored] = operator_messages(await sb.control.transcript(website, session))
    assert stored["content"] == "kept once" and stored["fingerprint"] == sent.fingerprint
    assert attempts.seen == Counter({("POST", 500): 1, ("GET", 200): 1})


async def test_a_timeout_after_the_store_is_returned_as_sent(sb: Sandbox) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    await sb.control.set_faults(hang_after_store_rate=1.0, hang_ms=5000)
    attempts = Attempts()
    async with RestClient(
        sb.identifier, sb.key, api_url=sb.url, retry=FAST, timeout=0.3, observers=[attempts]
    ) as rest:
        sent = await rest.send_picker(website, session, "Pick", ["yes", "no"])
    [stored] = operator_messages(await sb.control.transcript(website, session))
    assert stored["type"] == "picker" and stored["fingerprint"] == sent.fingerprint
    assert attempts.seen == Counter({("POST", None): 1, ("GET", 200): 1})


async def test_a_500_before_the_store_is_sent_again(sb: Sandbox) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    sb.faults.error_rate = 1.0  # for the first attempt only, then lifted by the observer

    class Lift(Observer):
        def rest_answered(self, method: str, status: int | None, seconds: float) -> None:
            sb.faults.error_rate = 0.0

    async with RestClient(
        sb.identifier, sb.key, api_url=sb.url, retry=FAST, observers=[Lift()]
    ) as rest:
        sent = await rest.send_note(website, session, "noted once")
    [stored] = operator_messages(await sb.control.transcript(website, session))
    assert stored["type"] == "note" and stored["fingerprint"] == sent.fingerprint
    path = f"/v1/website/{website}/conversation/{session}/message"
    calls = [(r["method"], r["status"]) for r in sb.requests if r["path"].startswith(path)]
    assert calls == [("POST", 500), ("GET", 200), ("POST", 202)]  # refused, checked, resent


async def test_a_send_whose_checks_keep_failing_ends_in_an_error_not_a_copy(
    sb: Sandbox,
) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    await sb.control.set_faults(error_after_store_rate=1.0)

    class BreakReads(Observer):  # once the send's answer is lost, every read fails too
        def rest_answered(self, method: str, status: int | None, seconds: float) -> None:
            if method == "POST":
                sb.faults.error_rate = 1.0

    async with RestClient(
        sb.identifier, sb.key, api_url=sb.url, retry=FAST, observers=[BreakReads()]
    ) as rest:
        with pytest.raises(ServerError) as info:
            await rest.send_message(website, session, "stored, never confirmed")
    assert any("may or may not" in note for note in info.value.__notes__)
    assert len(operator_messages(await sb.control.transcript(website, session))) == 1
    path = f"/v1/website/{website}/conversation/{session}/message"
    methods = [r["method"] for r in sb.requests if r["path"].startswith(path)]
    assert methods == ["POST"] + ["GET"] * FAST.max_retries


@pytest.mark.parametrize("fault", ["error_after_store_rate", "hang_after_store_rate"])
async def test_verification_off_loses_the_answer_as_before(sb: Sandbox, fault: str) -> None:
    website = sb.websites[0]
    session = await sb.control.create_conversation(website)
    await sb.control.set_faults(**{fault: 1.0}, hang_ms=5000)
    attempts = Attempts()
    async with RestClient(
        sb.identifier,
        sb.key,
        api_url=sb.url,
        retry=FAST,
        timeout=0.3,
        verify_sends=False,
        observers=[attempts],
    ) as rest:
        with pytest.raises(RequestTimeout if fault.startswith("hang") else ServerError):
            await rest.send_message(website, session, "stored, reported lost")
    [stored] = operator_messages(await sb.control.transcript(website, session))
    assert stored["content"] == "stored, reported lost"
    assert stored["fingerprint"] < FINGERPRINT_MIN  # the sandbox's own: none was sent
    assert attempts.count("POST") == 1 and attempts.count("GET") == 0


async def test_300_sends_land_exactly_once_through_every_fault(sb: Sandbox) -> None:
    website = sb.websites[0]
    conversations = 30
    per_conversation = 11  # 330 sends
    waves = 3
    sessions = [await sb.control.create_conversation(website) for _ in range(conversations)]
    await sb.control.set_faults(
        error_rate=0.2,  # 500 before the store, every route (checks included)
        error_after_store_rate=0.2,  # stored, event fired, then 500
        hang_after_store_rate=0.1,  # stored, event fired, then held past the timeout
        hang_ms=3000,
        retry_after=0,
    )
    kinds = itertools.cycle(["text", "note", "picker", "file"])
    attempts = Attempts()
    results: dict[tuple[str, str], SentMessage] = {}

    async def send(rest: RestClient, session: str, text: str) -> None:
        kind = next(kinds)
        if kind == "note":
            sent = await rest.send_note(website, session, text)
        elif kind == "picker":
            sent = await rest.send_picker(website, session, text, ["a", "b"])
        elif kind == "file":
            sent = await rest.send_file(
                website,
                session,
                f"https://files.example/{text}.png",
                name=text,
                mime_type="image/png",
            )
        else:
            sent = await rest.send_message(website, session, text)
        results[(session, text)] = sent

    async def conversation(rest: RestClient, session: str, wave: int) -> None:
        for i in range(wave, per_conversation, waves):  # in order, as a bot replies
            await send(rest, session, f"{session[-8:]}-{i}")

    async with RestClient(
        sb.identifier,
        sb.key,
        api_url=sb.url,
        retry=STURDY,
        timeout=0.5,
        observers=[attempts],
        urn=sb.urn,
    ) as rest:
        for wave in range(waves):
            await sb.control.set_faults(rate_limit_requests=40)  # a 429 burst per wave
            await asyncio.gather(*(conversation(rest, s, wave) for s in sessions))

    assert len(results) == conversations * per_conversation
    for session in sessions:
        stored = operator_messages(await sb.control.transcript(website, session))
        names = [_name(m) for m in stored]
        assert sorted(names) == sorted(text for (s, text) in results if s == session)
        assert len(set(names)) == len(names)  # exactly once
        for m in stored:
            assert results[(session, _name(m))].fingerprint == m["fingerprint"]
    # every fault was met along the way
    assert attempts.count("POST", 500) > 30 and attempts.count("GET", 500) > 5
    assert attempts.count("POST", None) > 5  # timed out after the store
    assert attempts.count("POST", 429) + attempts.count("GET", 429) >= 3 * 40


def _name(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return str(content.get("text") or content.get("name"))


class Replier(Plugin):
    @on("message:send")
    async def answer(self, event: MessageSend) -> None:
        await event.reply(f"re: {event.text}")


async def test_event_reply_survives_a_lost_answer(
    run_plugin: PluginRunner, visitor: Visitor, sandbox: Sandbox
) -> None:
    async with run_plugin(Replier, transport="webhooks"):
        await sandbox.control.set_faults(error_after_store_rate=1.0)
        await visitor.say("hello")
        reply = await visitor.expect_reply(match="re: hello")
        await visitor.expect_no_reply()  # one reply, no copy
        await sandbox.control.clear_faults()
    replies = [m for m in await visitor.transcript() if m.from_ == "operator"]
    assert [m.fingerprint for m in replies] == [reply.fingerprint]
    posts = [r for r in sandbox.requests if r["method"] == "POST" and "/message" in r["path"]]
    assert [r["status"] for r in posts] == [500]  # answered 500, checked, not sent again
