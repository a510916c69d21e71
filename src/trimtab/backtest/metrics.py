"""Performance figures of an equity curve, as the contract names them.

Conventions
-----------
* Returns are simple returns from bar to bar; annualisation uses the median bar spacing and years of
  365 days (crypto trades every day).
* ``total_return`` and ``cagr`` are measured from the starting capital, so the fees of the initial
  purchase count against the strategy.
* ``volatility`` is the annualised standard deviation of bar returns (ddof 1); ``sharpe`` and
  ``sortino`` assume a zero risk-free rate; the sortino denominator is the root mean square of the
  negative returns (zeros elsewhere).
* ``max_drawdown`` is a positive fraction (0.35 = the curve fell 35 % below its running peak);
  ``calmar`` = cagr / max_drawdown.
* ``turnover`` = notional traded by rebalances (the initial purchase excluded) / mean equity.
* ``tracking_error`` = root mean square over the bars of the Euclidean distance between the class
  weights and their targets, ``sqrt(mean_t sum_c (w[t, c] - target[t, c])**2)``.
* ``time_outside_bands`` = fraction of bars at which some class closed outside its band (after that
  bar's trades) by more than ``band_tolerance`` (a backtest passes the one-way cost rate, taker fee plus
  slippage: a band-edge goal lands inside after the costs the policy prices, but a fill that costs more, or
  a band that narrows with volatility, can leave a class a fee's worth outside, which is not a breach);
  ``time_outside_bands_strict`` counts every miss.
* ``cost`` = fees + slippage + funding over the run; ``cost_after_initial`` the same without the initial
  purchase's fees and slippage (what rebalancing itself cost).
* With cash flows (``flows``), ``total_return``, ``cagr``, ``volatility``, ``sharpe``, ``sortino``,
  ``max_drawdown`` and ``calmar`` are computed on the flow-adjusted (time-weighted) curve
  (:func:`trimtab.backtest.flows.flow_adjusted`); ``final_equity`` and ``turnover`` stay on the equity
  actually held; ``net_flows`` is the sum of the flows and ``time_weighted_return`` equals ``total_return``.
* ``funding_gap_bars`` = bars at which a perpetual was held without funding history covering them (its
  funding is counted as zero there; the backtest warns).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from trimtab.backtest.flows import flow_adjusted

NANOSECONDS_PER_YEAR = 365.0 * 86400.0 * 1e9

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RunTotals:
    """Counts and sums the curve alone does not show."""

    rebalances: int = 0
    traded_notional: float = 0.0
    fees: float = 0.0
    slippage: float = 0.0
    funding: float = 0.0
    liquidations: int = 0
    initial_cost: float = 0.0
    funding_gap_bars: int = 0


def periods_per_year(timestamps: npt.NDArray[np.int64]) -> float:
    """Bars per year from the median spacing of ``timestamps`` (int64 nanoseconds); 365 for one bar."""
    if timestamps.shape[0] < 2:
        return 365.0
    spacing = median_of_integers(np.diff(timestamps))
    return NANOSECONDS_PER_YEAR / spacing if spacing > 0 else 365.0


def median_of_integers(values: npt.NDArray[np.int64]) -> float:
    """``numpy.median`` of integers, by sorting: the same figure (the middle value, or the mean of the two
    middle ones), but numpy's selection degrades on a series of equal values, such as bar spacings, and
    takes ten times as long as a sort there."""
    ordered = np.sort(values)
    middle = ordered.shape[0] // 2
    if ordered.shape[0] % 2:
        return float(ordered[middle])
    return (float(ordered[middle - 1]) + float(ordered[middle])) / 2.0


def compute_metrics(
    equity: FloatArray,
    timestamps: npt.NDArray[np.int64],
    capital: float,
    totals: RunTotals,
    weights: FloatArray | None = None,
    targets: FloatArray | None = None,
    band_lower: FloatArray | None = None,
    band_upper: FloatArray | None = None,
    band_tolerance: float = 0.0,
    flows: FloatArray | None = None,
    bars_per_year: float | None = None,
) -> dict[str, float]:
    """The contract's metrics and a few more for one equity curve.

    Parameters
    ----------
    equity:
        Equity at each bar's close, shape (T,).
    timestamps:
        Bar times, int64 nanoseconds, shape (T,).
    capital:
        The starting capital, before the initial purchase.
    totals:
        Rebalance count, traded notional and cost sums of the run.
    weights, targets, band_lower, band_upper:
        Class weights, goal weights and bands per bar, shape (T, C); tracking error and time outside
        the bands are 0 when they are not given.
    band_tolerance:
        How far outside its band a class may close before ``time_outside_bands`` counts the bar.
    flows:
        Deposits (> 0) and withdrawals reaching the account at each bar's close, shape (T,); with any,
        the return figures are time-weighted (see the module docstring).
    bars_per_year:
        :func:`periods_per_year` of ``timestamps`` when the caller knows it (computed here otherwise).

    Returns
    -------
    dict[str, float]
        ``final_equity, total_return, cagr, volatility, sharpe, sortino, max_drawdown, calmar,
        rebalances, turnover, fees, slippage, funding, liquidations, tracking_error,
        time_outside_bands``.
    """
    held = np.asarray(equity, dtype=np.float64)
    bars = held.shape[0]
    with_flows = flows is not None and bool(np.any(flows != 0.0))
    equity = flow_adjusted(held, np.asarray(flows, dtype=np.float64)) if with_flows and flows is not None else held
    final = float(equity[-1]) if bars else capital
    returns = np.diff(equity) / equity[:-1] if bars > 1 else np.zeros(0)
    returns = returns[np.isfinite(returns)]
    moments = ReturnMoments()
    if returns.shape[0] > 1:
        moments = ReturnMoments(
            int(returns.shape[0]),
            float(np.mean(returns)),
            float(np.std(returns, ddof=1)),
            float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2))),
        )

    max_drawdown = 0.0
    if bars:
        peaks = np.maximum.accumulate(equity)
        with np.errstate(divide="ignore", invalid="ignore"):
            drawdowns = np.where(peaks > 0, 1.0 - equity / peaks, 0.0)
        max_drawdown = float(np.max(drawdowns))
    mean_equity = float(np.mean(held)) if bars else capital

    tracking_error = 0.0
    outside = strict = 0.0
    if weights is not None and targets is not None and weights.shape[0]:
        distance = np.sum((weights - targets) ** 2, axis=1)
        tracking_error = float(np.sqrt(np.mean(distance)))
    if weights is not None and band_lower is not None and band_upper is not None and weights.shape[0]:
        # A tiny tolerance keeps a class sitting exactly on its band edge (band-edge rebalancing) inside.
        tolerance = 1e-12
        breached = (weights < band_lower - tolerance) | (weights > band_upper + tolerance)
        strict = float(np.mean(np.any(breached, axis=1)))
        margin = max(band_tolerance, tolerance)
        outside = float(np.mean(np.any((weights < band_lower - margin) | (weights > band_upper + margin), axis=1)))

    out = curve_metrics(
        final, timestamps, capital, totals, moments, max_drawdown, mean_equity, tracking_error, outside, bars_per_year
    )
    cost = totals.fees + totals.slippage + totals.funding
    out.update(
        {
            "time_outside_bands_strict": strict,
            "cost": cost,
            "cost_after_initial": cost - totals.initial_cost,
            "funding_gap_bars": totals.funding_gap_bars,
        }
    )
    if with_flows and flows is not None:
        out.update(
            {
                "final_equity": float(held[-1]),
                "time_weighted_return": out["total_return"],
                "net_flows": float(np.sum(flows)),
            }
        )
    return out


@dataclass(frozen=True, slots=True)
class ReturnMoments:
    """The bar returns' count, mean, sample standard deviation and root mean square of their negative parts."""

    count: int = 0
    mean: float = 0.0
    std: float = 0.0
    downside: float = 0.0


def curve_metrics(
    final: float,
    timestamps: npt.NDArray[np.int64],
    capital: float,
    totals: RunTotals,
    moments: ReturnMoments,
    max_drawdown: float,
    mean_equity: float,
    tracking_error: float,
    outside: float,
    bars_per_year: float | None = None,
) -> dict[str, float]:
    """The metrics dict from a curve's summary figures (what :func:`compute_metrics` and a sweep share).

    ``bars_per_year`` is :func:`periods_per_year` of ``timestamps``, computed here when not given.
    """
    bars = timestamps.shape[0]
    total_return = final / capital - 1.0
    years = (float(timestamps[-1] - timestamps[0]) / NANOSECONDS_PER_YEAR) if bars > 1 else 0.0
    if years > 0 and final > 0:
        cagr = (final / capital) ** (1.0 / years) - 1.0
    elif years > 0:
        cagr = -1.0
    else:
        cagr = 0.0
    ppy = bars_per_year if bars_per_year is not None else periods_per_year(timestamps)
    volatility = sharpe = sortino = 0.0
    if moments.count > 1:
        volatility = moments.std * math.sqrt(ppy)
        sharpe = moments.mean / moments.std * math.sqrt(ppy) if moments.std > 0 else 0.0
        sortino = moments.mean / moments.downside * math.sqrt(ppy) if moments.downside > 0 else 0.0
    calmar = cagr / max_drawdown if max_drawdown > 0 else 0.0
    turnover = totals.traded_notional / mean_equity if mean_equity > 0 else 0.0
    return {
        "final_equity": final,
        "total_return": total_return,
        "cagr": cagr,
        "volatility": volatility,
        "sharpe": sharpe,
        "sortino": sortino,
        "max_drawdown": max_drawdown,
        "calmar": calmar,
        "rebalances": totals.rebalances,
        "turnover": turnover,
        "fees": totals.fees,
        "slippage": totals.slippage,
        "funding": totals.funding,
        "liquidations": totals.liquidations,
        "tracking_error": tracking_error,
        "time_outside_bands": outside,
    }
