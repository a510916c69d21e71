"""Tracking error within classes: how far each multi-asset class's spot sleeve drifts from its split.

Class-level tracking error cannot see an altcoin sleeve whose members drift against each other while the
sleeve's total stays on target. At each bar, with ``w_a`` = the spot value of asset ``a`` / equity and
``W_c`` = the sum of ``w_a`` over the assets of class ``c`` (its spot weight)::

    within_class_tracking_error = sqrt(mean over bars of sum over classes c, assets a of c of
                                       (w_a - split_a x W_c)^2)

Single-asset classes add nothing; the cash class is left out (the base currency is the remainder). Holdings
come from the run's spot fills (both backtest paths log the same fills), valued at the replayed closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from trimtab.backtest.replay import Replay
from trimtab.backtest.trades import TradeLog
from trimtab.domain.instruments import InstrumentKind, parse_symbol

FloatArray = npt.NDArray[np.float64]


def spot_amounts(replay: Replay, trades: Sequence[dict[str, Any]]) -> FloatArray:
    """The amount of each of the replay's assets held after each bar's fills, shape (T, A)."""
    index = {asset: column for column, asset in enumerate(replay.assets)}
    changes = np.zeros((replay.times.shape[0], len(replay.assets)))
    if isinstance(trades, TradeLog):
        rows = _log_rows(trades)
    else:
        rows = [(t["timestamp"], t["symbol"], t["amount"] if t["side"] == "buy" else -t["amount"]) for t in trades]
    for moment, symbol, signed in rows:
        instrument = parse_symbol(symbol)
        column = index.get(instrument.base)
        if instrument.kind is not InstrumentKind.SPOT or column is None:
            continue
        bar = int(np.searchsorted(replay.times, moment, side="left"))
        changes[min(bar, changes.shape[0] - 1), column] += signed
    return np.cumsum(changes, axis=0)


def _log_rows(log: TradeLog) -> list[tuple[int, str, float]]:
    return [
        (int(log.times[i]), log.labels[int(log.label_index[i])][1], float(log.signed_amount[i]))
        for i in range(len(log))
    ]


def within_class_tracking_error(replay: Replay, trades: Sequence[dict[str, Any]], equity: FloatArray) -> float:
    """The root mean square drift of the multi-asset classes' spot sleeves from their splits (module doc)."""
    sleeves = [
        columns
        for class_index, asset_class in enumerate(replay.classes)
        if not asset_class.cash and (columns := np.flatnonzero(replay.class_of == class_index)).shape[0] >= 2
    ]
    if not sleeves:
        return 0.0  # single-asset classes add nothing: no holdings to value
    if isinstance(trades, TradeLog):
        amounts = spot_amounts(replay, trades)
    else:
        amounts = spot_amounts(replay, [_with_ns(t) for t in trades])
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.where(equity[:, None] > 0, amounts * replay.close / equity[:, None], 0.0)
    total = np.zeros(weights.shape[0])
    for columns in sleeves:
        sleeve = weights[:, columns]
        spot_weight = sleeve.sum(axis=1, keepdims=True)
        total += np.sum((sleeve - replay.split[columns] * spot_weight) ** 2, axis=1)
    return float(np.sqrt(np.mean(total))) if total.shape[0] else 0.0


def _with_ns(trade: dict[str, Any]) -> dict[str, Any]:
    from datetime import datetime

    moment = datetime.fromisoformat(str(trade["timestamp"]).replace("Z", "+00:00"))
    return {**trade, "timestamp": int(moment.timestamp() * 1e9)}
