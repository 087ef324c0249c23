"""Performance-profile and target arithmetic against small examples worked by hand."""

from __future__ import annotations

import math

import pytest

from deepzen.compare.profiles import first_reaching, performance_profile, ratios, target_value

INF = math.inf


def test_profile_of_a_hand_worked_example() -> None:
    # steps to target on three problems; c never solves p2, nobody solves p3
    costs = {"p1": {"a": 100, "b": 150, "c": 400},
             "p2": {"a": 300, "b": 100, "c": INF},
             "p3": {"a": INF, "b": INF, "c": INF}}
    # ratios by hand: p1: a 1, b 1.5, c 4; p2: a 3, b 1, c inf; p3: inf for all
    assert ratios(costs)["p1"] == {"a": 1.0, "b": 1.5, "c": 4.0}
    assert ratios(costs)["p2"]["a"] == 3.0
    rho = performance_profile(costs, [1.0, 1.5, 2.0, 3.0, 4.0])
    assert rho["a"] == pytest.approx([1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3])
    assert rho["b"] == pytest.approx([1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3])
    assert rho["c"] == pytest.approx([0, 0, 0, 0, 1 / 3])


def test_targets_leave_the_same_slack_both_ways() -> None:
    assert target_value(0.9, 0.95, maximize=True) == pytest.approx(0.855)
    assert target_value(0.2, 0.8, maximize=False) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="target fraction"):
        target_value(1.0, 1.5, maximize=True)


def test_first_reaching_skips_non_finite_values() -> None:
    assert first_reaching([0.5, math.nan, 0.91, 0.95], 0.9, maximize=True) == 2
    assert first_reaching([3.0, 2.0, 1.0], 0.5, maximize=False) is None
    assert first_reaching([3.0, math.inf, 0.4], 0.5, maximize=False) == 2
