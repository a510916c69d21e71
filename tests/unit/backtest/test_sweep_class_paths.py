"""``trimtab sweep`` varies any policy key: a class's own band (by name or position), auto bands, the budget."""

from __future__ import annotations

import pytest

from trimtab.backtest.sweep import apply_point, grid_points, parse_grid
from trimtab.errors import BadInputError
from trimtab.policy.config import Policy

DOCUMENT = {
    "base_currency": "USDT",
    "class": [
        {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05},
        {"name": "ALTS", "assets": ["SOL", "BNB"], "target": 0.3, "band_relative": 0.2},
        {"name": "CASH", "assets": ["USDT"], "target": 0.2, "band": 0.05, "cash": True},
    ],
}


def test_a_class_band_by_name_or_position_and_the_tracking_budget() -> None:
    axes = parse_grid(["class.ALTS.band=auto,0.03", "class.0.band=0.04", "rebalance.tracking_budget=0.01,0.02"])
    points = grid_points(axes)
    assert len(points) == 4
    document = apply_point(DOCUMENT, points[0])
    alts = document["class"][1]
    assert (alts["band"], "band_relative" in alts) == ("auto", False)
    assert document["class"][0]["band"] == 0.04
    assert document["rebalance"]["tracking_budget"] == 0.01
    assert DOCUMENT["class"][1] == {"name": "ALTS", "assets": ["SOL", "BNB"], "target": 0.3, "band_relative": 0.2}
    policy = Policy.model_validate(document)
    assert [c.band_auto for c in policy.classes] == [False, True, False]


def test_an_unknown_class_is_named() -> None:
    [point] = grid_points(parse_grid(["class.ETH.band=0.05"]))
    with pytest.raises(BadInputError, match="ETH is neither a class name nor a class position"):
        apply_point(DOCUMENT, point)
