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


def test_a_full_set_evicts_the_oldest_keys_in_chunks_within_one_time_slot() -> None:
    clock = Clock()
    seen = TTLSet(600, 6400, clock=clock)  # a chunk of 100 keys
    for i in range(20_000):  # all in one time slot: the order inside it decides
        seen.add(i)
    assert 6300 <= len(seen) <= 6400
    assert all(i in seen for i in range(20_000 - 6300, 20_000))  # the newest stay
    assert not any(i in seen for i in range(20_000 - 6400))  # the oldest went


def test_keys_keep_expiring_after_an_eviction_emptied_the_oldest_buckets() -> None:
    clock = Clock()
    seen = TTLSet(64, 10, clock=clock)  # one-second slots, a chunk of one key
    for i in range(30):
        seen.add(i)
        clock.now += 1.0
    assert len(seen) == 10 and 29 in seen and 19 not in seen
    clock.now += 66  # past every key's TTL
    assert 29 not in seen
    assert seen.add("later") is False and len(seen) == 1
    assert seen.add("later") is True
