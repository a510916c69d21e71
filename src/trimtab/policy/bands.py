"""Tolerance bands around each class's target, fixed or scaled by volatility.

A band is a target weight and an absolute half-width. A class is *breached* when its weight lies
strictly farther than the half-width from the target (``|weight - target| > half_width``), so a weight
sitting exactly on an edge is inside.

Adaptive bands (``[trigger.adaptive]``) widen in volatile markets and narrow in calm ones::

    half_width = clip(fixed_half_width x class_vol / reference_vol, min_band, max_band)

where ``class_vol`` is the average of the class's asset volatilities weighted by the class's split,
over the assets whose volatility is known. The cash class and any class without a known volatility
keep their fixed band.

Bands from costs (``band = "auto"``) are the optimal no-trade region of a quadratic tracking penalty with
proportional costs (Leland; Dybvig and Pezzo; Janecek and Shreve), whose half-width scales with
``(cost x sigma^2)^(1/3)``::

    h_c = k x (c x sigma_c^2)^(1/3),  c = 2 x (taker_fee + slippage_bps / 1e4),
    sigma_c = class_vol x |target|        (the volatility of the class's weight),
    k such that sqrt(mean over the auto classes of (h_c / sqrt 3)^2) = tracking_budget,

then each ``h_c`` is clipped to ``[0.002, 0.25]`` (after ``k`` is chosen). ``h / sqrt 3`` is the RMS
distance from target of a weight spread evenly over ``+/- h``. An auto class whose volatility is unknown
(a backtest's first bars, a snapshot without it) keeps ``sqrt 3 x tracking_budget`` and takes no part in
``k``. Adaptive scaling does not apply to auto classes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported lazily: `trimtab plan` must start fast
    import numpy as np
    import numpy.typing as npt

from trimtab.domain.classes import AssetClass
from trimtab.policy.config import AdaptiveConfig, Policy


@dataclass(frozen=True, slots=True)
class Band:
    """A tolerance band: ``target`` +/- ``half_width`` (both in weight, i.e. fractions of equity)."""

    target: float
    half_width: float

    @property
    def lower(self) -> float:
        """``target - half_width``; not clipped at zero (a short leg's band may lie below it)."""
        return self.target - self.half_width

    @property
    def upper(self) -> float:
        """``target + half_width``."""
        return self.target + self.half_width

    def breached(self, weight: float) -> bool:
        """Whether ``weight`` lies strictly outside the band (an edge is still inside)."""
        return abs(weight - self.target) > self.half_width

    def contains(self, weight: float, tolerance: float = 0.0) -> bool:
        """Whether ``weight`` lies inside the band widened by ``tolerance`` on each side."""
        return abs(weight - self.target) <= self.half_width + tolerance


def class_volatility(asset_class: AssetClass, volatility: Mapping[str, float]) -> float | None:
    """The class's volatility: its assets' volatilities weighted by the class split.

    Only the assets with a known volatility count (their split weights are renormalised).

    Returns
    -------
    float or None
        The weighted volatility, or None when no asset of the class has one.
    """
    known = [(asset_class.weights.get(a, 0.0), volatility[a]) for a in asset_class.assets if a in volatility]
    total = sum(w for w, _ in known)
    if not known or total <= 0.0:
        return None
    return sum(w * v for w, v in known) / total


def adaptive_half_width(fixed_half_width: float, vol: float, adaptive: AdaptiveConfig) -> float:
    """``fixed_half_width x vol / reference_vol``, clipped to ``[min_band, max_band]``."""
    scaled = fixed_half_width * vol / adaptive.reference_vol
    return min(max(scaled, adaptive.min_band), adaptive.max_band)


AUTO_MIN_HALF_WIDTH = 0.002
AUTO_MAX_HALF_WIDTH = 0.25


@dataclass(frozen=True, slots=True)
class AutoBands:
    """What ``band = "auto"`` needs: the round-trip cost rate and the tracking budget."""

    round_trip_cost: float
    tracking_budget: float

    @classmethod
    def from_policy(cls, policy: Policy) -> AutoBands | None:
        """The settings of ``policy``, or None when no class has ``band = "auto"``."""
        if not any(c.band_auto for c in policy.classes):
            return None
        costs = policy.costs
        return cls(2.0 * (costs.taker_fee + costs.slippage_bps / 1e4), policy.rebalance.tracking_budget)


def auto_half_widths(
    classes: Sequence[AssetClass], targets: Mapping[str, float], volatility: Mapping[str, float], auto: AutoBands
) -> dict[str, float]:
    """The half-width of every ``band = "auto"`` class whose volatility is known (see the module docstring).

    Returns
    -------
    dict[str, float]
        Class name -> clipped half-width; auto classes without a known volatility are left out.
    """
    scale: dict[str, float] = {}
    for asset_class in classes:
        if not asset_class.band_auto:
            continue
        vol = class_volatility(asset_class, volatility)
        if vol is None:
            continue
        sigma = vol * abs(targets.get(asset_class.name, asset_class.target))
        scale[asset_class.name] = (auto.round_trip_cost * sigma * sigma) ** (1.0 / 3.0)
    if not scale:
        return {}
    mean_square = sum(x * x for x in scale.values()) / len(scale)
    k = auto.tracking_budget * math.sqrt(3.0) / math.sqrt(mean_square) if mean_square > 0.0 else 0.0
    return {name: min(max(k * x, AUTO_MIN_HALF_WIDTH), AUTO_MAX_HALF_WIDTH) for name, x in scale.items()}


def class_bands(
    classes: Sequence[AssetClass],
    targets: Mapping[str, float],
    adaptive: AdaptiveConfig | None,
    volatility: Mapping[str, float],
    auto: AutoBands | None = None,
) -> dict[str, Band]:
    """The band of every class, around the targets a target model chose.

    Parameters
    ----------
    classes:
        The policy's classes (``Policy.asset_classes()``).
    targets:
        Class name -> target weight (a :class:`~trimtab.policy.targets.TargetSet`'s ``targets``); a class
        missing from it keeps its policy target.
    adaptive:
        The ``[trigger.adaptive]`` settings, or None for fixed bands.
    volatility:
        Asset -> annualised volatility (the snapshot's, or realised volatility in a backtest).
    auto:
        Costs and tracking budget for ``band = "auto"`` classes (None when the policy has none).

    Returns
    -------
    dict[str, Band]
        Class name -> band, in the classes' order. The half-width is the class's ``band``, or
        ``|target| x band_relative``; with ``adaptive`` it is scaled by volatility; an auto class's comes
        from costs and volatility (see the module).
    """
    bands: dict[str, Band] = {}
    widths = auto_half_widths(classes, targets, volatility, auto) if auto is not None else {}
    for asset_class in classes:
        target = targets.get(asset_class.name, asset_class.target)
        half_width = asset_class.half_width_around(target)
        if asset_class.band_auto:
            half_width = widths.get(asset_class.name, half_width)
        elif adaptive is not None and not asset_class.cash:
            vol = class_volatility(asset_class, volatility)
            if vol is not None:
                half_width = adaptive_half_width(half_width, vol, adaptive)
        bands[asset_class.name] = Band(target=target, half_width=half_width)
    return bands


def realised_volatility(closes: Sequence[float], periods_per_year: float) -> float:
    """Annualised volatility of a price series: sample stdev of log returns x sqrt(periods_per_year).

    The caller picks the lookback window (e.g. the last 30 days of closes).

    Parameters
    ----------
    closes:
        Consecutive closing prices, oldest first, all positive.
    periods_per_year:
        Bars per year (365 for daily bars, 8760 for hourly ones).

    Returns
    -------
    float
        The annualised volatility (0.65 = 65 %).

    Raises
    ------
    ValueError
        With fewer than three closes (two returns), a non-positive or non-finite close, or a
        non-positive ``periods_per_year``.
    """
    if periods_per_year <= 0 or not math.isfinite(periods_per_year):
        raise ValueError("periods_per_year must be a positive number")
    import numpy as np

    prices = np.asarray(closes, dtype=float)
    if prices.size < 3:
        raise ValueError("realised volatility needs at least three closes")
    if not np.all(np.isfinite(prices)) or np.any(prices <= 0.0):
        raise ValueError("closes must be positive finite prices")
    returns = np.diff(np.log(prices))
    return float(np.std(returns, ddof=1) * math.sqrt(periods_per_year))


def rolling_realised_volatility(
    closes: Sequence[float] | npt.NDArray[np.float64], window: int, periods_per_year: float
) -> npt.NDArray[np.float64]:
    """:func:`realised_volatility` over every trailing window of ``window`` returns, in one pass.

    Returns
    -------
    numpy.ndarray
        ``result[t]`` is the volatility of ``closes[t - window : t + 1]`` (``window`` log returns ending
        at bar ``t``), NaN for ``t < window``. It matches :func:`realised_volatility` on each window to
        rounding, so a vectorised backtest and the reference path see the same bands.

    Raises
    ------
    ValueError
        If ``window < 2``, a close is not a positive finite price, or ``periods_per_year`` is not positive.
    """
    if window < 2:
        raise ValueError("the window needs at least two returns")
    if periods_per_year <= 0 or not math.isfinite(periods_per_year):
        raise ValueError("periods_per_year must be a positive number")
    import numpy as np

    prices = np.asarray(closes, dtype=float)
    if not np.all(np.isfinite(prices)) or np.any(prices <= 0.0):
        raise ValueError("closes must be positive finite prices")
    out = np.full(prices.size, math.nan)
    if prices.size <= window:
        return out
    returns = np.diff(np.log(prices))
    # Centre on the overall mean first so the running sums of squares do not cancel catastrophically.
    centred = returns - returns.mean()
    sums = np.concatenate(([0.0], np.cumsum(centred)))
    squares = np.concatenate(([0.0], np.cumsum(centred * centred)))
    total = sums[window:] - sums[:-window]
    total_sq = squares[window:] - squares[:-window]
    variance = np.maximum((total_sq - total * total / window) / (window - 1), 0.0)
    out[window:] = np.sqrt(variance * periods_per_year)
    return out
