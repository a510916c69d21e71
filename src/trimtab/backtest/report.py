"""The HTML report of one or several backtests: one self-contained file that opens offline.

The page holds plotly.js inline (no CDN) and, per run: equity against buy-and-hold (liquidations
marked), drawdown, costs over time, each class's weight against its band with the rebalances marked, the
gross leverage and the minimum liquidation distance of an event-engine run (liquidations marked), the
trade list and the metrics table. A sweep adds its frontier of tracking error against cost, with the efficient policies
marked. Long curves are thinned for drawing only (every rebalance stays visible); the metrics are the
run's own. The figures are drawn by :mod:`trimtab.backtest.report_figures` and
:mod:`trimtab.backtest.report_risk`; their names are importable from here too.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trimtab.backtest.report_figures import (
    COLORS,
    MAX_POINTS,
    NamedRun,
    costs_figure,
    drawdown_figure,
    equity_figure,
    frontier_figure,
    thin,
    weights_figure,
)
from trimtab.backtest.result import BacktestResult

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from trimtab.backtest.sweep import SweepPoint

__all__ = [
    "COLORS",
    "MAX_POINTS",
    "MAX_TRADES",
    "METRIC_ROWS",
    "NamedRun",
    "costs_figure",
    "drawdown_figure",
    "equity_figure",
    "format_metric",
    "frontier_figure",
    "metrics_table",
    "readable",
    "render_report",
    "thin",
    "trade_rows",
    "weights_figure",
    "write_report",
]

MAX_TRADES = 2000
"""Trades listed per run; the rest are counted in a note."""

METRIC_ROWS: tuple[tuple[str, str, str], ...] = (
    ("final_equity", "Final equity", "money"),
    ("total_return", "Total return", "percent"),
    ("cagr", "CAGR", "percent"),
    ("volatility", "Volatility (annualised)", "percent"),
    ("sharpe", "Sharpe", "ratio"),
    ("sortino", "Sortino", "ratio"),
    ("max_drawdown", "Max drawdown", "percent"),
    ("calmar", "Calmar", "ratio"),
    ("rebalances", "Rebalances", "count"),
    ("turnover", "Turnover (x mean equity)", "ratio"),
    ("fees", "Fees", "money"),
    ("slippage", "Slippage", "money"),
    ("funding", "Funding paid", "money"),
    ("tax", "Tax on realised gains", "money"),
    ("realised_gain", "Realised gains", "money"),
    ("realised_loss", "Realised losses", "money"),
    ("liquidations", "Liquidations", "count"),
    ("tracking_error", "Tracking error", "percent"),
    ("time_outside_bands", "Time outside bands (beyond fee noise)", "percent"),
    ("time_outside_bands_strict", "Time outside bands (any miss)", "percent"),
    ("cost", "Cost (fees, slippage, funding)", "money"),
    ("cost_after_initial", "Cost after the initial purchase", "money"),
    ("funding_gap_bars", "Bars hedged without funding data", "count"),
)


def format_metric(value: Any, style: str) -> str:
    """A metric as the report prints it: money with separators, fractions as percentages."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if style == "money":
        return f"{float(value):,.2f}"
    if style == "percent":
        return f"{float(value) * 100:.2f} %"
    if style == "count":
        return f"{int(value):,}"
    return f"{float(value):.3f}"


def metrics_table(runs: Sequence[NamedRun]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the metrics table: one column per run, then each distinct buy-and-hold."""
    benchmarks: list[NamedRun] = []
    for run in runs:
        # policies with the same targets and data share one buy-and-hold: show it once
        if not any(other.result.benchmark_metrics == run.result.benchmark_metrics for other in benchmarks):
            benchmarks.append(run)
    single = len(benchmarks) == 1
    header = ["Metric", *(run.name for run in runs)]
    header += ["Buy and hold" if single else f"{run.name}: buy and hold" for run in benchmarks]
    rows = []
    for key, label, style in METRIC_ROWS:
        cells = [format_metric(run.result.metrics.get(key), style) for run in runs]
        cells += [format_metric(run.result.benchmark_metrics.get(key), style) for run in benchmarks]
        rows.append([label, *cells])
    return header, rows


def trade_rows(result: BacktestResult, limit: int = MAX_TRADES) -> list[list[str]]:
    """The first ``limit`` trades as table cells."""
    out = []
    for trade in result.trades[:limit]:
        stamp = trade.get("timestamp", "")
        if isinstance(stamp, int | np.integer):
            stamp = datetime.fromtimestamp(int(stamp) / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(
            [
                str(stamp),
                str(trade.get("class", "")),
                str(trade.get("symbol", "")),
                str(trade.get("side", "")),
                f"{float(trade.get('amount', 0.0)):.8g}",
                _fill_price(trade),
                f"{float(trade.get('notional', 0.0)):,.2f}",
                f"{float(trade.get('fee', 0.0)):,.2f}",
                f"{float(trade.get('slippage', 0.0)):,.2f}",
            ]
        )
    return out


def _fill_price(trade: Mapping[str, Any]) -> str:
    """The price the trade filled at: its own ``price``, else notional over amount."""
    price = trade.get("price")
    if price is None:
        amount = float(trade.get("amount", 0.0))
        price = float(trade.get("notional", 0.0)) / amount if amount else None
    if price is None:
        return "–"
    return f"{float(price):.6g}" if float(price) < 1 else f"{float(price):,.2f}"


def readable(value: Any) -> str:
    """An event's value for people: money-like floats with two decimals and thousands separators."""
    if isinstance(value, bool) or not isinstance(value, float | np.floating):
        return str(value)
    number = float(value)
    if number != 0.0 and abs(number) < 1.0:
        return f"{number:.4g}"
    return f"{number:,.2f}"


def render_report(
    runs: Sequence[NamedRun], *, title: str, frontier: Sequence[SweepPoint] = (), notes: Sequence[str] = ()
) -> str:
    """The report's full HTML text (plotly.js inline, nothing fetched from the network)."""
    import jinja2
    import plotly.io as pio
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    from trimtab.backtest.report_risk import risk_figure, risk_note

    def embed(figure: go.Figure) -> str:
        return str(pio.to_html(figure, full_html=False, include_plotlyjs=False, config={"responsive": True}))

    sections = []
    for run in runs:
        result = run.result
        sections.append(
            {
                "name": run.name,
                "period": f"{_day(result, 0)} to {_day(result, -1)}, {result.bars:,} bars" if result.bars else "",
                "weights": embed(weights_figure(run)),
                "risk": _embed_optional(embed, risk_figure(run)),
                "risk_note": risk_note(result),
                "trades": trade_rows(result),
                "trade_count": len(result.trades),
                "events": result.events[:200],
                "config_hash": result.config_hash,
            }
        )
    header, rows = metrics_table(runs)
    template_text = resources.files("trimtab.backtest").joinpath("report.html").read_text(encoding="utf-8")
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    environment.filters["readable"] = readable
    template = environment.from_string(template_text)
    return template.render(
        title=title,
        plotly_js=Markup(get_plotlyjs()),
        equity=Markup(embed(equity_figure(runs))) if runs else "",
        drawdown=Markup(embed(drawdown_figure(runs))) if runs else "",
        costs=Markup(embed(costs_figure(runs))) if runs else "",
        frontier=Markup(embed(frontier_figure(frontier))) if frontier else "",
        frontier_rows=[_frontier_row(point) for point in sorted(frontier, key=lambda p: (not p.efficient, p.cost))],
        metrics_header=header,
        metrics_rows=rows,
        sections=[{**s, "weights": Markup(s["weights"]), "risk": Markup(s["risk"])} for s in sections],
        max_trades=MAX_TRADES,
        notes=list(notes),
    )


def _embed_optional(embed: Any, figure: go.Figure | None) -> str:
    return "" if figure is None else str(embed(figure))


def _frontier_row(point: SweepPoint) -> list[str]:
    return [
        "yes" if point.efficient else "",
        point.label,
        f"{point.tracking_error * 100:.3f} %",
        f"{point.cost:,.2f}",
        f"{point.metrics.get('total_return', float('nan')) * 100:.2f} %",
        f"{int(point.metrics.get('rebalances', 0)):,}",
    ]


def _day(result: BacktestResult, row: int) -> str:
    return html.escape(datetime.fromtimestamp(int(result.timestamps[row]) / 1e9, UTC).strftime("%Y-%m-%d %H:%M"))


def write_report(path: Path, text: str) -> None:
    """Write the report atomically (a temporary file in the same folder, then a rename)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
