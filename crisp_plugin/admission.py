"""``Admission``: take no more events than the drain can finish.

With the memory inbox, what is still queued when a drain's deadline passes is lost,
though each of those events was acknowledged (its hook answered 200). So the dispatcher
admits a new event only while the backlog it would join can still finish within
``dispatch.drain_timeout``; past that, the hook gets 503 and Crisp delivers it again
later (to this instance once it caught up, or to another one).

The estimate: events run ``concurrency`` at a time, the events of one conversation one
after the other, each taking the recent average time (a moving average of what events
took, with a margin). Until enough events finished to know that average it assumes the
worst: ``handler_timeout`` (or the whole budget, if shorter), so a burst at start-up
admits one round (``concurrency`` events, whatever their conversations) and learns from
it. Only events that can be
delivered again are refused (web hooks): the RTM relay keeps no backlog, so refusing
one of its events would lose it. A durable inbox needs none of this: what a drain leaves
stays pending for the next start.
"""

from __future__ import annotations

__all__ = ["Admission"]

_LEARNED_AFTER = 10  # events finished before the average is trusted
_WEIGHT = 0.05  # of each new duration in the moving average
_MARGIN = 1.25


class Admission:
    """Whether one more event fits the drain budget; fed with what events took."""

    __slots__ = ("_average", "_each", "_finished", "budget", "concurrency", "worst")

    def __init__(self, *, budget: float, concurrency: int, worst: float) -> None:
        self.budget = budget
        self.concurrency = max(1, concurrency)
        self.worst = min(worst, budget) if budget > 0 else worst
        self._average = 0.0
        self._finished = 0
        self._each = self.worst  # the duration, kept up to date by finished()

    @property
    def duration(self) -> float:
        """The time an event is expected to take, in seconds."""
        return self._each

    def finished(self, seconds: float) -> None:
        """One event took ``seconds`` (queued time not included)."""
        done = self._finished = self._finished + 1
        if done == 1:
            self._average = seconds
        else:
            self._average += (seconds - self._average) * _WEIGHT
        if done >= _LEARNED_AFTER:
            self._each = self._average * _MARGIN

    def allows(self, pending: int, in_conversation: int) -> bool:
        """True when one more event (behind ``pending`` in all, ``in_conversation`` of
        them in its own conversation) can still finish within the budget."""
        budget = self.budget
        if budget <= 0:
            return True  # no drain wait: nothing to protect
        each = self._each
        rounds = pending // self.concurrency + 1  # ceil((pending + 1) / concurrency)
        if rounds * each > budget:
            return False
        # One conversation's events run one after the other: checked once the average is
        # known (the worst case would allow a single event per conversation).
        return self._finished < _LEARNED_AFTER or (in_conversation + 1) * each <= budget
