"""``DispatchStats``: counters of the dispatcher, by event name, for logs and /metrics.

Kinds: ``received`` (parsed and accepted), ``handled`` (every matching handler
succeeded), ``failed`` (a handler raised or timed out), ``timeouts``, ``duplicates``,
``echoes`` (the plugin's own messages), ``ignored`` (no handler for the name),
``dropped`` (an outer middleware did not pass it on), ``redelivered`` (a delivery
that said it repeats one: a hook's attempt 2 and later), ``fenced`` (not run here: its
partition's lease moved to another instance), ``rejected`` (queue full or
draining), ``malformed`` (payload refused).
"""

from __future__ import annotations

__all__ = ["KINDS", "MAX_NAMES", "DispatchStats"]

MAX_NAMES = 256

KINDS = (
    "received",
    "handled",
    "failed",
    "timeouts",
    "duplicates",
    "echoes",
    "ignored",
    "dropped",
    "redelivered",
    "fenced",
    "rejected",
    "malformed",
)


class DispatchStats:
    """``stats.received["message:send"]``, ``stats.total("failed")``, ``snapshot()``."""

    __slots__ = KINDS

    def __init__(self) -> None:
        for kind in KINDS:
            setattr(self, kind, {})

    received: dict[str, int]
    handled: dict[str, int]
    failed: dict[str, int]
    timeouts: dict[str, int]
    duplicates: dict[str, int]
    echoes: dict[str, int]
    ignored: dict[str, int]
    dropped: dict[str, int]
    redelivered: dict[str, int]
    fenced: dict[str, int]
    rejected: dict[str, int]
    malformed: dict[str, int]

    def count(self, kind: str, name: str) -> None:
        """Add one to ``kind`` for event ``name`` (names past the 256th: ``"other"``)."""
        counter: dict[str, int] = getattr(self, kind)
        if name not in counter and len(counter) >= MAX_NAMES:
            name = "other"  # names come from the network: keep the counters bounded
        counter[name] = counter.get(name, 0) + 1

    def total(self, kind: str) -> int:
        """The sum over names of one kind."""
        counter: dict[str, int] = getattr(self, kind)
        return sum(counter.values())

    def snapshot(self) -> dict[str, dict[str, int]]:
        """A copy of every counter: ``{kind: {name: count}}``."""
        return {kind: dict(getattr(self, kind)) for kind in KINDS}
