"""TTLSet: duplicates inside the TTL, forgotten after it, bounded by max_size."""

from __future__ import annotations

from crisp_plugin.dedupe import TTLSet


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_a_duplicate_until_its_ttl_passes() -> None:
    clock = Clock()
    seen = TTLSet(10, 1000, clock=clock)
    assert seen.add(("message:send", "w", "s", 1)) is False
    clock.now += 9.9
    assert seen.add(("message:send", "w", "s", 1)) is True
    assert ("message:send", "w", "s", 1) in seen
    clock.now += 0.5  # 10.4 s: past ttl * 65 / 64
    assert ("message:send", "w", "s", 1) not in seen
    assert seen.add(("message:send", "w", "s", 1)) is False
    assert len(seen) == 1


def test_size_is_bounded_by_evicting_the_oldest() -> None:
    clock = Clock()
    seen = TTLSet(60, 100, clock=clock)
    for i in range(1000):
        seen.add(i)
        clock.now += 0.01
    assert len(seen) == 100
    assert 999 in seen and 0 not in seen


def test_memory_goes_back_once_keys_expire() -> None:
    clock = Clock()
    seen = TTLSet(1, 100_000, clock=clock)
    for i in range(50_000):
        seen.add(i)
    clock.now += 2
    seen.add("one more")
    assert len(seen) == 1
    assert len(seen._buckets) == 1 and seen._peak == 1


def test_zero_ttl_disables() -> None:
    seen = TTLSet(0, 10)
    assert seen.add("a") is False and seen.add("a") is False
    assert len(seen) == 0
