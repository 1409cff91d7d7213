"""Recovery's REST reads: against the two ways a server may page a cut message batch
(Crisp does not document which end it keeps; ``Pager`` stands in for both, as no real
server here pages the other way), against the sandbox while a conversation moves up
the list being read, and its call budget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from crisp_plugin import Config
from crisp_plugin.backfill.budget import BudgetSpent, CallBudget
from crisp_plugin.backfill.reader import WindowReader
from crisp_plugin.rest import RestClient
from crisp_plugin.sandbox import Sandbox

PAGE = 20


class Pager:
    """Messages 1..n of one conversation stamped 1000 * i; ``keeps`` which end of a cut
    batch: ``"oldest"`` (read forward) or ``"newest"`` (read back)."""

    def __init__(self, n: int, keeps: str) -> None:
        self.messages = [
            {"fingerprint": i, "timestamp": i * 1000, "from": "user"} for i in range(1, n + 1)
        ]
        self.keeps = keeps
        self.calls: list[Mapping[str, Any]] = []

    async def request(
        self, method: str, path: str, *, query: Mapping[str, Any] | None = None
    ) -> Any:
        q = dict(query or {})
        self.calls.append(q)
        found = [m for m in self.messages if m["timestamp"] > int(q.get("timestamp_after", 0))]
        if "timestamp_before" in q:
            found = [m for m in found if m["timestamp"] < int(q["timestamp_before"])]
            return found[-PAGE:]
        return found[:PAGE] if self.keeps == "oldest" else found[-PAGE:]


@pytest.mark.parametrize("keeps", ["oldest", "newest"])
async def test_every_message_of_the_window_is_read_whichever_end_a_server_keeps(
    keeps: str,
) -> None:
    server = Pager(95, keeps)
    reader = WindowReader(server, CallBudget(100, 1000, 0))
    got = await reader.messages("w", "s", 10_000)
    assert [m["fingerprint"] for m in got] == list(range(11, 96))
    assert reader.pages == ("forward" if keeps == "oldest" else "back")
    first = len(server.calls)
    again = await reader.messages("w", "s", 10_000)  # the way is known: fewer calls
    assert again == got and len(server.calls) - first < first


async def test_a_short_batch_costs_one_call() -> None:
    server = Pager(5, "oldest")
    reader = WindowReader(server, CallBudget(100, 1000, 0))
    assert len(await reader.messages("w", "s", 0)) == 5
    assert server.calls == [{"timestamp_after": 0}] and reader.budget.spent == 1


def test_the_budget_stops_at_the_gap_cap_and_at_what_is_left_of_the_day() -> None:
    budget = CallBudget(gap_limit=2, day_limit=10, day_spent_before=0)
    budget.take()
    budget.take()
    with pytest.raises(BudgetSpent, match="max_calls_per_gap"):
        budget.take()
    assert budget.spent == 2
    late = CallBudget(gap_limit=5, day_limit=10, day_spent_before=9)
    late.take()
    with pytest.raises(BudgetSpent, match=r"max_calls_per_day \(10\)"):
        late.take()
    assert late.left == 0


class WritesAfterFirstPage:
    """The plugin's REST client on a sandbox; once the first conversations page is
    read, a visitor writes in the conversation at the end of the list, which moves it
    to the front, onto the page already read."""

    def __init__(self, rest: RestClient, sb: Sandbox, session: str) -> None:
        self.rest, self.sb, self.session = rest, sb, session
        self.pages: list[str] = []

    async def request(
        self, method: str, path: str, *, query: Mapping[str, Any] | None = None
    ) -> Any:
        answer = await self.rest.request(method, path, query=query)
        if "/conversations/" in path:
            self.pages.append(path.rsplit("/", 1)[1])
            if len(self.pages) == 1:
                await self.sb.control.visitor_says(None, self.session, "moved up")
        return answer


async def test_a_conversation_that_moves_up_while_the_list_is_read_is_not_missed() -> None:
    async with Sandbox(port=0) as sb:
        sessions = [await sb.control.create_conversation() for _ in range(60)]
        for session in sessions:  # oldest first: the first one is last in the list
            await sb.control.visitor_says(None, session, "hello")
        settings = Config.model_validate(
            {
                "plugin": {"class": "bot:Bot"},
                "crisp": {"identifier": sb.identifier, "key": sb.key, "api_url": sb.url},
            }
        )
        async with RestClient.from_settings(settings) as rest:
            server = WritesAfterFirstPage(rest, sb, sessions[0])
            reader = WindowReader(server, CallBudget(100, 1000, 0))
            listed = await reader.conversations(sb.websites[0], 0)
    assert {c.session_id for c in listed} == set(sessions)
    assert server.pages == ["1", "2", "1"]  # the front read again once: one call
