"""Realised volatility and betas for runs without a history feed, from the prices the journal keeps.

A backtest and a paper replay know the history, so adaptive bands get realised volatility and a
beta-neutral strategy gets its beta from the bars. A live venue or a fixed ``--market`` snapshot has no
history of its own, but every cycle's snapshot in the journal stores that cycle's spot prices. This module
turns them (plus, in a replay, the bars before the first one replayed) into the same two estimates:

* **volatility**: :func:`trimtab.policy.bands.realised_volatility` of each asset's prices over the policy's
  ``[trigger.adaptive] lookback``, annualised by the median spacing of the prices (an hourly cycle: 8 760
  periods a year);
* **beta**: :func:`trimtab.policy.targets.beta_neutral.estimate_beta` of the long class's returns on the short
  class's over the strategy's ``lookback``, each class an index of its assets weighted by the class split, as
  the backtest builds it.

An estimate needs at least three prices and prices that span at least :data:`MIN_COVERAGE` of the lookback;
until then the planner keeps its fallback (fixed bands, a beta of 1) and :class:`Estimates` says why.
"""

from __future__ import annotations

import bisect
import itertools
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from trimtab.domain.classes import AssetClass
from trimtab.policy.bands import realised_volatility
from trimtab.policy.config import BetaNeutralStrategy, Policy
from trimtab.policy.durations import parse_duration
from trimtab.policy.targets.beta_neutral import estimate_beta
from trimtab.storage import Store
from trimtab.storage.records import utc

SECONDS_PER_YEAR = 365.0 * 86400.0
MIN_COVERAGE = 0.5
"""The share of a lookback the prices must span before an estimate replaces the fallback."""


@dataclass(frozen=True)
class Estimates:
    """What the history gives the planner this cycle.

    ``volatility`` maps asset -> annualised realised volatility (None when the policy has no adaptive bands);
    ``betas`` maps the beta-neutral strategy's long class to its beta; ``missing`` says, per estimate
    (``volatility``, ``beta``), why the fallback is kept; empty for an estimate that was made.
    """

    volatility: dict[str, float] | None = None
    betas: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


class PriceHistory:
    """Spot prices (asset -> price) by time, oldest first; one row per time, the last one written wins."""

    def __init__(self) -> None:
        self._times: list[datetime] = []
        self._prices: list[dict[str, float]] = []

    def __len__(self) -> int:
        return len(self._times)

    def add(self, when: datetime, prices: Mapping[str, float]) -> None:
        """Record the prices seen at ``when`` (out of order is fine; the same time again replaces them)."""
        row = {asset: float(price) for asset, price in prices.items() if _valid(price)}
        index = bisect.bisect_left(self._times, when)
        if index < len(self._times) and self._times[index] == when:
            self._prices[index] = row
            return
        self._times.insert(index, when)
        self._prices.insert(index, row)

    def forget_before(self, moment: datetime) -> None:
        """Drop the rows older than ``moment`` (they lie outside every lookback)."""
        cut = bisect.bisect_left(self._times, moment)
        del self._times[:cut]
        del self._prices[:cut]

    def window(self, since: datetime, until: datetime) -> tuple[list[datetime], list[dict[str, float]]]:
        """The rows whose time lies in ``[since, until]``, oldest first."""
        first = bisect.bisect_left(self._times, since)
        last = bisect.bisect_right(self._times, until)
        return self._times[first:last], self._prices[first:last]


def _valid(price: object) -> bool:
    return isinstance(price, int | float) and math.isfinite(price) and price > 0


def _periods_per_year(times: Sequence[datetime]) -> float:
    spacing = statistics.median((b - a).total_seconds() for a, b in itertools.pairwise(times))
    return SECONDS_PER_YEAR / spacing


def _too_short(times: Sequence[datetime], lookback: timedelta, needed: int) -> str | None:
    """Why ``times`` cannot support an estimate over ``lookback`` (None when they can)."""
    span = times[-1] - times[0] if times else timedelta(0)
    if len(times) < needed or span < lookback * MIN_COVERAGE:
        return (
            f"{len(times)} price(s) spanning {_human(span)} in the journal; "
            f"at least {needed} over {_human(lookback * MIN_COVERAGE)} (half the {_human(lookback)} lookback) needed"
        )
    return None


def _human(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min"


def volatility_estimates(
    history: PriceHistory, assets: Iterable[str], lookback: timedelta, now: datetime
) -> tuple[dict[str, float], list[str]]:
    """Each asset's realised volatility over ``[now - lookback, now]``.

    Returns
    -------
    tuple
        Asset -> annualised volatility for the assets with enough prices, and the reasons for the others.
    """
    times, rows = history.window(now - lookback, now)
    found: dict[str, float] = {}
    reasons: list[str] = []
    for asset in assets:
        points = [(t, row[asset]) for t, row in zip(times, rows, strict=True) if asset in row]
        when = [t for t, _ in points]
        reason = _too_short(when, lookback, 3)
        if reason is not None:
            reasons.append(f"{asset}: {reason}")
            continue
        try:
            found[asset] = realised_volatility([p for _, p in points], _periods_per_year(when))
        except ValueError as error:
            reasons.append(f"{asset}: {error}")
    return found, reasons


def beta_estimate(
    history: PriceHistory, strategy: BetaNeutralStrategy, classes: Sequence[AssetClass], base: str, now: datetime
) -> tuple[dict[str, float], str | None]:
    """The beta of ``strategy.long`` on ``strategy.short`` over the strategy's lookback ending at ``now``.

    Each class is an index of its (non-base) assets, each asset's price divided by its first price in the
    window and weighted by the class split; returns are the index's simple returns, as in the backtest.

    Returns
    -------
    tuple
        ``{long class: beta}`` (empty when no estimate was made) and the reason when none was.
    """
    lookback = parse_duration(strategy.lookback)
    named = {c.name: c for c in classes}
    legs = [named[strategy.long], named[strategy.short]]
    assets = sorted({a for c in legs for a in c.assets if a != base})
    times, rows = history.window(now - lookback, now)
    complete = [(t, row) for t, row in zip(times, rows, strict=True) if all(a in row for a in assets)]
    reason = _too_short([t for t, _ in complete], lookback, 4)
    if reason is not None:
        return {}, reason
    returns: list[list[float]] = []
    for leg in legs:
        first = complete[0][1]
        index = [
            sum(leg.weights.get(a, 0.0) * row[a] / first[a] for a in leg.assets if a != base) for _, row in complete
        ]
        if not all(value > 0 for value in index):
            return {}, f"{leg.name} holds no priced asset"
        returns.append([b / a - 1.0 for a, b in itertools.pairwise(index)])
    try:
        return {strategy.long: estimate_beta(returns[0], returns[1])}, None
    except ValueError as error:
        return {}, str(error)


class HistoryEstimator:
    """Keeps the recent spot prices of a run and estimates volatility and betas from them each cycle.

    Parameters
    ----------
    policy:
        Gives the lookbacks (``[trigger.adaptive]``, a beta-neutral ``[strategy]``) and the classes.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.history = PriceHistory()
        strategy = policy.strategy
        self.beta_strategy = strategy if isinstance(strategy, BetaNeutralStrategy) and strategy.beta is None else None
        # Adaptive bands and bands from costs (band = "auto") read volatility over the policy's lookback.
        volatility_lookback = policy.volatility_lookback()
        lookbacks = [volatility_lookback] if volatility_lookback is not None else []
        if self.beta_strategy is not None:
            lookbacks.append(parse_duration(self.beta_strategy.lookback))
        self.horizon: timedelta | None = max(lookbacks) if lookbacks else None
        """How far back prices matter (None: the policy needs no estimate)."""

    @property
    def needed(self) -> bool:
        """Whether the policy uses any estimate at all."""
        return self.horizon is not None

    def seed(self, rows: Iterable[tuple[datetime, Mapping[str, float]]]) -> None:
        """Add prices seen before the run (the journal's snapshots, a replay's earlier bars)."""
        for when, prices in rows:
            self.history.add(when, prices)

    def estimate(self, now: datetime, prices: Mapping[str, float], record: bool = True) -> Estimates:
        """Record this cycle's prices (unless ``record`` is False: prices the cycle does not trust) and estimate
        what the policy needs at ``now``."""
        if self.horizon is None:
            return Estimates()
        if record:
            self.history.add(now, prices)
        self.history.forget_before(now - self.horizon)
        volatility: dict[str, float] | None = None
        missing: dict[str, str] = {}
        lookback = self.policy.volatility_lookback()
        base = self.policy.base_currency
        classes = self.policy.asset_classes()
        if lookback is not None:
            assets = sorted({a for c in classes if not c.cash or c.band_auto for a in c.assets if a != base})
            volatility, reasons = volatility_estimates(self.history, assets, lookback, now)
            if reasons:
                missing["volatility"] = "; ".join(reasons)
        betas: dict[str, float] = {}
        if self.beta_strategy is not None:
            betas, reason = beta_estimate(self.history, self.beta_strategy, classes, base, now)
            if reason is not None:
                missing["beta"] = reason
        return Estimates(volatility, betas, missing)


class FallbackLog:
    """Says when an estimate starts or stops standing in for its fallback: once per change, not every cycle."""

    def __init__(self) -> None:
        self._falling_back: dict[str, bool] = {}

    def changes(self, estimates: Estimates, kinds: Iterable[str]) -> list[str]:
        """The decisions to record for ``kinds`` (``volatility``, ``beta``) this cycle (empty when unchanged)."""
        said: list[str] = []
        for kind in kinds:
            reason = estimates.missing.get(kind)
            if self._falling_back.get(kind) == (reason is not None):
                continue
            self._falling_back[kind] = reason is not None
            if reason is None:
                what = "adaptive bands use realised volatility" if kind == "volatility" else "the beta is estimated"
                said.append(f"{what} from the run's price history")
            elif kind == "volatility":
                said.append(f"adaptive bands fall back to the fixed bands: {reason}")
            else:
                said.append(f"no beta estimate yet (beta 1.0 assumed): {reason}")
        return said


def journal_prices(store: Store, since: datetime) -> list[tuple[datetime, dict[str, float]]]:
    """The spot prices of the journaled snapshots taken at or after ``since``, oldest first.

    Cycles that paused (stale or outlying prices) are left out: a bad tick must not count as volatility.
    """
    from sqlalchemy import select

    from trimtab.storage.models import DecisionRow, SnapshotRow

    with store.transaction() as session:
        # Only the prices leave the database (a JSON path on SQLite and PostgreSQL alike): a month of
        # one-minute cycles reads in well under a second.
        query = select(SnapshotRow.cycle, SnapshotRow.timestamp, SnapshotRow.payload["prices"]).where(
            SnapshotRow.timestamp >= since
        )
        rows = session.execute(query.order_by(SnapshotRow.timestamp, SnapshotRow.id)).all()
        paused = set(
            session.scalars(
                select(DecisionRow.cycle).where(DecisionRow.kind == "pause", DecisionRow.timestamp >= since)
            )
        )
    found = []
    for cycle, when, prices in rows:
        moment = utc(when)
        if cycle not in paused and moment is not None and moment >= since and isinstance(prices, dict):
            found.append((moment, dict(prices)))
    return found
