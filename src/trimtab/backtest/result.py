"""What a backtest returns: the curves, the trades, the events and the metrics of one run.

Every array has one row per bar (``T`` bars); per-class arrays have one column per class in
``class_names`` order (the policy's file order, cash class included).

A result costs what its reader asks for. The per-bar curves, the buy-and-hold benchmark, the metrics
and the events may be handed over as :class:`Lazy` values: each is computed the first time it is read
and kept, so a caller that reads only ``metrics["final_equity"]`` never pays for a weight matrix. The
trades are a :class:`~trimtab.backtest.trades.TradeLog` of columns, turned into dicts row by row on
reading.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from trimtab.backtest.composition import within_class_tracking_error
from trimtab.backtest.metrics import RunTotals, compute_metrics, periods_per_year
from trimtab.backtest.risk import RiskCurves
from trimtab.backtest.taxes import TaxRecord, tax_record
from trimtab.domain.lots import TaxRules

if TYPE_CHECKING:
    from trimtab.backtest.replay import Replay

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
T = TypeVar("T")


class Lazy(Generic[T]):
    """A value computed by ``make()`` on first use, then kept."""

    __slots__ = ("_done", "_make", "_value")

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._done = False
        self._value: T | None = None

    def get(self) -> T:
        if not self._done:
            self._value = self._make()
            self._done = True
            self._make = _spent
        return self._value  # type: ignore[return-value]


def _spent() -> Any:  # pragma: no cover - never called: a Lazy calls make() once
    raise RuntimeError("already computed")


def _resolve(value: T | Lazy[T]) -> T:
    return value.get() if isinstance(value, Lazy) else value


@dataclass(frozen=True)
class Curves:
    """The per-bar records of a run (see :class:`BacktestResult` for each field's meaning)."""

    equity: FloatArray
    weights: FloatArray
    band_lower: FloatArray
    band_upper: FloatArray
    targets: FloatArray
    fees: FloatArray
    slippage: FloatArray
    funding: FloatArray


@dataclass(frozen=True)
class Benchmark:
    """Buy-and-hold of the initial allocation: equity (T,) and class weights (T, C)."""

    equity: FloatArray
    weights: FloatArray


class BacktestResult:
    """One backtest run.

    Attributes
    ----------
    timestamps:
        Bar close times as int64 nanoseconds since the epoch, UTC, shape (T,).
    equity:
        Portfolio equity in the base currency at each bar's close, after that bar's trades, shape (T,).
    benchmark_equity:
        Buy-and-hold of the initial allocation (bought at the first close, paying the same fees, never
        rebalanced), shape (T,).
    class_names:
        The policy's classes, in file order; the columns of ``weights`` and the bands.
    weights:
        Class weights at each bar's close after that bar's trades, shape (T, C).
    band_lower, band_upper:
        The bands in force at each bar (adaptive bands move), shape (T, C).
    targets:
        Goal weights in force at each bar (target models move them), shape (T, C).
    rebalance_times:
        int64 nanoseconds of the bars where trades were made (the initial purchase included).
    trades:
        One dict per fill: ``timestamp`` (ISO-8601), ``class``, ``symbol``, ``side``, ``amount``,
        ``notional``, ``fee``, ``slippage`` (and ``instrument``, ``price``); a sequence backed by columns.
    fees, slippage, funding:
        Cumulative costs in the base currency at each bar, shape (T,). ``funding`` is what the account
        paid (negative when it received).
    events:
        Notable moments: ``{"kind": "liquidation" | "trigger" | ..., "timestamp": ..., ...}``.
    metrics, benchmark_metrics:
        The figures of :func:`trimtab.backtest.metrics.compute_metrics` for the strategy and the
        buy-and-hold benchmark.
    risk:
        Per-bar gross leverage and minimum liquidation distance (:mod:`trimtab.backtest.risk`) of an
        event-engine run; None for the fast path, which trades spot only.
    used_fast_path:
        True when the Numba kernel produced the run (same numbers as the event engine by test).
    config_hash:
        SHA-256 of the policy used (:meth:`trimtab.policy.config.Policy.config_hash`).
    """

    def __init__(
        self,
        *,
        timestamps: IntArray,
        class_names: tuple[str, ...],
        rebalance_times: IntArray | Lazy[IntArray],
        trades: Sequence[dict[str, Any]],
        events: list[dict[str, Any]] | Lazy[list[dict[str, Any]]],
        used_fast_path: bool,
        config_hash: str,
        base_currency: str = "USDT",
        curves: Curves | Lazy[Curves] | None = None,
        benchmark: Benchmark | Lazy[Benchmark] | None = None,
        capital: float | None = None,
        totals: RunTotals | None = None,
        benchmark_totals: RunTotals | None = None,
        metrics: dict[str, float] | None = None,
        final_equity: float | None = None,
        benchmark_metrics: dict[str, float] | None = None,
        equity: FloatArray | None = None,
        benchmark_equity: FloatArray | None = None,
        weights: FloatArray | None = None,
        band_lower: FloatArray | None = None,
        band_upper: FloatArray | None = None,
        targets: FloatArray | None = None,
        fees: FloatArray | None = None,
        slippage: FloatArray | None = None,
        funding: FloatArray | None = None,
        tax_rules: TaxRules | None = None,
        band_tolerance: float = 0.0,
        replay: Replay | None = None,
        flows: FloatArray | None = None,
        risk: RiskCurves | None = None,
    ) -> None:
        """Either ``curves`` (and ``benchmark``), possibly lazy, or the arrays one by one.

        ``tax_rules`` (the policy's ``[tax]``) price the gains that the spot fills realise on their lots.
        ``band_tolerance`` is how far outside its band a class may close before ``time_outside_bands`` counts
        the bar (a backtest passes the policy's one-way cost rate).
        ``replay`` (the policy laid over the history) lets the metrics value the spot holdings asset by asset
        (``within_class_tracking_error``); it is dropped when the result is pickled.
        ``flows`` (the deposits and withdrawals at each bar's close, a run with a ``[[cash_flow]]`` schedule)
        make the return metrics time-weighted (:mod:`trimtab.backtest.flows`).

        The metrics are computed from the curves, ``capital`` and ``totals`` on first reading unless
        given; the benchmark's from its curve and ``benchmark_totals``.
        """
        self.timestamps = timestamps
        self.class_names = class_names
        self.trades = trades
        self.used_fast_path = used_fast_path
        self.config_hash = config_hash
        self.base_currency = base_currency
        self._rebalance_times = rebalance_times
        self._events = events
        if curves is None:
            curves = _curves_from(timestamps, class_names, equity, weights, band_lower, band_upper, targets)
            curves = Curves(
                curves.equity,
                curves.weights,
                curves.band_lower,
                curves.band_upper,
                curves.targets,
                _or_zeros(fees, timestamps),
                _or_zeros(slippage, timestamps),
                _or_zeros(funding, timestamps),
            )
        self._curves = curves
        if benchmark is None:
            bench = benchmark_equity if benchmark_equity is not None else np.zeros(timestamps.shape[0])
            benchmark = Benchmark(bench, np.zeros((0, len(class_names))))
        self._benchmark = benchmark
        self._capital = capital
        self._totals = totals or RunTotals()
        self._benchmark_totals = benchmark_totals or RunTotals()
        self._metrics = metrics
        self._final_equity = final_equity
        self._benchmark_metrics = benchmark_metrics
        self._tax_rules = tax_rules
        self._band_tolerance = band_tolerance
        self._replay = replay
        self._taxes: TaxRecord | None = None
        self._periods_per_year: float | None = None
        self.flows = flows
        self.risk = risk

    # -- curves, read on demand ------------------------------------------------------------------------

    @property
    def curves(self) -> Curves:
        """Every per-bar record (computed now if the run deferred them)."""
        return _resolve(self._curves)

    @property
    def equity(self) -> FloatArray:
        return self.curves.equity

    @property
    def weights(self) -> FloatArray:
        return self.curves.weights

    @property
    def band_lower(self) -> FloatArray:
        return self.curves.band_lower

    @property
    def band_upper(self) -> FloatArray:
        return self.curves.band_upper

    @property
    def targets(self) -> FloatArray:
        return self.curves.targets

    @property
    def fees(self) -> FloatArray:
        return self.curves.fees

    @property
    def slippage(self) -> FloatArray:
        return self.curves.slippage

    @property
    def funding(self) -> FloatArray:
        return self.curves.funding

    @property
    def benchmark_equity(self) -> FloatArray:
        return _resolve(self._benchmark).equity

    @property
    def rebalance_times(self) -> IntArray:
        return _resolve(self._rebalance_times)

    @property
    def events(self) -> list[dict[str, Any]]:
        return _resolve(self._events)

    # -- figures, computed once ------------------------------------------------------------------------

    @property
    def metrics(self) -> dict[str, float]:
        """The run's metrics (:func:`trimtab.backtest.metrics.compute_metrics`), computed on first reading."""
        if self._metrics is None:
            curves = self.curves
            self._metrics = compute_metrics(
                curves.equity,
                self.timestamps,
                self.capital,
                self._totals,
                curves.weights,
                curves.targets,
                curves.band_lower,
                curves.band_upper,
                self._band_tolerance,
                self.flows,
                bars_per_year=self._bars_per_year(),
            )
            self._metrics.update(self.taxes.metrics())
            if self._replay is not None:
                within = within_class_tracking_error(self._replay, self.trades, curves.equity)
                self._metrics["within_class_tracking_error"] = within
        return self._metrics

    def _bars_per_year(self) -> float:
        """:func:`~trimtab.backtest.metrics.periods_per_year` of the bars, for both sets of metrics."""
        if self._periods_per_year is None:
            self._periods_per_year = periods_per_year(self.timestamps)
        return self._periods_per_year

    @property
    def taxes(self) -> TaxRecord:
        """The run's tax lots: gains per year, tax and the lots open at the end (:mod:`trimtab.backtest.taxes`)."""
        if self._taxes is None:
            self._taxes = tax_record(self.trades, self._tax_rules)
        return self._taxes

    @property
    def benchmark_metrics(self) -> dict[str, float]:
        """The buy-and-hold benchmark's metrics against the run's targets and bands."""
        if self._benchmark_metrics is None:
            curves, bench = self.curves, _resolve(self._benchmark)
            self._benchmark_metrics = compute_metrics(
                bench.equity,
                self.timestamps,
                self.capital,
                self._benchmark_totals,
                bench.weights if bench.weights.shape[0] else None,
                curves.targets,
                curves.band_lower,
                curves.band_upper,
                bars_per_year=self._bars_per_year(),
            )
            # Buy and hold never sells: it realises nothing.
            self._benchmark_metrics.update({"tax": 0.0, "realised_gain": 0.0, "realised_loss": 0.0})
        return self._benchmark_metrics

    @property
    def final_equity(self) -> float:
        """The last bar's equity; known without the curves when the run said it (the fast path does)."""
        if self._final_equity is None:
            equity = self.curves.equity
            self._final_equity = float(equity[-1]) if equity.shape[0] else self.capital
        return self._final_equity

    @property
    def rebalances(self) -> int:
        """Rebalances after the initial purchase (known without the curves)."""
        return int(self._metrics["rebalances"]) if self._metrics is not None else self._totals.rebalances

    @property
    def capital(self) -> float:
        """The starting capital (the first bar's equity plus its costs when not given)."""
        if self._capital is not None:
            return self._capital
        curves = self.curves
        return float(curves.equity[0] + curves.fees[0]) if curves.equity.shape[0] else 0.0

    @property
    def bars(self) -> int:
        """Number of bars replayed."""
        return int(self.timestamps.shape[0])

    @property
    def start(self) -> datetime:
        """The first bar's time (UTC)."""
        return _to_datetime(int(self.timestamps[0]))

    @property
    def end(self) -> datetime:
        """The last bar's time (UTC)."""
        return _to_datetime(int(self.timestamps[-1]))

    def summary(self) -> dict[str, Any]:
        """The JSON document of ``trimtab backtest --format json``: metrics plus run facts."""
        out: dict[str, Any] = dict(self.metrics)
        out.update(
            {
                "start": self.start.isoformat().replace("+00:00", "Z"),
                "end": self.end.isoformat().replace("+00:00", "Z"),
                "bars": self.bars,
                "base_currency": self.base_currency,
                "benchmark": dict(self.benchmark_metrics),
                "used_fast_path": self.used_fast_path,
                "config_hash": self.config_hash,
                "liquidation_events": sum(1 for e in self.events if e.get("kind") == "liquidation"),
            }
        )
        if self.risk is not None:
            out.update(self.risk.summary())
        if self.flows is not None:
            kinds = ("cash_flow", "cash_flow_skipped")
            out["cash_flows"] = [
                {key: e[key] for key in ("kind", "timestamp", "amount", "reason")}
                for e in self.events
                if e.get("kind") in kinds
            ]
        return out

    def __getstate__(self) -> dict[str, Any]:
        """Everything computed, so that a result can cross a process boundary."""
        state = dict(self.__dict__)
        state.update(
            _curves=self.curves,
            _benchmark=_resolve(self._benchmark),
            _rebalance_times=self.rebalance_times,
            _events=self.events,
            _metrics=self.metrics,
            _benchmark_metrics=self.benchmark_metrics,
            trades=list(self.trades),
            _replay=None,
        )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _or_zeros(values: FloatArray | None, timestamps: IntArray) -> FloatArray:
    return values if values is not None else np.zeros(timestamps.shape[0])


def _curves_from(
    timestamps: IntArray,
    class_names: tuple[str, ...],
    equity: FloatArray | None,
    weights: FloatArray | None,
    lower: FloatArray | None,
    upper: FloatArray | None,
    targets: FloatArray | None,
) -> Curves:
    n_bars, n_classes = timestamps.shape[0], len(class_names)
    none = np.zeros((n_bars, n_classes))
    return Curves(
        equity if equity is not None else np.zeros(n_bars),
        weights if weights is not None else none,
        lower if lower is not None else none,
        upper if upper is not None else none,
        targets if targets is not None else np.zeros((0, 0)),
        np.zeros(0),
        np.zeros(0),
        np.zeros(0),
    )


def _to_datetime(nanoseconds: int) -> datetime:
    return datetime.fromtimestamp(nanoseconds / 1e9, tz=UTC)
