"""The sweep's grid (parsing, applying a point to a policy) and the efficient set its report draws."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trimtab.backtest.sweep import (
    SweepJob,
    SweepPoint,
    apply_point,
    grid_points,
    mark_efficient,
    parse_grid,
    policy_for,
    total_cost,
)
from trimtab.errors import BadInputError

POLICY: dict[str, Any] = {
    "base_currency": "USDT",
    "class": [
        {"name": "BTC", "assets": ["BTC"], "target": 0.6, "band_relative": 0.2, "hedge": "BTC/USDT:USDT"},
        {"name": "STABLE", "assets": ["USDT"], "target": 0.4, "band": 0.05, "cash": True},
    ],
    "trigger": {"kind": "threshold"},
}


def test_ranges_are_inclusive_and_lists_keep_their_order() -> None:
    axes = parse_grid(["band=0.01:0.05:0.01", "every=1d,7d,30d", "to=target,band-edge"])

    assert axes[0].values == (0.01, 0.02, 0.03, 0.04, 0.05)
    assert axes[1].values == ("1d", "7d", "30d")
    assert len(grid_points(axes)) == 5 * 3 * 2
    assert grid_points(axes)[0] == {"band": 0.01, "every": "1d", "to": "target"}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("band", "must read NAME=VALUES"),
        ("band=0.05:0.01:0.01", "FIRST <= LAST"),
        ("band=a:b:c", "not a range"),
        ("colour=red", "unknown parameter"),
    ],
)
def test_bad_grid_items_are_bad_input(item: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        parse_grid([item])


def test_a_repeated_name_is_bad_input() -> None:
    with pytest.raises(BadInputError, match="given twice"):
        parse_grid(["to=target", "to=band-edge"])


def test_a_point_sets_bands_period_and_rebalance_fields() -> None:
    document = apply_point(
        POLICY, {"band": 0.03, "every": "7d", "to": "band-edge", "instrument": "perp", "costs.taker_fee": 0.0004}
    )

    assert [c["band"] for c in document["class"]] == [0.03, 0.03]
    assert "band_relative" not in document["class"][0]
    assert document["trigger"] == {"kind": "hybrid", "every": "7d"}
    assert document["rebalance"] == {"to": "band-edge", "instrument": "perp"}
    assert document["costs"] == {"taker_fee": 0.0004}
    assert POLICY["class"][0]["band_relative"] == 0.2  # the base document is untouched


def test_a_point_that_breaks_the_policy_names_the_point(tmp_path: Path) -> None:
    job = SweepJob(POLICY, "policy.toml", tmp_path, None, None, 100_000.0)

    assert policy_for(job, {"band": 0.02}).classes[0].band == 0.02
    with pytest.raises(BadInputError, match=r"policy\.toml \[to=middle\]: rebalance\.to"):
        policy_for(job, {"to": "middle"})


def test_efficient_points_are_those_no_other_point_beats_on_both_axes() -> None:
    points = [
        SweepPoint("a", {}, tracking_error=0.01, cost=900.0),
        SweepPoint("b", {}, tracking_error=0.03, cost=200.0),
        SweepPoint("c", {}, tracking_error=0.03, cost=250.0),  # same error as b, dearer
        SweepPoint("d", {}, tracking_error=0.02, cost=900.0),  # same cost as a, worse error
        SweepPoint("e", {}, tracking_error=0.05, cost=100.0),
    ]

    efficient = {point.label for point in mark_efficient(points) if point.efficient}

    assert efficient == {"a", "b", "e"}


def test_total_cost_adds_fees_slippage_and_funding() -> None:
    assert total_cost({"fees": 10.0, "slippage": 2.5, "funding": -1.0}) == 11.5
