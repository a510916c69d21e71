"""The HTML report: self-contained, drawn from a backtest result, with the numbers it was given."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from trimtab.backtest.report import NamedRun, format_metric, metrics_table, render_report, thin, write_report
from trimtab.backtest.result import BacktestResult
from trimtab.backtest.sweep import SweepPoint, mark_efficient

DAY_NS = 86_400 * 1_000_000_000
START_NS = 1_704_153_600 * 1_000_000_000  # 2024-01-02T00:00:00Z


def synthetic_result(bars: int = 60, trades: int = 3, seed: int = 7) -> BacktestResult:
    rng = np.random.default_rng(seed)
    times = START_NS + np.arange(bars, dtype=np.int64) * DAY_NS
    equity = 100_000 * np.cumprod(1 + rng.normal(0, 0.02, bars))
    weights = np.column_stack([0.5 + rng.normal(0, 0.03, bars), np.zeros(bars)])
    weights[:, 1] = 1 - weights[:, 0]
    rebalance_rows = np.array([0, bars // 2])
    trade_list = [
        {
            "timestamp": f"2024-01-{2 + i:02d}T00:00:00Z",
            "class": "BTC",
            "symbol": "BTC/USDT",
            "side": "buy" if i % 2 == 0 else "sell",
            "amount": 0.1234 + i,
            "notional": 5_000.0 + i,
            "fee": 5.0,
            "slippage": 2.5,
        }
        for i in range(trades)
    ]
    metrics = {
        "final_equity": float(equity[-1]),
        "total_return": 0.1234,
        "cagr": 0.2,
        "volatility": 0.5,
        "sharpe": 1.1,
        "max_drawdown": 0.25,
        "rebalances": 2,
        "turnover": 0.3,
        "fees": 123.45,
        "slippage": 61.0,
        "funding": 0.0,
        "tracking_error": 0.0321,
    }
    return BacktestResult(
        timestamps=times,
        equity=equity,
        benchmark_equity=equity * 0.98,
        class_names=("BTC", "STABLE"),
        weights=weights,
        band_lower=np.tile([0.45, 0.45], (bars, 1)),
        band_upper=np.tile([0.55, 0.55], (bars, 1)),
        rebalance_times=times[rebalance_rows],
        trades=trade_list,
        fees=np.linspace(0, 123.45, bars),
        slippage=np.linspace(0, 61.0, bars),
        funding=np.zeros(bars),
        events=[{"kind": "trigger", "timestamp": "2024-01-31T00:00:00Z", "reason": "BTC at 56.00 % is outside"}],
        metrics=metrics,
        benchmark_metrics={**metrics, "total_return": 0.0555, "rebalances": 0},
        used_fast_path=True,
        config_hash="ab" * 32,
    )


def test_a_report_is_one_offline_file_with_the_runs_numbers(tmp_path: Path) -> None:
    result = synthetic_result()
    target = tmp_path / "report.html"

    write_report(target, render_report([NamedRun("fixed-band", result)], title="Backtest: fixed-band"))

    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # plotly.js is inline; no script is fetched from anywhere (the library's own text names a map-tile
    # URL that only geographic charts use, so it is set aside before looking for the CDN)
    library = get_plotlyjs()
    assert library in text
    assert "cdn.plot.ly" not in text.replace(library, "")
    assert not re.search(r"<script[^>]+src=", text)
    for needle in ("12.34 %", "3.21 %", "123.45", "5.55 %", "BTC/USDT", "Equity against buy-and-hold"):
        assert needle in text
    assert "class weights against their bands" in text
    assert "Costs paid, cumulative" in text
    assert "Drawdown" in text
    assert text.count("<tr><td>2024-01-0") == 3  # one row per trade
    assert "outside" in text  # the event's reason
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_comparison_shows_every_run_side_by_side() -> None:
    runs = [NamedRun("calendar", synthetic_result(seed=1)), NamedRun("adaptive", synthetic_result(seed=2))]

    text = render_report(runs, title="Comparison")

    assert "<th>calendar</th><th>adaptive</th>" in text
    assert "calendar: buy and hold" in text
    assert text.count("class weights against their bands") == 2


def test_policies_sharing_one_buy_and_hold_show_it_once() -> None:
    same = synthetic_result(seed=3)
    header, _rows = metrics_table([NamedRun("a", same), NamedRun("b", same)])

    assert header == ["Metric", "a", "b", "Buy and hold"]


def test_a_long_trade_list_is_cut_with_a_note() -> None:
    text = render_report([NamedRun("busy", synthetic_result(trades=2100))], title="Busy")

    assert "Trades (2,100)" in text
    assert "The first 2,000 trades are listed." in text


def test_the_frontier_marks_the_efficient_points() -> None:
    points = mark_efficient(
        [
            SweepPoint("band=0.01", {"band": 0.01}, 0.01, 900.0, {"total_return": 0.1, "rebalances": 40}),
            SweepPoint("band=0.05", {"band": 0.05}, 0.03, 200.0, {"total_return": 0.12, "rebalances": 8}),
            SweepPoint("band=0.09", {"band": 0.09}, 0.05, 250.0, {"total_return": 0.11, "rebalances": 5}),
        ]
    )

    text = render_report([], title="Sweep", frontier=points)

    assert "Frontier: tracking error against cost" in text
    assert "<tr><td>yes</td><td>band=0.01</td>" in text
    assert "<tr><td>yes</td><td>band=0.05</td>" in text
    assert "<tr><td></td><td>band=0.09</td>" in text


def test_curves_are_thinned_for_drawing_but_keep_the_marked_bars() -> None:
    rows = thin(100_000, keep=np.array([12_345]), max_points=1000)

    assert len(rows) <= 1002
    assert 12_345 in rows
    assert rows[0] == 0
    assert rows[-1] == 99_999
    assert thin(10).tolist() == list(range(10))


@pytest.mark.parametrize(
    ("value", "style", "text"),
    [(1234.5, "money", "1,234.50"), (0.0321, "percent", "3.21 %"), (7, "count", "7"), (float("nan"), "ratio", "–")],
)
def test_metric_formats(value: float, style: str, text: str) -> None:
    assert format_metric(value, style) == text


def test_trades_show_their_fill_price_and_events_read_like_money() -> None:
    from trimtab.backtest.report import _fill_price, readable

    assert _fill_price({"amount": 0.5, "notional": 30_000.0}) == "60,000.00"  # notional / amount
    assert _fill_price({"amount": 2.0, "notional": 1.0, "price": 0.4999}) == "0.4999"
    assert _fill_price({"amount": 0.0, "notional": 0.0}) == "–"
    # The case: a liquidation price printed as 16 digits.
    assert readable(41234.567891234567) == "41,234.57"
    assert readable(0.012345678) == "0.01235"
    assert readable("BTC/USDT:USDT") == "BTC/USDT:USDT"
    assert readable(3) == "3"


def test_the_frontiers_efficient_points_are_labelled_on_the_chart() -> None:
    from trimtab.backtest.report import frontier_figure
    from trimtab.backtest.sweep import SweepPoint

    points = [
        SweepPoint("band=0.01", {"band": 0.01}, 0.01, 900.0, {}, efficient=True),
        SweepPoint("band=0.05", {"band": 0.05}, 0.03, 200.0, {}, efficient=True),
        SweepPoint("band=0.09", {"band": 0.09}, 0.05, 250.0, {}, efficient=False),
    ]
    dominated, efficient = frontier_figure(points).data
    assert "text" in efficient.mode and list(efficient.text) == ["band=0.05", "band=0.01"]  # by cost
    assert "text" not in dominated.mode and list(dominated.text) == ["band=0.09"]  # on hover only
