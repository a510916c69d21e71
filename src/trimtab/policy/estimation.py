"""The one estimator: realised volatility, beta and covariance from a window of prices.

Every clock hands the rebalancing session a :class:`PriceWindow` (a backtest slices its history, a paper or
live run gathers the prices of its cycles, a replay adds the bars before its first one); target models and
adaptive bands declare the lookback they need and estimate from the window with the functions here. So a
backtest, a paper replay and the live loop estimate the same figures from the same prices.

Rules shared by every estimate:

* the window is the prices whose time lies in ``[end - lookback, end]``;
* an estimate needs at least three prices (two returns; four for a beta or a covariance) that span at least
  :data:`MIN_COVERAGE` of the lookback, else :class:`EstimateUnavailableError` says what is missing;
* returns are annualised by the median spacing of the prices (an hourly run: 8 760 periods a year);
* volatility: sample standard deviation (ddof 1) of log returns x sqrt(periods a year);
* a class is an index of its (non-base) assets, each price divided by its first in the window and weighted
  by the class split; beta and covariance use the index's simple returns on the times where every asset
  has a price.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from trimtab.domain.classes import AssetClass

FloatArray = npt.NDArray[np.float64]
SECONDS_PER_YEAR = 365.0 * 86400.0
MIN_COVERAGE = 0.5
"""The share of a lookback the prices must span before an estimate is made."""


class EstimateUnavailableError(ValueError):
    """Too little (or unusable) history for an estimate; the message says what is missing."""


@dataclass(frozen=True, eq=False)
class PriceWindow:
    """Prices by time: ``times`` (seconds since the epoch, ascending), ``prices`` shape (len(times), len(assets))
    with NaN where an asset had no price."""

    times: FloatArray
    assets: tuple[str, ...]
    prices: FloatArray
    ranges: Callable[[timedelta], tuple[list[float], list[float], float, int]] | None = None
    """The lows and highs per column over a lookback ending at the window's last time, the smallest spacing of
    their times and their number of rows, from the history the window is the last rows of
    (:class:`trimtab.policy.ranges.RollingRanges`): what :func:`volatility_ceilings` reads instead of searching
    and reducing the window and taking its median spacing. None: the window works them out from its rows."""

    @classmethod
    def from_rows(
        cls, times: Sequence[datetime], rows: Sequence[Mapping[str, float]], assets: Sequence[str]
    ) -> PriceWindow:
        """A window from one mapping (asset -> price) per time."""
        stamps = np.array([t.timestamp() for t in times], dtype=np.float64)
        table = np.array([[row.get(a, math.nan) for a in assets] for row in rows], dtype=np.float64)
        return cls(stamps, tuple(assets), table.reshape(len(times), len(assets)))

    @property
    def end(self) -> float:
        return float(self.times[-1]) if self.times.size else math.nan

    def last(self, lookback: timedelta) -> PriceWindow:
        """The part of the window within ``lookback`` of its end (inclusive)."""
        if not self.times.size:
            return self
        first = int(np.searchsorted(self.times, self.end - lookback.total_seconds(), side="left"))
        return PriceWindow(self.times[first:], self.assets, self.prices[first:])

    def column(self, asset: str) -> tuple[FloatArray, FloatArray]:
        """The times and prices of ``asset`` where it has a price."""
        if asset not in self.assets:
            return np.zeros(0), np.zeros(0)
        series = self.prices[:, self.assets.index(asset)]
        keep = np.isfinite(series) & (series > 0)
        return self.times[keep], series[keep]


def _human(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min"


def _check_span(times: FloatArray, lookback: timedelta, needed: int) -> None:
    span = float(times[-1] - times[0]) if times.size else 0.0
    wanted = lookback.total_seconds() * MIN_COVERAGE
    if times.size < needed or span < wanted:
        raise EstimateUnavailableError(
            f"{times.size} price(s) spanning {_human(span)}; at least {needed} over {_human(wanted)} "
            f"(half the {_human(lookback.total_seconds())} lookback) needed"
        )


def periods_per_year(times: FloatArray) -> float:
    """Periods a year at the median spacing of ``times``."""
    # statistics.median gives numpy's median (the mean of the middle two) at a fifth of its cost on a window
    return SECONDS_PER_YEAR / float(statistics.median((times[1:] - times[:-1]).tolist()))


def _sample_std(values: FloatArray) -> float:
    """``np.std(values, ddof=1)`` by the same arithmetic (a pairwise sum for the mean, then for the squares),
    without its per-call overhead: the same float, a fraction of the time on a short window."""
    count = values.shape[0]
    deviations = values - np.add.reduce(values) / count
    return math.sqrt(float(np.add.reduce(deviations * deviations)) / (count - 1))


def _volatility(times: FloatArray, prices: FloatArray, lookback: timedelta, per_year: float | None = None) -> float:
    """Annualised volatility of ``prices`` at ``times`` (``per_year``: their periods a year, when known)."""
    _check_span(times, lookback, 3)
    returns = np.diff(np.log(prices))
    return _sample_std(returns) * math.sqrt(per_year if per_year is not None else periods_per_year(times))


def volatility(window: PriceWindow, asset: str, lookback: timedelta) -> float:
    """Annualised realised volatility of ``asset`` over the last ``lookback`` of the window.

    Raises
    ------
    EstimateUnavailableError
        With too few prices, or prices spanning too little of the lookback.
    """
    times, prices = window.last(lookback).column(asset)
    return _volatility(times, prices, lookback)


def volatility_ceilings(window: PriceWindow, assets: Sequence[str], lookback: timedelta) -> dict[str, float]:
    """Values :func:`volatility` cannot exceed, for two reductions over the window: one per asset priced (and
    positive) at every time of the lookback, when it holds three prices at least (none for the others).

    The sample standard deviation of ``n`` log returns is at most ``sqrt(n / (n - 1))`` times the largest in size
    (the squares of the deviations sum to at most those of the returns), and no return is larger in size than
    ``ln(highest / lowest price)``; annualised as :func:`volatility` does, with a hair to spare for rounding.
    """
    times = window.times
    if window.ranges is not None:
        # the same rows, or more before them: a range as wide at least, and a spacing as small at most
        lows, highs, spacing, rows = window.ranges(lookback)
        count = min(rows, times.shape[0])  # the window is the history's last rows
        if count < 3:
            return {}
        per_year = SECONDS_PER_YEAR / spacing if spacing > 0.0 else math.inf
    else:
        first = int(times.searchsorted(times[-1] - lookback.total_seconds(), "left")) if times.size else 0
        count = times.shape[0] - first
        if count < 3:
            return {}
        block = window.prices[first:]
        lows, highs = np.minimum.reduce(block).tolist(), np.maximum.reduce(block).tolist()  # without min's wrapper
        per_year = periods_per_year(times[first:])
    returns = count - 1
    scale = math.sqrt(returns / (returns - 1)) * math.sqrt(per_year) * (1.0 + 1e-9)
    out = {}
    for asset in assets:
        if asset in window.assets:
            column = window.assets.index(asset)
            low, high = lows[column], highs[column]
            if low > 0.0 and high < math.inf:  # a NaN fails both
                out[asset] = math.log(high / low) * scale
    return out


def volatilities(window: PriceWindow, assets: Sequence[str], lookback: timedelta) -> tuple[dict[str, float], list[str]]:
    """:func:`volatility` of each asset: the estimates made, and ``"ASSET: why"`` for the others.

    The window is cut to the lookback once; the assets priced at every time of it share one table of log
    returns and one count of periods a year (the same figures as :func:`volatility` asset by asset).
    """
    recent = window.last(lookback)
    found: dict[str, float] = {}
    reasons: list[str] = []
    complete = _complete_returns(recent, assets)
    for asset in assets:
        try:
            if asset in complete:
                _check_span(recent.times, lookback, 3)
                found[asset] = complete[asset]
            else:
                times, prices = recent.column(asset)
                found[asset] = _volatility(times, prices, lookback)
        except EstimateUnavailableError as error:
            reasons.append(f"{asset}: {error}")
    return found, reasons


def _complete_returns(recent: PriceWindow, assets: Sequence[str]) -> dict[str, float]:
    """The annualised volatility of each asset of ``assets`` priced at every time of ``recent`` (three at least)."""
    names = [a for a in assets if a in recent.assets]
    if recent.times.shape[0] < 3 or not names:
        return {}
    table = recent.prices[:, [recent.assets.index(a) for a in names]]
    # positive and finite in every row (a NaN fails both comparisons), in two reductions
    priced = (table.min(axis=0) > 0.0) & (table.max(axis=0) < np.inf)
    if not priced.all():
        names = [a for a, ok in zip(names, priced, strict=True) if ok]
        table = table[:, priced]
    if not names:
        return {}
    logs = np.log(table)
    returns = logs[1:] - logs[:-1]
    scale = math.sqrt(periods_per_year(recent.times))
    return {a: _sample_std(returns[:, k]) * scale for k, a in enumerate(names)}


def class_returns(
    window: PriceWindow, classes: Sequence[AssetClass], base: str, lookback: timedelta
) -> tuple[FloatArray, FloatArray]:
    """Simple returns of each class's index over the last ``lookback``, on the times every asset is priced.

    Returns
    -------
    tuple
        The times of the prices used and the returns, shape (n - 1, len(classes)).

    Raises
    ------
    EstimateUnavailableError
        With fewer than four complete rows spanning half the lookback, or a class without a priced asset.
    """
    recent = window.last(lookback)
    assets = sorted({a for c in classes for a in c.assets if a != base})
    columns = [recent.assets.index(a) for a in assets if a in recent.assets]
    if len(columns) < len(assets):
        missing = sorted(set(assets) - set(recent.assets))
        raise EstimateUnavailableError(f"no prices for {', '.join(missing)}")
    table = recent.prices[:, columns]
    complete = np.all(np.isfinite(table) & (table > 0), axis=1)
    times, table = recent.times[complete], table[complete]
    _check_span(times, lookback, 4)
    relative = table / table[0]
    indices = np.zeros((times.size, len(classes)))
    for k, asset_class in enumerate(classes):
        weights = [(assets.index(a), asset_class.weights.get(a, 0.0)) for a in asset_class.assets if a != base]
        if not weights:
            raise EstimateUnavailableError(f"{asset_class.name} holds no priced asset")
        for column, weight in weights:
            indices[:, k] += weight * relative[:, column]
    if not np.all(indices > 0):
        raise EstimateUnavailableError("a class index is not positive")
    return times, indices[1:] / indices[:-1] - 1.0


def estimate_beta(long_returns: Sequence[float], short_returns: Sequence[float]) -> float:
    """The OLS beta of the long leg's returns on the short leg's: ``cov(long, short) / var(short)``.

    Parameters
    ----------
    long_returns, short_returns:
        Returns over the same periods, in the same order.

    Returns
    -------
    float
        The beta (how many units of the short leg move with one unit of the long leg).

    Raises
    ------
    ValueError
        If the series differ in length, hold fewer than two returns or non-finite values, or the short leg's
        returns do not vary.
    """
    long_arr = np.asarray(long_returns, dtype=float)
    short_arr = np.asarray(short_returns, dtype=float)
    if long_arr.shape != short_arr.shape or long_arr.ndim != 1:
        raise ValueError("the two return series must have the same length")
    if long_arr.size < 2:
        raise ValueError("estimating beta needs at least two returns")
    if not (np.all(np.isfinite(long_arr)) and np.all(np.isfinite(short_arr))):
        raise ValueError("returns must be finite numbers")
    short_centred = short_arr - short_arr.mean()
    variance = float(np.dot(short_centred, short_centred))
    # Relative to the raw second moment, so a constant series that rounding leaves a hair off zero counts as one.
    if variance <= 1e-12 * float(np.dot(short_arr, short_arr)) or variance == 0.0:
        raise ValueError("the short leg's returns do not vary: beta is undefined")
    covariance = float(np.dot(long_arr - long_arr.mean(), short_centred))
    return covariance / variance


def beta(window: PriceWindow, long: AssetClass, short: AssetClass, base: str, lookback: timedelta) -> float:
    """The OLS beta of ``long``'s index returns on ``short``'s over the last ``lookback``.

    Raises
    ------
    EstimateUnavailableError
        With too little history, or when the short leg's returns do not vary.
    """
    _, returns = class_returns(window, (long, short), base, lookback)
    try:
        return estimate_beta(returns[:, 0].tolist(), returns[:, 1].tolist())
    except ValueError as error:
        raise EstimateUnavailableError(str(error)) from None


def covariance(window: PriceWindow, classes: Sequence[AssetClass], base: str, lookback: timedelta) -> FloatArray:
    """The annualised sample covariance (ddof 1) of the classes' index returns over the last ``lookback``.

    Raises
    ------
    EstimateUnavailableError
        With too little history.
    """
    times, returns = class_returns(window, classes, base, lookback)
    matrix = np.atleast_2d(np.cov(returns, rowvar=False, ddof=1))
    return np.asarray(matrix * periods_per_year(times), dtype=np.float64)
