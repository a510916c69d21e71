"""The cash class's goal is the remainder, and exactly its target when every other class goes to target."""

from __future__ import annotations

import pytest

from trimtab.planner.goals import compute_goals
from trimtab.policy.bands import Band


def test_every_class_to_target_leaves_the_cash_goal_exactly_at_its_target() -> None:
    bands = {"BTC": Band(0.5, 0.05), "ETH": Band(0.3, 0.03), "STABLE": Band(0.2, 0.05)}
    weights = {"BTC": 0.5321, "ETH": 0.3578, "STABLE": 0.1101}
    assert 1.0 - (0.5 + 0.3) != 0.2  # 0.19999999999999996
    goals = compute_goals(weights, bands, "STABLE", "all", "target")
    assert goals.goals == {"BTC": 0.5, "ETH": 0.3, "STABLE": 0.2}


def test_a_band_edge_goal_keeps_the_true_remainder() -> None:
    bands = {"BTC": Band(0.5, 0.05), "ETH": Band(0.3, 0.03), "STABLE": Band(0.2, 0.05)}
    weights = {"BTC": 0.5, "ETH": 0.36, "STABLE": 0.14}
    goals = compute_goals(weights, bands, "STABLE", "breached", "band-edge")
    assert goals.goals["ETH"] == pytest.approx(0.33)
    assert goals.goals["STABLE"] == pytest.approx(1.0 - 0.5 - goals.goals["ETH"], abs=1e-15)
