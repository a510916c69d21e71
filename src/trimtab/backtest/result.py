"""What a backtest returns: the curves, the trades, the events and the metrics of one run.

Every array has one row per bar (``T`` bars); per-class arrays have one column per class in
``class_names`` order (the policy's file order, cash class included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
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
    rebalance_times:
        int64 nanoseconds of the bars where trades were made (the initial purchase included).
    trades:
        One dict per fill: ``timestamp`` (ISO-8601), ``class``, ``symbol``, ``side``, ``amount``,
        ``notional``, ``fee``, ``slippage`` (and ``instrument``, ``price``).
    fees, slippage, funding:
        Cumulative costs in the base currency at each bar, shape (T,). ``funding`` is what the account
        paid (negative when it received).
    events:
        Notable moments: ``{"kind": "liquidation" | "trigger" | ..., "timestamp": ..., ...}``.
    metrics, benchmark_metrics:
        The figures of :func:`trimtab.backtest.metrics.compute_metrics` for the strategy and the
        buy-and-hold benchmark.
    used_fast_path:
        True when the Numba kernel produced the run (same numbers as the event engine by test).
    config_hash:
        SHA-256 of the policy used (:meth:`trimtab.policy.config.Policy.config_hash`).
    """

    timestamps: IntArray
    equity: FloatArray
    benchmark_equity: FloatArray
    class_names: tuple[str, ...]
    weights: FloatArray
    band_lower: FloatArray
    band_upper: FloatArray
    rebalance_times: IntArray
    trades: list[dict[str, Any]]
    fees: FloatArray
    slippage: FloatArray
    funding: FloatArray
    events: list[dict[str, Any]]
    metrics: dict[str, float]
    benchmark_metrics: dict[str, float]
    used_fast_path: bool
    config_hash: str
    targets: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    """Goal weights in force at each bar (target models move them), shape (T, C); empty when not recorded."""
    base_currency: str = "USDT"

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
        return out


def _to_datetime(nanoseconds: int) -> datetime:
    return datetime.fromtimestamp(nanoseconds / 1e9, tz=UTC)
