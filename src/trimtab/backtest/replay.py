"""What the event engine and the fast path share: the bars replayed, the class layout, realised
volatility, the initial purchase and the buy-and-hold benchmark.

Both paths read these from one place so that they start from identical numbers.

* **Bars**: the history's shared bars whose open time lies in ``[start, end]``; a bar is acted on at its
  close (open time + bar length), which is the time every record of the run carries.
* **Realised volatility** of an asset at a bar: the annualised sample standard deviation of the log
  returns of the closes within the adaptive ``lookback`` ending at that bar (the formula of
  :func:`trimtab.policy.bands.realised_volatility`), from the whole history loaded, so bars before
  ``start`` serve as warm-up; NaN until three closes spanning half the lookback are available.
* **Initial purchase**: ``capital`` in the base currency buys every asset of every class to
  ``target x split x capital`` at the first bar's close (the cash class's target is 1 minus the others'),
  paying the fees and slippage of any trade.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from trimtab.domain.classes import AssetClass
from trimtab.errors import BadInputError
from trimtab.feed.history import MarketHistory
from trimtab.feed.table import NS_PER_SECOND, to_ns
from trimtab.policy.config import Policy
from trimtab.policy.estimation import MIN_COVERAGE

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SECONDS_PER_YEAR = 365.0 * 86400.0


@dataclass(frozen=True, eq=False)
class Replay:
    """A policy laid over a history: the arrays both backtest paths read.

    ``assets`` are the policy's assets other than the base currency, in class order, and ``columns``
    their columns in the history. ``prices`` holds their closes at the replayed bars in the adjacent
    columns from ``first_column``: when the history already has them side by side (the usual case) it is
    the history's own array, a view and not a copy; ``close`` copies out just those columns, (T, A).
    ``class_of`` and ``split`` give each asset's class index and share of its class; ``targets`` the
    class targets (cash = 1 - the others); ``half_widths`` the fixed band half-widths (C,).
    ``volatility`` is (T, A) realised volatility when the policy has adaptive bands or bands from costs
    (over :meth:`~trimtab.policy.config.Policy.volatility_lookback`), else None.
    """

    policy: Policy
    history: MarketHistory
    rows: IntArray
    times: IntArray
    classes: tuple[AssetClass, ...]
    cash_index: int
    assets: tuple[str, ...]
    columns: IntArray
    prices: FloatArray
    first_column: int
    class_of: IntArray
    split: FloatArray
    targets: FloatArray
    half_widths: FloatArray
    volatility: FloatArray | None
    bar_seconds: int

    @property
    def close(self) -> FloatArray:
        """The closes of the policy's assets at the replayed bars, shape (T, A) (a copy)."""
        return np.ascontiguousarray(self.prices[:, self.first_column : self.first_column + len(self.assets)])

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    @property
    def base_currency(self) -> str:
        return self.policy.base_currency

    @property
    def periods_per_year(self) -> float:
        return SECONDS_PER_YEAR / self.bar_seconds

    def moment(self, bar: int) -> datetime:
        """The close time of replayed bar ``bar`` (UTC)."""
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(self.times[bar]) // 1000)

    def initial_values(self, capital: float) -> FloatArray:
        """Value bought of each asset by the initial purchase: ``target x split x capital``."""
        return np.array(
            [self.targets[self.class_of[a]] * self.split[a] * capital for a in range(len(self.assets))],
            dtype=np.float64,
        )


def class_targets(classes: tuple[AssetClass, ...]) -> FloatArray:
    """The policy targets, the cash class's being 1 minus the others (as the target models compute it)."""
    others = [c.target for c in classes if not c.cash]
    cash_target = 1.0 - sum(others)
    return np.array([cash_target if c.cash else c.target for c in classes], dtype=np.float64)


def prepare(policy: Policy, history: MarketHistory, start: datetime | None, end: datetime | None) -> Replay:
    """Lay ``policy`` over ``history`` between ``start`` and ``end`` (bar open times, inclusive).

    Raises
    ------
    BadInputError
        If an asset of the policy is missing from the history, its quote is not the policy's base
        currency, or no bar lies in the window.
    """
    base = policy.base_currency
    if history.quote != base:
        raise BadInputError(
            "--data", "", f"the history is priced in {history.quote} but the policy's base currency is {base}"
        )
    classes = policy.asset_classes()
    cash_index = next(i for i, c in enumerate(classes) if c.cash)
    assets: list[str] = []
    class_of: list[int] = []
    split: list[float] = []
    for index, asset_class in enumerate(classes):
        for asset in asset_class.assets:
            if asset == base:
                continue
            if asset not in history.assets:
                raise BadInputError("--data", "", f"the history has no prices for {asset} (class {asset_class.name})")
            assets.append(asset)
            class_of.append(index)
            split.append(float(asset_class.weights.get(asset, 0.0)))
    columns = np.array([history.index_of(a) for a in assets], dtype=np.int64)

    opens = history.timestamps
    low = to_ns(start) if start is not None else np.iinfo(np.int64).min
    high = to_ns(end) if end is not None else np.iinfo(np.int64).max
    # the bars are sorted, so the window is one run of rows and the prices a view of the history's
    first, last = int(np.searchsorted(opens, low, side="left")), int(np.searchsorted(opens, high, side="right"))
    if last <= first:
        raise BadInputError("--start", "", "no bar of the history lies between --start and --end")
    bar_seconds = history.bar_seconds
    rows, times = _window_rows(history, first, last)
    prices, first_column = _window_prices(history.close, first, last, columns)

    volatility = None
    lookback = policy.volatility_lookback()
    if lookback is not None and assets:
        full = rolling_volatility(
            history.close[:, columns],
            history.timestamps,
            lookback,
            SECONDS_PER_YEAR / bar_seconds,
        )
        volatility = np.ascontiguousarray(full[rows])

    return Replay(
        policy=policy,
        history=history,
        rows=rows,
        times=times,
        classes=classes,
        cash_index=cash_index,
        assets=tuple(assets),
        columns=columns,
        prices=prices,
        first_column=first_column,
        class_of=np.array(class_of, dtype=np.int64),
        split=np.array(split, dtype=np.float64),
        targets=class_targets(classes),
        half_widths=np.array([c.half_width for c in classes], dtype=np.float64),
        volatility=volatility,
        bar_seconds=bar_seconds,
    )


_WINDOWS: weakref.WeakKeyDictionary[MarketHistory, dict[tuple[int, int], tuple[IntArray, IntArray]]] = (
    weakref.WeakKeyDictionary()
)


def _window_rows(history: MarketHistory, first: int, last: int) -> tuple[IntArray, IntArray]:
    """The rows ``first:last`` of ``history`` and their close times, built once per history and window.

    A sweep prepares the same window for every grid point; the arrays are shared, read-only.
    """
    known = _WINDOWS.setdefault(history, {})
    if (first, last) not in known:
        rows = np.arange(first, last, dtype=np.int64)
        times = history.timestamps[first:last] + np.int64(history.bar_seconds * NS_PER_SECOND)
        rows.flags.writeable = False
        times.flags.writeable = False
        known[(first, last)] = (rows, times)
    return known[(first, last)]


def _window_prices(close: FloatArray, first: int, last: int, columns: IntArray) -> tuple[FloatArray, int]:
    """The rows ``first:last`` of ``close`` holding ``columns`` side by side, and where they start.

    Adjacent columns in order are read in place (rows of a C-contiguous array are a view); others are
    copied into a new array of just those columns.
    """
    rows = close[first:last]
    count = columns.shape[0]
    if count and rows.flags.c_contiguous and np.array_equal(columns, np.arange(columns[0], columns[0] + count)):
        return rows, int(columns[0])
    return np.ascontiguousarray(rows[:, columns]), 0


def rolling_volatility(
    close: FloatArray, timestamps: IntArray, lookback: timedelta, periods_per_year: float
) -> FloatArray:
    """Annualised realised volatility of each column at each bar over the trailing ``lookback``.

    At bar ``t`` the window holds the closes whose time lies in ``[time[t] - lookback, time[t]]``; the
    volatility is the sample standard deviation (ddof 1) of their log returns x sqrt(``periods_per_year``),
    NaN with fewer than three closes or closes spanning less than half the lookback (the rule of
    :func:`trimtab.policy.estimation.volatility`, of which this is the array form). Running sums of the
    de-meaned returns keep it O(T) and accurate.

    Returns
    -------
    numpy.ndarray
        Shape of ``close``.
    """
    n_bars = close.shape[0]
    out = np.full(close.shape, np.nan)
    if n_bars < 3:
        return out
    returns = np.diff(np.log(close), axis=0)
    # De-meaning by the whole series' mean leaves the variance unchanged and avoids cancellation.
    centred = returns - returns.mean(axis=0)
    first = np.zeros((1, close.shape[1]))
    sums = np.concatenate((first, np.cumsum(centred, axis=0)))
    squares = np.concatenate((first, np.cumsum(centred * centred, axis=0)))
    lookback_ns = int(lookback.total_seconds() * NS_PER_SECOND)
    starts = np.searchsorted(timestamps, timestamps - lookback_ns, side="left")
    # returns[i - 1] is the return into bar i; the window's returns are those into bars start+1 .. t.
    counts = np.arange(n_bars) - starts
    # The estimator's rule (trimtab.policy.estimation): three closes spanning at least half the lookback.
    valid = (counts >= 2) & (timestamps - timestamps[starts] >= MIN_COVERAGE * lookback_ns)
    t_index = np.arange(n_bars)[valid]
    s_index = starts[valid]
    count = counts[valid].astype(np.float64)[:, None]
    total = sums[t_index] - sums[s_index]
    total_squares = squares[t_index] - squares[s_index]
    variance = (total_squares - total * total / count) / (count - 1.0)
    out[valid] = np.sqrt(np.maximum(variance, 0.0)) * math.sqrt(periods_per_year)
    return out


def buy_and_hold(replay: Replay, amounts: FloatArray, cash: float) -> tuple[FloatArray, FloatArray]:
    """Equity and class weights of holding the initial purchase unchanged (the benchmark).

    Parameters
    ----------
    replay:
        The replay.
    amounts:
        What the initial purchase bought of each asset, shape (A,).
    cash:
        The base-currency balance left after it (fees paid).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray]
        Equity (T,) and class weights (T, C), the cash class's being 1 minus the others.
    """
    held = replay.close * np.asarray(amounts, dtype=np.float64)[None, :]
    equity = cash + held.sum(axis=1)
    n_classes = len(replay.classes)
    weights = np.zeros((replay.times.shape[0], n_classes))
    for a in range(len(replay.assets)):
        weights[:, replay.class_of[a]] += held[:, a]
    weights /= equity[:, None]
    others = [c for c in range(n_classes) if c != replay.cash_index]
    weights[:, replay.cash_index] = 1.0 - weights[:, others].sum(axis=1)
    return equity, weights
