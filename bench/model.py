"""What a workload is, what one run of a contender yields, and how rounds are summarised.

A workload has contenders (ours first: it is the reference of every ratio) and
metrics; each round runs every contender once, in an order that rotates from round to
round so drift (heat, caches, other load) does not favour anyone; the table shows the
median of the rounds.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Metric:
    key: str
    label: str  # e.g. "req/s", "p99 ms"
    higher_is_better: bool
    digits: int = 0


@dataclass(frozen=True)
class Options:
    """Sizes and timings of one harness invocation (``--quick`` shrinks them)."""

    quick: bool = False
    rounds: int = 3
    # rounds of the workloads whose figures a shared machine disturbs most (W1, W4)
    # and of the memory probe, whose figures barely move; --rounds sets them all
    noisy_rounds: int = 5
    steady_rounds: int = 2
    duration: float = 5.0  # seconds of load per W1 run
    connections: int = 64  # W1 wrk connections
    relay_events: int = 20_000  # W2 N
    conversations: int = 100  # W3 K
    messages_per_conversation: int = 20  # W3 messages each conversation sends, saturated
    paced_messages: int = 10  # W3 messages each conversation sends, paced
    think_ms: float = 200.0  # W3 paced: mean pause of a visitor between reply and message
    rest_calls: int = 5_000  # W4 N, every contender
    memory_conversations: int = 100_000
    load_cpu: int | None = 0  # core of the load generator (wrk, the W3 driver)
    server_cpu: int | None = 1  # core of the contender

    @classmethod
    def quick_options(cls, rounds: int = 1) -> Options:
        return cls(
            quick=True,
            rounds=rounds,
            noisy_rounds=rounds,
            steady_rounds=rounds,
            duration=1.0,
            connections=16,
            relay_events=1_000,
            conversations=10,
            messages_per_conversation=3,
            paced_messages=2,
            think_ms=20.0,
            rest_calls=100,
            memory_conversations=2_000,
        )


RunFn = Callable[[Options], Awaitable[dict[str, float]]]


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    run: RunFn
    ours: bool = False


@dataclass
class Workload:
    key: str  # "w1"
    title: str
    metrics: list[Metric]
    contenders: list[Contender]
    limits: str = ""  # what limits the figures, for RESULTS.md
    rounds: int | None = None  # None: Options.rounds
    # figures of every round: contender key -> metric key -> values
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    disturbed: int = 0  # runs kept although other processes loaded the machine

    def add(self, contender: str, figures: dict[str, float]) -> None:
        per = self.samples.setdefault(contender, {})
        for key, value in figures.items():
            per.setdefault(key, []).append(value)

    def median(self, contender: str, metric: str) -> float | None:
        values = self.samples.get(contender, {}).get(metric)
        return statistics.median(values) if values else None

    @property
    def reference(self) -> Contender:
        return next((c for c in self.contenders if c.ours), self.contenders[0])


def ratio(ours: float | None, other: float | None, higher_is_better: bool) -> float | None:
    """How many times better ours is than ``other`` (>1: ours better)."""
    if ours is None or other is None or ours <= 0 or other <= 0:
        return None
    return ours / other if higher_is_better else other / ours


def rotation(items: list[Contender], round_index: int) -> list[Contender]:
    """The contenders in the order of one round: rotated by one each round."""
    if not items:
        return []
    k = round_index % len(items)
    return items[k:] + items[:k]
