"""The inline SVG geometry: bars on one shared scale, drift and equity lines."""

from __future__ import annotations

import pytest

from trimtab.web.charts import (
    PLOT_BOTTOM,
    PLOT_LEFT,
    PLOT_RIGHT,
    PLOT_TOP,
    class_bars,
    drift_chart,
    equity_chart,
    nice_ticks,
)


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


def test_nice_ticks_are_round_steps_covering_the_range() -> None:
    assert nice_ticks(0.0, 10.0) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]  # 10 / 5 = 2
    assert nice_ticks(99_000.0, 101_000.0) == [99_000.0, 99_500.0, 100_000.0, 100_500.0, 101_000.0]  # 400 -> 500
    assert nice_ticks(-0.03, 0.03) == [-0.02, 0.0, 0.02]  # 0.012 -> 0.02
    assert nice_ticks(0.0, 1.0, count=5) == [0.0, 0.25, 0.5, 0.75, 1.0]  # 0.25 exactly


def test_a_move_of_3_42_on_100_000_is_drawn_small_with_labelled_axes() -> None:
    # The case: +3.42 USDT over two valuations drew a full-height cliff without axes.
    curve = [
        {"timestamp": "2026-11-21T00:00:00Z", "equity": 100_000.0},
        {"timestamp": "2026-11-21T00:01:00Z", "equity": 100_003.42},
    ]
    chart = equity_chart(curve)
    (first, last) = [tuple(map(float, p.split(","))) for p in chart["lines"][0]["points"].split()]
    plot_height = PLOT_BOTTOM - PLOT_TOP
    # The value axis spans at least 1 % of equity (1,000) plus 5 % padding on each side: 1,100 in all,
    # so 3.42 is 3.42 / 1,100 of the plot's height (about half a pixel), not all of it.
    assert first[1] - last[1] == pytest.approx(3.42 / 1100.0 * plot_height, abs=0.02)
    assert (first[0], last[0]) == (PLOT_LEFT, PLOT_RIGHT)  # placed by time: first and last moments at the edges
    labels = [t["label"] for t in chart["y_ticks"]]
    assert "100,000" in labels and all("," in label for label in labels)
    assert chart["x_ticks"][0]["label"] == "11-21 00:00"  # a span under three days shows times


def test_drift_is_symmetric_around_zero_in_percentage_points_with_dates() -> None:
    chart = drift_chart(
        {
            "BTC": [
                {"timestamp": "2026-01-01T00:00:00Z", "drift": 0.02},
                {"timestamp": "2026-02-01T00:00:00Z", "drift": -0.04},
            ],
            "ETH": [
                {"timestamp": "2026-01-01T00:00:00Z", "drift": 0.0},
                {"timestamp": "2026-02-01T00:00:00Z", "drift": 0.01},
            ],
        }
    )
    middle = (PLOT_TOP + PLOT_BOTTOM) / 2
    assert chart["zero_y"] == pytest.approx(middle)
    assert [line["name"] for line in chart["lines"]] == ["BTC", "ETH"]
    assert chart["lines"][0]["last"] == pytest.approx(-0.04)
    labels = [t["label"] for t in chart["y_ticks"]]
    assert labels == ["-4.0 pp", "-2.0 pp", "0.0 pp", "+2.0 pp", "+4.0 pp"]
    assert [t["label"] for t in chart["x_ticks"]] == ["2026-01-01", "2026-01-11", "2026-01-21", "2026-02-01"]


def test_no_points_no_lines() -> None:
    assert equity_chart([])["lines"] == []
