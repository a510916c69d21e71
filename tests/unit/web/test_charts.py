"""The inline SVG geometry: bars on one shared scale, drift and equity lines."""

from __future__ import annotations

import pytest

from trimtab.web.charts import class_bars, drift_lines, equity_line, polyline


def row(name: str, target: float, half: float, weight: float) -> dict[str, float | str | bool]:
    return {"name": name, "target": target, "lower": target - half, "upper": target + half, "weight": weight}


def test_bars_share_one_scale_with_the_band_and_target_in_place() -> None:
    bars = class_bars([row("BTC", 0.5, 0.05, 0.58), row("STABLE", 0.2, 0.04, 0.17)])
    # Scale 0 .. 0.58 x 1.15 = 0.667: every x is value / 0.667 x 100.
    high = 0.58 * 1.15
    btc = bars[0]
    assert btc["band_x"] == pytest.approx(0.45 / high * 100, abs=1e-3)
    assert btc["band_width"] == pytest.approx(0.10 / high * 100, abs=2e-3)
    assert btc["target_x"] == pytest.approx(0.5 / high * 100, abs=1e-3)
    assert btc["bar_x"] == 0.0
    assert btc["bar_width"] == pytest.approx(0.58 / high * 100, abs=1e-3)
    assert bars[1]["bar_width"] == pytest.approx(0.17 / high * 100, abs=1e-3)
    assert bars[0]["color"] != bars[1]["color"]


def test_a_short_weight_draws_left_of_zero() -> None:
    bars = class_bars([row("BTC", 0.6, 0.05, 0.6), row("HEDGE", -0.2, 0.05, -0.25)])
    hedge = bars[1]
    zero = hedge["bar_x"] + hedge["bar_width"]
    assert hedge["weight_x"] == 0.0  # the lowest value sits at the left edge
    assert zero == pytest.approx(0.25 / (0.65 * 1.15 + 0.25) * 100, abs=1e-3)  # top: upper 0.65


def test_polyline_maps_high_to_the_top() -> None:
    assert polyline([0.0, 1.0], 0.0, 1.0, 10.0) == "0.0,10.0 100.0,0.0"
    assert polyline([], 0.0, 1.0, 10.0) == ""


def test_drift_is_symmetric_around_the_middle() -> None:
    chart = drift_lines({"BTC": [{"drift": 0.02}, {"drift": -0.04}]}, height=40.0)
    assert chart["peak"] == pytest.approx(0.04)
    assert chart["zero_y"] == 20.0
    assert chart["lines"][0]["points"] == "0.0,10.0 100.0,40.0"
    assert chart["lines"][0]["last"] == pytest.approx(-0.04)


def test_a_flat_equity_curve_still_draws() -> None:
    chart = equity_line([{"equity": 100.0}, {"equity": 100.0}])
    assert chart["low"] == chart["high"] == 100.0
    assert chart["points"].count(",") == 2
