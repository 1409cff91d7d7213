"""What one recovery may spend: REST calls per gap and per UTC day.

A plugin token's daily quota (5,000 requests by default) is shared by everything the
plugin does; recovery takes at most ``rtm.backfill.max_calls_per_gap`` calls for one gap
and ``max_calls_per_day`` in a day (every call also counts in the quota, like any other,
through the REST client). :meth:`CallBudget.take` is asked before each call and raises
:class:`BudgetSpent` once either cap is reached: the recovery stops there and says what
it did not get to.
"""

from __future__ import annotations

__all__ = ["BudgetSpent", "CallBudget"]


class BudgetSpent(Exception):
    """A recovery cap is reached; ``which`` names the setting."""

    def __init__(self, which: str, limit: int) -> None:
        self.which = which
        self.limit = limit
        super().__init__(f"rtm.backfill.{which} ({limit}) spent")


class CallBudget:
    """Calls of one recovery, against its per-gap cap and what is left of the day's."""

    __slots__ = ("day_limit", "day_spent_before", "gap_limit", "spent")

    def __init__(self, gap_limit: int, day_limit: int, day_spent_before: int) -> None:
        self.gap_limit = gap_limit
        self.day_limit = day_limit
        self.day_spent_before = day_spent_before
        self.spent = 0

    def __repr__(self) -> str:
        return f"<CallBudget spent={self.spent} gap={self.gap_limit} left_today={self.left}>"

    @property
    def left(self) -> int:
        """Calls this recovery may still make."""
        today = self.day_limit - self.day_spent_before - self.spent
        return max(0, min(self.gap_limit - self.spent, today))

    def take(self) -> None:
        """Count one call, or raise :class:`BudgetSpent` (nothing counted)."""
        if self.spent >= self.gap_limit:
            raise BudgetSpent("max_calls_per_gap", self.gap_limit)
        if self.day_spent_before + self.spent >= self.day_limit:
            raise BudgetSpent("max_calls_per_day", self.day_limit)
        self.spent += 1
