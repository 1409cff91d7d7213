"""Recovery's REST reads against the two ways a server may page a cut message batch
(Crisp does not document which end it keeps), and its call budget. The servers here
are in-process stand-ins of those two behaviours: no real one can be made to page
the other way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from crisp_plugin.backfill.budget import BudgetSpent, CallBudget
from crisp_plugin.backfill.reader import WindowReader

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
