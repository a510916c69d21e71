"""The report's leverage and liquidation section: gross leverage and the minimum liquidation distance per bar.

Drawn for a run of the event engine (``BacktestResult.risk``), with every liquidation marked; a fast-path run
trades spot only, so the report says that instead of drawing a flat line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from trimtab.backtest.report_figures import COLORS, NamedRun, bar_times, styled, thin
from trimtab.backtest.result import BacktestResult

if TYPE_CHECKING:
    import plotly.graph_objects as go


def liquidation_rows(result: BacktestResult) -> np.ndarray:
    """The bars at which a position was liquidated (from the run's ``liquidation`` events)."""
    bars = sorted({int(e["bar"]) for e in result.events if e.get("kind") == "liquidation" and "bar" in e})
    return np.array(bars, dtype=np.int64)


def risk_figure(run: NamedRun) -> go.Figure | None:
    """Gross leverage and the minimum liquidation distance per bar, liquidations marked; None without the curves."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    result, risk = run.result, run.result.risk
    if risk is None:
        return None
    liquidated = liquidation_rows(result)
    rows = thin(result.bars, liquidated)
    x = bar_times(result, rows)
    titles = ("Gross leverage (exposure / equity)", "Minimum liquidation distance (% of the mark)")
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.12)
    figure.add_trace(
        go.Scatter(
            x=x,
            y=risk.gross_leverage[rows],
            name="gross leverage",
            line={"color": COLORS[0]},
            hovertemplate="%{x}<br>%{y:.2f} x<extra></extra>",
        ),
        row=1,
        col=1,
    )
    distance = risk.min_liquidation_distance * 100.0
    figure.add_trace(
        go.Scatter(
            x=x,
            y=distance[rows],
            name="minimum liquidation distance",
            line={"color": COLORS[4]},
            connectgaps=False,
            hovertemplate="%{x}<br>%{y:.1f} %<extra></extra>",
        ),
        row=2,
        col=1,
    )
    if liquidated.size:
        figure.add_trace(
            go.Scatter(
                x=bar_times(result, liquidated),
                y=np.zeros(liquidated.size),
                mode="markers",
                marker={"color": "#d62728", "size": 10, "symbol": "x"},
                name="liquidation",
                hovertemplate="%{x}<br>liquidation<extra></extra>",
            ),
            row=2,
            col=1,
        )
    figure.update_yaxes(title_text="x", tickformat=".2f", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="%", tickformat=".1f", rangemode="tozero", row=2, col=1)
    figure.update_layout(title=f"{run.name}: leverage and liquidation distance", height=520, hovermode="x unified")
    return styled(figure)


def risk_note(result: BacktestResult) -> str:
    """What the report says instead of (or beside) the leverage chart."""
    if result.risk is None:
        return (
            "Spot only (the fast path): nothing is borrowed and nothing can be liquidated, so there is no "
            "leverage or liquidation chart; gross leverage is the non-cash share of equity, at most 1 x."
        )
    if not result.risk.hedged:
        return "No position that can be liquidated was held: the liquidation distance stays empty."
    peak = float(np.nanmax(result.risk.gross_leverage)) if result.bars else 0.0
    closest = float(np.nanmin(result.risk.min_liquidation_distance))
    count = liquidation_rows(result).size
    return (
        f"Peak gross leverage {peak:.2f} x; closest approach to a liquidation {closest * 100:.1f} % of the mark; "
        f"{count:,} bar{'s' if count != 1 else ''} with a liquidation."
    )
