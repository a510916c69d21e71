"""The report's figures: equity, drawdown, costs, each class's weight against its band, and a sweep's frontier.

Each takes the runs (or the sweep's points) and returns a plotly figure in the report's style (:func:`styled`);
long curves are thinned for drawing only (:func:`thin`: every rebalance and the deepest drawdown stay visible).
The page that holds them is :mod:`trimtab.backtest.report`; the leverage and liquidation figure is
:mod:`trimtab.backtest.report_risk`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from trimtab.backtest.result import BacktestResult

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from trimtab.backtest.sweep import SweepPoint

MAX_POINTS = 4000
"""Points drawn per curve; longer curves are thinned (the figures only, never the numbers)."""
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


@dataclass(frozen=True)
class NamedRun:
    """A run and the name the report shows for it (usually the policy file's stem)."""

    name: str
    result: BacktestResult


def thin(count: int, keep: np.ndarray | None = None, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most about ``max_points`` evenly spread bars, plus the last bar and every ``keep`` index."""
    if count <= max_points:
        return np.arange(count)
    stride = math.ceil(count / max_points)
    chosen = np.arange(0, count, stride)
    extra = [np.array([count - 1])] + ([keep] if keep is not None and keep.size else [])
    return np.unique(np.concatenate([chosen, *extra]))


def bar_times(result: BacktestResult, rows: np.ndarray) -> np.ndarray:
    """The times of the run's bars ``rows``, as ``datetime64[ns]`` for a plotly axis."""
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
        x = bar_times(result, rows)
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
                    x=bar_times(result, liquidated),
                    y=result.equity[liquidated],
                    mode="markers",
                    marker={"color": "#d62728", "size": 10, "symbol": "x"},
                    name=f"{run.name}: liquidation",
                    hovertemplate="%{x}<br>liquidation; equity after %{y:,.2f}<extra></extra>",
                )
            )
    base = runs[0].result.base_currency if runs else ""
    figure.update_layout(title="Equity against buy-and-hold", yaxis_title=base, hovermode="x unified")
    return styled(figure)


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
                x=bar_times(result, rows),
                y=drawdown[rows],
                name=run.name,
                fill="tozeroy" if len(runs) == 1 else None,
                line={"color": COLORS[index % len(COLORS)]},
            )
        )
    figure.update_layout(title="Drawdown", yaxis_title="% below peak", hovermode="x unified")
    return styled(figure)


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
                    x=bar_times(result, rows), y=series[rows], name=prefix + label, line={"color": color, "dash": dash}
                )
            )
    base = runs[0].result.base_currency if runs else ""
    figure.update_layout(title="Costs paid, cumulative", yaxis_title=base, hovermode="x unified")
    return styled(figure)


def weights_figure(run: NamedRun) -> go.Figure:
    """One panel per class: the band (shaded), the goal weight, the weight, and a marker at each rebalance."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    result = run.result
    classes = result.class_names
    figure = make_subplots(rows=len(classes), cols=1, shared_xaxes=True, subplot_titles=classes, vertical_spacing=0.04)
    rebalances = _rebalance_rows(result)
    rows = thin(result.bars, rebalances)
    x = bar_times(result, rows)
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
                x=bar_times(result, rebalances),
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
    return styled(figure)


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
    return styled(figure)


def styled(figure: go.Figure) -> go.Figure:
    """``figure`` in the report's style (the white template, its margins, a horizontal legend)."""
    figure.update_layout(
        template="plotly_white", margin={"l": 60, "r": 20, "t": 60, "b": 40}, legend={"orientation": "h"}
    )
    return figure
