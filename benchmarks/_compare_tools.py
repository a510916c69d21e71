"""The comparison workloads in vectorbt and bt; run by bench_backtest.py inside .venv-bench.

Usage: ``_compare_tools.py TOOL PRICES.npy WORKLOAD WIDTH [WIDTH ...]`` with TOOL ``vectorbt`` or ``bt``.
Prints one JSON line: seconds (every width together, compilation excluded), the final equity and the
rebalance count of the first width. The policy is bench_backtest.py's: equal targets of 0.9 / N, the
rest in cash, threshold bands of the given absolute width, rebalanced to target, 0.1 % fee.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np

FEE = 0.001
CAPITAL = 100_000.0


def run_vectorbt(close: np.ndarray, widths: list[float]) -> dict[str, Any]:
    import vectorbt as vbt
    from numba import njit
    from vectorbt.portfolio import nb
    from vectorbt.portfolio.enums import Direction, SizeType

    n_assets = close.shape[1]
    target = round(0.9 / n_assets, 12)
    cash_target = 1.0 - target * n_assets

    @njit
    def pre_group_func_nb(c: Any) -> tuple:
        return (np.empty(c.group_len, dtype=np.float64),)

    @njit
    def pre_segment_func_nb(
        c: Any, order_value_out: np.ndarray, band: float, size: np.ndarray, size_type: np.ndarray, direction: np.ndarray
    ) -> tuple:
        value = c.last_cash[c.group]
        for col in range(c.from_col, c.to_col):
            c.last_val_price[col] = c.close[c.i, col]
            value += c.last_position[col] * c.close[c.i, col]
        rebalance = c.i == 0
        if not rebalance:
            if abs(c.last_cash[c.group] / value - cash_target) > band:
                rebalance = True
            for col in range(c.from_col, c.to_col):
                if abs(c.last_position[col] * c.close[c.i, col] / value - target) > band:
                    rebalance = True
        if rebalance:
            nb.sort_call_seq_nb(c, size, size_type, direction, order_value_out)
        return (rebalance,)

    @njit
    def order_func_nb(c: Any, rebalance: bool) -> Any:
        if not rebalance:
            return nb.order_nothing_nb()
        return nb.order_nb(size=target, price=c.close[c.i, c.col], size_type=SizeType.TargetPercent, fees=FEE)

    size = np.full((1, n_assets), target)
    size_type = np.full((1, n_assets), SizeType.TargetPercent)
    direction = np.full((1, n_assets), Direction.LongOnly)

    def simulate(band: float) -> Any:
        return vbt.Portfolio.from_order_func(
            close,
            order_func_nb,
            init_cash=CAPITAL,
            cash_sharing=True,
            group_by=np.zeros(n_assets, dtype=np.int64),
            pre_group_func_nb=pre_group_func_nb,
            pre_segment_func_nb=pre_segment_func_nb,
            pre_segment_args=(band, size, size_type, direction),
            freq="1h",
        )

    simulate(widths[0])  # compile
    start = time.perf_counter()
    portfolios = [simulate(band) for band in widths]
    seconds = time.perf_counter() - start
    first = portfolios[0]
    rows = np.unique(first.orders.values["idx"])
    return {
        "seconds": seconds,
        "final_equity": float(np.asarray(first.value())[-1]),
        "rebalances": int(np.sum(rows > 0)),
        "note": f"vectorbt {vbt.__version__}, from_order_func, target-percent orders",
    }


def run_bt(close: np.ndarray, widths: list[float]) -> dict[str, Any]:
    import bt
    import pandas as pd

    n_assets = close.shape[1]
    target = round(0.9 / n_assets, 12)
    columns = [f"a{i}" for i in range(n_assets)]
    data = pd.DataFrame(close, index=pd.date_range("2020-01-01", periods=close.shape[0], freq="h"), columns=columns)

    def simulate(band: float) -> Any:
        strategy = bt.Strategy(
            f"threshold {band}",
            [
                bt.algos.SelectAll(),
                bt.algos.WeighSpecified(**dict.fromkeys(columns, target)),
                bt.algos.Or([bt.algos.RunOnce(), bt.algos.RunIfOutOfBounds(band / target)]),
                bt.algos.Rebalance(),
            ],
        )
        test = bt.Backtest(
            strategy,
            data,
            initial_capital=CAPITAL,
            commissions=lambda quantity, price: FEE * abs(quantity) * price,
            integer_positions=False,
            progress_bar=False,
        )
        return bt.run(test)

    start = time.perf_counter()
    results = [simulate(band) for band in widths]
    seconds = time.perf_counter() - start
    first = results[0]
    name = next(iter(first.backtests))
    values = first.backtests[name].strategy.values
    transactions = first.get_transactions()
    dates = transactions.index.get_level_values(0).unique()
    return {
        "seconds": seconds,
        "final_equity": float(values.iloc[-1]),
        "rebalances": int(len(dates) - 1),
        "note": f"bt {bt.__version__}, RunIfOutOfBounds (relative tolerance band / target)",
    }


def main() -> None:
    tool, path, _workload, *widths = sys.argv[1:]
    close = np.load(path)
    bands = [float(w) for w in widths]
    answer = run_vectorbt(close, bands) if tool == "vectorbt" else run_bt(close, bands)
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
