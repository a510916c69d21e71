"""The prices a run without a history feed estimates from: its own cycles' prices, kept in the journal.

A backtest slices its history; a paper replay also has the bars before its first one; a live venue or a
fixed ``--market`` snapshot has no history of its own, but every cycle's snapshot in the journal stores that
cycle's spot prices. :class:`HistoryEstimator` gathers them (plus, in a replay, the bars before the first one
replayed) and hands the rebalancing session a :class:`~trimtab.policy.estimation.PriceWindow` of the last
:func:`~trimtab.session.history_needed` of them each cycle; the session and the target models estimate from
it with the one estimator (:mod:`trimtab.policy.estimation`), as a backtest does from its bars.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import numpy as np

from trimtab.policy.config import Policy
from trimtab.policy.estimation import PriceWindow
from trimtab.session import history_needed
from trimtab.storage import Store
from trimtab.storage.records import utc


class PriceHistory:
    """Spot prices (asset -> price) by time, oldest first; one row per time, the last one written wins.

    ``assets`` are the columns of :meth:`table`: each row is also kept as their prices (NaN where missing) and
    its time as seconds since the epoch, converted once when it is added rather than at every window.
    """

    def __init__(self, assets: Sequence[str] = ()) -> None:
        self.assets = tuple(assets)
        self._times: list[datetime] = []
        self._prices: list[dict[str, float]] = []
        self._stamps: list[float] = []
        self._table: list[list[float]] = []

    def __len__(self) -> int:
        return len(self._times)

    def add(self, when: datetime, prices: Mapping[str, float]) -> None:
        """Record the prices seen at ``when`` (out of order is fine; the same time again replaces them)."""
        row = {asset: float(price) for asset, price in prices.items() if _valid(price)}
        columns = [row.get(asset, math.nan) for asset in self.assets]
        index = bisect.bisect_left(self._times, when)
        if index < len(self._times) and self._times[index] == when:
            self._prices[index] = row
            self._table[index] = columns
            return
        self._times.insert(index, when)
        self._prices.insert(index, row)
        self._stamps.insert(index, when.timestamp())
        self._table.insert(index, columns)

    def forget_before(self, moment: datetime) -> None:
        """Drop the rows older than ``moment`` (they lie outside every lookback)."""
        cut = bisect.bisect_left(self._times, moment)
        del self._times[:cut]
        del self._prices[:cut]
        del self._stamps[:cut]
        del self._table[:cut]

    def window(self, since: datetime, until: datetime) -> tuple[list[datetime], list[dict[str, float]]]:
        """The rows whose time lies in ``[since, until]``, oldest first."""
        first = bisect.bisect_left(self._times, since)
        last = bisect.bisect_right(self._times, until)
        return self._times[first:last], self._prices[first:last]

    def table(self, since: datetime, until: datetime) -> PriceWindow:
        """The rows whose time lies in ``[since, until]`` as a window of :attr:`assets` (the figures of
        :meth:`PriceWindow.from_rows <trimtab.policy.estimation.PriceWindow.from_rows>` of :meth:`window`)."""
        first = bisect.bisect_left(self._times, since)
        last = bisect.bisect_right(self._times, until)
        prices = np.array(self._table[first:last], dtype=np.float64).reshape(last - first, len(self.assets))
        return PriceWindow(np.array(self._stamps[first:last], dtype=np.float64), self.assets, prices)


def _valid(price: object) -> bool:
    return isinstance(price, int | float) and math.isfinite(price) and price > 0


class HistoryEstimator:
    """Keeps the recent spot prices of a run and gives the session its price window each cycle.

    Parameters
    ----------
    policy:
        Its adaptive bands and target model say how far back prices matter (:func:`history_needed`).
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.horizon = history_needed(policy)
        """How far back prices matter (None: the policy needs no estimate)."""
        base = policy.base_currency
        self.assets = tuple(sorted({a for c in policy.asset_classes() for a in c.assets if a != base}))
        self.history = PriceHistory(self.assets)

    @property
    def needed(self) -> bool:
        """Whether the policy uses any estimate at all."""
        return self.horizon is not None

    def seed(self, rows: Iterable[tuple[datetime, Mapping[str, float]]]) -> None:
        """Add prices seen before the run (the journal's snapshots, a replay's earlier bars)."""
        for when, prices in rows:
            self.history.add(when, prices)

    def window(self, now: datetime, prices: Mapping[str, float], record: bool = True) -> PriceWindow | None:
        """Record this cycle's prices (unless ``record`` is False: prices the cycle does not trust) and return
        the window of the last :attr:`horizon` of prices up to ``now`` (None when no estimate is needed)."""
        if self.horizon is None:
            return None
        if record:
            self.history.add(now, prices)
        self.history.forget_before(now - self.horizon)
        return self.history.table(now - self.horizon, now)


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
