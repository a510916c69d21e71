"""Goals and scope: targets, band edges, water-filling and the widening of a ``breached`` scope."""

from __future__ import annotations

import pytest

from trimtab.planner.goals import compute_goals, water_fill
from trimtab.policy.bands import Band

BANDS = {
    "BTC": Band(0.40, 0.04),
    "ETH": Band(0.30, 0.03),
    "ALTS": Band(0.15, 0.02),
    "STABLE": Band(0.15, 0.03),
}


def weights(btc: float, eth: float, alts: float) -> dict[str, float]:
    return {"BTC": btc, "ETH": eth, "ALTS": alts, "STABLE": 1.0 - btc - eth - alts}


def test_target_scope_all_sends_every_class_to_its_target() -> None:
    goals = compute_goals(weights(0.42, 0.29, 0.20), BANDS, "STABLE", "all", "target")
    assert goals.goals == pytest.approx({"BTC": 0.40, "ETH": 0.30, "ALTS": 0.15, "STABLE": 0.15})
    assert goals.moving == ("BTC", "ETH", "ALTS")
    assert goals.notes == ()


def test_target_scope_breached_moves_only_the_breached_class() -> None:
    goals = compute_goals(weights(0.40, 0.30, 0.20), BANDS, "STABLE", "breached", "target")
    assert goals.moving == ("ALTS",)
    assert goals.goals["ALTS"] == 0.15
    assert goals.goals["BTC"] == 0.40
    assert goals.goals["STABLE"] == pytest.approx(0.15)
    assert goals.notes == ()


def test_breached_scope_widens_when_cash_would_stay_outside() -> None:
    # ALTS back to 15 % leaves the cash class at 9 %, below its 12 % floor: every class goes to target.
    goals = compute_goals(weights(0.44, 0.32, 0.19), BANDS, "STABLE", "breached", "target")
    assert goals.moving == ("BTC", "ETH", "ALTS")
    assert goals.goals == pytest.approx({"BTC": 0.40, "ETH": 0.30, "ALTS": 0.15, "STABLE": 0.15})
    assert len(goals.notes) == 1
    assert "scope widened to every class" in goals.notes[0]
    assert "STABLE would still be outside its band at 9.00 %" in goals.notes[0]


def test_breached_scope_widens_when_cash_is_the_only_breach() -> None:
    goals = compute_goals(weights(0.43, 0.32, 0.16), BANDS, "STABLE", "breached", "target")
    assert goals.moving == ("BTC", "ETH", "ALTS")
    assert "the cash class is the only breached class" in goals.notes[0]


def test_band_edge_single_breach_goes_to_its_nearest_edge() -> None:
    goals = compute_goals(weights(0.40, 0.30, 0.20), BANDS, "STABLE", "breached", "band-edge")
    assert goals.goals["ALTS"] == pytest.approx(0.17)
    assert goals.goals["STABLE"] == pytest.approx(0.13)
    assert goals.moving == ("ALTS",)


def test_band_edge_two_classes_example_a() -> None:
    bands = {"BTC": Band(0.5, 0.05), "STABLE": Band(0.5, 0.05)}
    goals = compute_goals({"BTC": 0.58, "STABLE": 0.42}, bands, "STABLE", "all", "band-edge")
    assert goals.goals["BTC"] == pytest.approx(0.55, abs=1e-15)
    assert goals.goals["STABLE"] == pytest.approx(0.45, abs=1e-15)


def test_band_edge_spreads_the_cash_shortfall_over_classes_with_room() -> None:
    # ALTS clamps to 17 %; cash would be 9 %, 3 points under its floor: BTC (room 8), ETH (room 3) and
    # ALTS (room 4) each give up 1 point.
    goals = compute_goals(weights(0.44, 0.30, 0.20), BANDS, "STABLE", "all", "band-edge")
    assert goals.goals == pytest.approx({"BTC": 0.43, "ETH": 0.29, "ALTS": 0.16, "STABLE": 0.12})
    assert goals.moving == ("BTC", "ETH", "ALTS")


def test_band_edge_breached_scope_uses_in_scope_room_first() -> None:
    goals = compute_goals(weights(0.44, 0.30, 0.20), BANDS, "STABLE", "breached", "band-edge")
    assert goals.goals == pytest.approx({"BTC": 0.44, "ETH": 0.30, "ALTS": 0.14, "STABLE": 0.12})
    assert goals.moving == ("ALTS",)
    assert goals.notes == ()


def test_band_edge_widens_to_out_of_scope_classes_when_needed() -> None:
    # Cash is at 4 %. ALTS clamps to 17 % (cash 7 %), then uses its 4 points of room (cash 11 %); the last
    # point comes from BTC and ETH, half each.
    goals = compute_goals(weights(0.44, 0.32, 0.20), BANDS, "STABLE", "breached", "band-edge")
    assert goals.goals == pytest.approx({"BTC": 0.435, "ETH": 0.315, "ALTS": 0.13, "STABLE": 0.12})
    assert goals.moving == ("BTC", "ETH", "ALTS")
    assert "scope widened to BTC, ETH" in goals.notes[0]


def test_band_edge_cash_only_breach_moves_the_other_classes_to_the_nearest_weights() -> None:
    goals = compute_goals(weights(0.43, 0.32, 0.16), BANDS, "STABLE", "breached", "band-edge")
    # Cash is at 9 %: 3 points spread evenly over BTC (room 7), ETH (room 5), ALTS (room 3).
    assert goals.goals == pytest.approx({"BTC": 0.42, "ETH": 0.31, "ALTS": 0.15, "STABLE": 0.12})
    assert "the cash class is the only breached class" in goals.notes[0]


def test_band_edge_that_cannot_be_reached_goes_as_far_as_possible_and_says_so() -> None:
    bands = {"A": Band(0.5, 0.01), "B": Band(0.3, 0.01), "CASH": Band(0.5, 0.01)}
    goals = compute_goals({"A": 0.5, "B": 0.3, "CASH": 0.2}, bands, "CASH", "all", "band-edge")
    assert goals.goals["A"] == pytest.approx(0.49)
    assert goals.goals["B"] == pytest.approx(0.29)
    assert goals.goals["CASH"] == pytest.approx(0.22)
    assert "cannot be brought inside its band" in goals.notes[-1]
    assert "27.00 %" in goals.notes[-1]


def test_water_fill_gives_equal_shares_capped_by_room() -> None:
    taken, left = water_fill(0.09, [("a", 0.01), ("b", 0.05), ("c", 0.05)])
    assert taken == pytest.approx({"a": 0.01, "b": 0.04, "c": 0.04})
    assert left == pytest.approx(0.0, abs=1e-15)


def test_water_fill_reports_what_does_not_fit() -> None:
    taken, left = water_fill(0.2, [("a", 0.05), ("b", 0.0), ("c", 0.1)])
    assert taken == pytest.approx({"a": 0.05, "c": 0.1})
    assert left == pytest.approx(0.05)
