"""The HTML report of one or several backtests: one self-contained file that opens offline.

The page holds plotly.js inline (no CDN) and, per run: equity against buy-and-hold (liquidations
marked), drawdown, costs over time, each class's weight against its band with the rebalances marked, the
gross leverage and the minimum liquidation distance of an event-engine run (liquidations marked), the
trade list and the metrics table. A sweep adds its frontier of tracking error against cost, with the efficient policies
marked. Long curves are thinned for drawing only (every rebalance stays visible); the metrics are the
run's own.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trimtab.backtest.result import BacktestResult

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from trimtab.backtest.sweep import SweepPoint

MAX_POINTS = 4000
"""Points drawn per curve; longer curves are thinned (the figures only, never the numbers)."""
MAX_TRADES = 2000
"""Trades listed per run; the rest are counted in a note."""

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")

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


@dataclass(frozen=True)
class NamedRun:
    """A run and the name the report shows for it (usually the policy file's stem)."""

    name: str
    result: BacktestResult


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


def thin(count: int, keep: np.ndarray | None = None, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most about ``max_points`` evenly spread bars, plus the last bar and every ``keep`` index."""
    if count <= max_points:
        return np.arange(count)
    stride = math.ceil(count / max_points)
    chosen = np.arange(0, count, stride)
    extra = [np.array([count - 1])] + ([keep] if keep is not None and keep.size else [])
    return np.unique(np.concatenate([chosen, *extra]))


def _times(result: BacktestResult, rows: np.ndarray) -> np.ndarray:
    moments: np.ndarray = result.timestamps[rows].astype("datetime64[ns]")
    return moments


def _rebalance_rows(result: BacktestResult) -> np.ndarray:
    rows: np.ndarray = np.flatnonzero(np.isin(result.timestamps, result.rebalance_times))
    return rows


def equity_figure(runs: Sequence[NamedRun]) -> go.Figure:
    """Equity of every run, and each run's buy-and-hold benchmark dashed in the same colour; liquidations marked."""
    import plotly.graph_objects as go

    from trimtab.backtest.report_risk import liquidation_rows

    figure = go.Figure()
    for index, run in enumerate(runs):
        color = COLORS[index % len(COLORS)]
        result = run.result
        rows = thin(result.bars, _rebalance_rows(result))
        x = _times(result, rows)
        figure.add_trace(go.Scatter(x=x, y=result.equity[rows], name=run.name, line={"color": color}))
        figure.add_trace(
            go.Scatter(
                x=x,
                y=result.benchmark_equity[rows],
                name=f"{run.name}: buy and hold",
                line={"color": color, "dash": "dot", "width": 1},
            )
        )
        liquidated = liquidation_rows(result)
        if liquidated.size:
            figure.add_trace(
                go.Scatter(
                    x=_times(result, liquidated),
                    y=result.equity[liquidated],
                    mode="markers",
                    marker={"color": "#d62728", "size": 10, "symbol": "x"},
                    name=f"{run.name}: liquidation",
                    hovertemplate="%{x}<br>liquidation; equity after %{y:,.2f}<extra></extra>",
                )
            )
    base = runs[0].result.base_currency if runs else ""
    figure.update_layout(title="Equity against buy-and-hold", yaxis_title=base, hovermode="x unified")
    return _styled(figure)


def drawdown_figure(runs: Sequence[NamedRun]) -> go.Figure:
    """Drawdown below the running peak, in percent, for every run."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for index, run in enumerate(runs):
        result = run.result
        peaks = np.maximum.accumulate(result.equity)
        drawdown = np.where(peaks > 0, result.equity / np.where(peaks > 0, peaks, 1.0) - 1.0, 0.0) * 100.0
        rows = thin(result.bars, np.array([int(np.argmin(drawdown))]) if result.bars else None)
        figure.add_trace(
            go.Scatter(
                x=_times(result, rows),
                y=drawdown[rows],
                name=run.name,
                fill="tozeroy" if len(runs) == 1 else None,
                line={"color": COLORS[index % len(COLORS)]},
            )
        )
    figure.update_layout(title="Drawdown", yaxis_title="% below peak", hovermode="x unified")
    return _styled(figure)


def costs_figure(runs: Sequence[NamedRun]) -> go.Figure:
    """Cumulative fees, slippage and funding paid over time (solid, dashed, dotted per run)."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for index, run in enumerate(runs):
        result = run.result
        rows = thin(result.bars, _rebalance_rows(result))
        color = COLORS[index % len(COLORS)]
        prefix = f"{run.name}: " if len(runs) > 1 else ""
        for label, series, dash in (
            ("fees", result.fees, "solid"),
            ("slippage", result.slippage, "dash"),
            ("funding", result.funding, "dot"),
        ):
            figure.add_trace(
                go.Scatter(
                    x=_times(result, rows), y=series[rows], name=prefix + label, line={"color": color, "dash": dash}
                )
            )
    base = runs[0].result.base_currency if runs else ""
    figure.update_layout(title="Costs paid, cumulative", yaxis_title=base, hovermode="x unified")
    return _styled(figure)


def weights_figure(run: NamedRun) -> go.Figure:
    """One panel per class: the band (shaded), the goal weight, the weight, and a marker at each rebalance."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    result = run.result
    classes = result.class_names
    figure = make_subplots(rows=len(classes), cols=1, shared_xaxes=True, subplot_titles=classes, vertical_spacing=0.04)
    rebalances = _rebalance_rows(result)
    rows = thin(result.bars, rebalances)
    x = _times(result, rows)
    has_targets = result.targets.shape == result.weights.shape and result.targets.size > 0
    reasons = _trigger_reasons(result, rebalances)
    for column in range(len(classes)):
        panel = column + 1
        first = column == 0
        lower, upper = result.band_lower[rows, column] * 100, result.band_upper[rows, column] * 100
        figure.add_trace(
            go.Scatter(x=x, y=lower, line={"width": 0}, showlegend=False, hoverinfo="skip"), row=panel, col=1
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=upper,
                fill="tonexty",
                fillcolor="rgba(31,119,180,0.15)",
                line={"width": 0},
                name="band",
                legendgroup="band",
                showlegend=first,
                hoverinfo="skip",
            ),
            row=panel,
            col=1,
        )
        goal = (
            result.targets[rows, column]
            if has_targets
            else (result.band_lower[rows, column] + result.band_upper[rows, column]) / 2
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=goal * 100,
                name="target",
                legendgroup="target",
                showlegend=first,
                line={"color": "#555", "dash": "dash", "width": 1},
            ),
            row=panel,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=result.weights[rows, column] * 100,
                name="weight",
                legendgroup="weight",
                showlegend=first,
                line={"color": COLORS[0], "width": 1.5},
            ),
            row=panel,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=_times(result, rebalances),
                y=result.weights[rebalances, column] * 100,
                mode="markers",
                marker={"color": "#d62728", "size": 6, "symbol": "triangle-down"},
                text=reasons,
                hovertemplate="%{x}<br>after the rebalance: %{y:.2f} %<br>%{text}<extra></extra>",
                name="rebalance (weight after)",
                legendgroup="rebalance",
                showlegend=first,
            ),
            row=panel,
            col=1,
        )
        figure.update_yaxes(title_text="%", row=panel, col=1)
    figure.update_layout(title=f"{run.name}: class weights against their bands", height=max(320, 220 * len(classes)))
    return _styled(figure)


def _trigger_reasons(result: BacktestResult, rows: np.ndarray) -> list[str]:
    """The trigger's sentence for each rebalance bar (from the run's events), for the markers' hover text."""
    by_time: dict[str, str] = {}
    for event in result.events:
        if event.get("kind") == "trigger" and "reason" in event:
            by_time.setdefault(str(event.get("timestamp", "")), str(event["reason"]))
    stamps = [datetime.fromtimestamp(int(t) / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for t in result.timestamps[rows]]
    return [by_time.get(stamp, "") for stamp in stamps]


def frontier_figure(points: Sequence[SweepPoint]) -> go.Figure:
    """Tracking error against total cost for every grid point; the efficient (Pareto) ones are joined."""
    import plotly.graph_objects as go

    figure = go.Figure()
    dominated = [p for p in points if not p.efficient]
    efficient = sorted((p for p in points if p.efficient), key=lambda p: p.cost)
    for label, group, style in (
        ("dominated", dominated, {"color": "#9aa5b1", "size": 7}),
        ("efficient", efficient, {"color": "#d62728", "size": 10, "symbol": "diamond"}),
    ):
        figure.add_trace(
            go.Scatter(
                x=[p.cost for p in group],
                y=[p.tracking_error * 100 for p in group],
                # Efficient points carry their parameters on the chart; the others on hover.
                mode="markers+lines+text" if label == "efficient" else "markers",
                textposition="top center",
                textfont={"size": 10},
                marker=style,
                line={"color": "#d62728", "width": 1},
                name=label,
                text=[p.label for p in group],
                hovertemplate="%{text}<br>cost %{x:,.2f}<br>tracking error %{y:.3f} %<extra></extra>",
            )
        )
    figure.update_layout(
        title="Frontier: tracking error against cost (fees + slippage + funding)",
        xaxis_title="total cost",
        yaxis_title="tracking error, %",
    )
    return _styled(figure)


def _styled(figure: go.Figure) -> go.Figure:
    figure.update_layout(
        template="plotly_white", margin={"l": 60, "r": 20, "t": 60, "b": 40}, legend={"orientation": "h"}
    )
    return figure


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
