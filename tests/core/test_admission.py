"""Admission: one more event is taken only while its backlog fits the drain budget."""

from __future__ import annotations

from crisp_plugin.admission import Admission


def test_before_learning_one_round_of_the_worst_case_fits() -> None:
    admission = Admission(budget=30.0, concurrency=4, worst=30.0)
    assert admission.duration == 30.0
    assert all(admission.allows(pending, 0) for pending in range(4))
    assert not admission.allows(4, 0)  # a second round of 30 s each: past the budget


def test_once_learned_the_average_with_its_margin_bounds_the_backlog() -> None:
    admission = Admission(budget=10.0, concurrency=2, worst=10.0)
    for _ in range(9):
        admission.finished(0.1)
    assert admission.duration == 10.0  # nine events: not trusted yet
    admission.finished(0.1)
    assert abs(admission.duration - 0.125) < 1e-9
    # 80 rounds of 0.125 s = 10 s: pending 159 still fits, 160 does not
    assert admission.allows(159, 0) and not admission.allows(160, 0)
    # one conversation's events run one after the other
    assert admission.allows(0, 79) and not admission.allows(0, 80)


def test_no_budget_takes_everything() -> None:
    admission = Admission(budget=0.0, concurrency=1, worst=30.0)
    assert admission.allows(10**6, 10**6)
