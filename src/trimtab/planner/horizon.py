"""The holding time ``auto`` prices a hedge's funding over (``[costs] funding_horizon_days``).

A number is used as is, for every class. ``"auto"`` estimates it per hedged class:

* the rebalancing session's **measured** holding time of the class's own hedges (on its ``hedge`` symbol) when it
  has measured some: weighted by notional, the time-integral of the hedges' entry notional over the notional
  opened, closed hedges for their whole life, the open one so far (:mod:`trimtab.session.holding`). Another
  class's hedges never stand in for it;
* else the **expected time the class's weight takes to drift across its band**. Modelled as a driftless random
  walk of annual volatility ``sigma_w`` (the class's volatility times its target, the ``sigma`` of
  ``band = "auto"``), started at the target, the weight leaves the band ``(target - h, target + h)`` after
  ``h^2 / sigma_w^2`` years on average (the mean exit time of Brownian motion from ``(-h, h)`` started at 0,
  ``E[tau] = h^2 / sigma^2``: Karatzas and Shreve, *Brownian Motion and Stochastic Calculus*, 2.8; Wald's
  identity ``E[W_tau^2] = sigma^2 E[tau]``);
* else (no volatility for the class) :data:`FALLBACK_DAYS`.

The estimate is clipped to ``[MIN_DAYS, MAX_DAYS]``, and the plan's notes say which horizon each class used and
where it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trimtab.domain.classes import AssetClass
from trimtab.policy.bands import Band, class_volatility

FALLBACK_DAYS = 7.0
"""The horizon of a class ``"auto"`` has no volatility for (the contract example's week)."""
MIN_DAYS = 1.0
MAX_DAYS = 365.0


@dataclass(frozen=True, slots=True)
class Horizons:
    """The funding horizon of each hedge symbol, in days, and the notes that say where each came from."""

    days: Mapping[str, float]
    notes: tuple[str, ...] = ()


def drift_days(half_width: float, weight_volatility: float) -> float:
    """``h^2 / sigma_w^2`` years in days (365 a year), clipped to ``[MIN_DAYS, MAX_DAYS]``."""
    if weight_volatility <= 0.0:
        return MAX_DAYS
    days = half_width**2 / weight_volatility**2 * 365.0
    return min(max(days, MIN_DAYS), MAX_DAYS)


def auto_horizons(
    classes: Sequence[AssetClass],
    bands: Mapping[str, Band],
    volatility: Mapping[str, float],
    measured: Mapping[str, float] | None,
) -> Horizons:
    """The ``"auto"`` horizon of every class with a hedge (see the module docstring).

    ``measured`` holds the measured holding time per hedge symbol (a symbol absent: none measured).
    """
    days: dict[str, float] = {}
    notes: list[str] = []
    for c in classes:
        if not c.hedge or c.cash:
            continue
        held = measured.get(c.hedge) if measured else None
        days[c.hedge], why = _class_horizon(c, bands[c.name], volatility, held)
        notes.append(f"funding horizon of {c.name}: {days[c.hedge]:g} days, {why}")
    return Horizons(days, tuple(notes))


def _class_horizon(
    asset_class: AssetClass, band: Band, volatility: Mapping[str, float], measured: float | None
) -> tuple[float, str]:
    if measured is not None:
        held = round(min(max(measured, MIN_DAYS), MAX_DAYS), 1)
        return held, (
            f"the session's measured holding time of its hedges on {asset_class.hedge}, weighted by notional "
            f"({measured:.1f} days)"
        )
    vol = class_volatility(asset_class, volatility)
    if vol is None:
        return FALLBACK_DAYS, f"no volatility for {asset_class.name}: the {FALLBACK_DAYS:g}-day fallback"
    sigma = vol * abs(band.target)
    estimate = round(drift_days(band.half_width, sigma), 1)
    return estimate, (
        f"estimated from its drift: h^2 / sigma_w^2 with band half-width h = {band.half_width:.4g} and weight "
        f"volatility sigma_w = {sigma:.4g} (volatility {vol:.4g} x target {band.target:.4g}), clipped to "
        f"[{MIN_DAYS:g}, {MAX_DAYS:g}]"
    )
