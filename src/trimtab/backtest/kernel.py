"""The Numba fast path for spot-only, fixed-target policies.

It replays exactly the event engine's semantics (:mod:`trimtab.backtest.engine`) with arrays instead of
objects; ``tests/integration/backtest`` proves both give the same numbers on real data. What it covers:

* triggers ``threshold``, ``calendar`` and ``hybrid`` (``any`` / ``all`` go to the event engine);
* fixed or adaptive bands (the half-widths per bar are precomputed by :mod:`trimtab.backtest.fastpath`);
* ``scope`` all or breached, ``to`` target or band-edge, ``min_notional``;
* taker fees and a constant slippage fraction on every fill.

The semantics, per bar ``t`` (bar 0 is the initial purchase of ``capital`` into the targets):

1. value the holdings at the close, ``E = cash + sum(holdings x close)``; class weights are their assets'
   value over ``E``, the cash class's weight is 1 minus the others';
2. a class is breached when ``|weight - target| > half_width`` (strictly);
3. the trigger decides; when it fires, each non-cash class of the scope gets a goal weight (its target,
   or with band-edge the nearest point of its band) and each of its assets is traded to
   ``goal x E x split`` unless the trade is smaller than ``min_notional``;
4. a fill at close ``p`` moves the price to ``p x (1 + slippage)`` for a buy and ``p x (1 - slippage)``
   for a sell, and pays ``taker_fee x |amount| x fill price`` from the cash balance.

Compilation is cached on disk (``cache=True``), so a second process does not compile again.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

TRIGGER_THRESHOLD = 0
TRIGGER_CALENDAR = 1
TRIGGER_HYBRID = 2

STAT_FINAL_EQUITY = 0
STAT_FEES = 1
STAT_SLIPPAGE = 2
STAT_TRADED_NOTIONAL = 3
STAT_REBALANCES = 4
STAT_TRADES = 5
STAT_TRACKING_SQUARED = 6
STAT_OUTSIDE_BARS = 7
STAT_EQUITY_SUM = 8
STAT_COUNT = 9

_EDGE_TOLERANCE = 1e-12


@njit(cache=True, nogil=True, error_model="numpy")
def _goals(
    weights: np.ndarray,
    targets: np.ndarray,
    half_widths: np.ndarray,
    breached: np.ndarray,
    cash_class: int,
    scope_breached: bool,
    band_edge: bool,
    goals: np.ndarray,
    in_scope: np.ndarray,
) -> None:
    """Goal weight of every class and whether it is traded (see :func:`trimtab.backtest.engine` docs)."""
    n_classes = weights.shape[0]
    for c in range(n_classes):
        in_scope[c] = c != cash_class and ((not scope_breached) or breached[c])
        if band_edge:
            lower = targets[c] - half_widths[c]
            upper = targets[c] + half_widths[c]
            goal = weights[c]
            if goal < lower:
                goal = lower
            elif goal > upper:
                goal = upper
            goals[c] = goal
        else:
            goals[c] = targets[c]
    if not band_edge:
        return
    # The cash class must end inside its band too: move the traded classes toward their targets,
    # in class order, until the cash weight (the remainder) is back in its band.
    total = 0.0
    for c in range(n_classes):
        if c != cash_class:
            total += goals[c] if in_scope[c] else weights[c]
    cash_weight = 1.0 - total
    cash_lower = targets[cash_class] - half_widths[cash_class]
    cash_upper = targets[cash_class] + half_widths[cash_class]
    excess = 0.0
    if cash_weight < cash_lower:
        excess = cash_lower - cash_weight  # the others must shrink by this much
    elif cash_weight > cash_upper:
        excess = cash_upper - cash_weight  # negative: the others must grow
    if excess == 0.0:
        return
    for c in range(n_classes):
        if c == cash_class or not in_scope[c]:
            continue
        lower = targets[c] - half_widths[c]
        upper = targets[c] + half_widths[c]
        if excess > 0.0:
            room = goals[c] - lower
            step = room if room < excess else excess
            goals[c] -= step
            excess -= step
        else:
            room = upper - goals[c]
            step = room if room < -excess else -excess
            goals[c] += step
            excess += step
        if abs(excess) <= _EDGE_TOLERANCE:
            break


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _valuate(
    close: np.ndarray,
    t: int,
    holdings: np.ndarray,
    class_of: np.ndarray,
    cash: float,
    cash_class: int,
    values: np.ndarray,
    net: np.ndarray,
    weights: np.ndarray,
) -> float:
    """Equity at bar ``t``; fills each asset's value and each class's weight (the cash class's is the rest)."""
    n_classes = weights.shape[0]
    for c in range(n_classes):
        net[c] = 0.0
    equity = cash
    for a in range(holdings.shape[0]):
        value = holdings[a] * close[t, a]
        values[a] = value
        equity += value
        net[class_of[a]] += value
    others = 0.0
    for c in range(n_classes):
        if c != cash_class:
            weights[c] = net[c] / equity
            others += weights[c]
    weights[cash_class] = 1.0 - others
    return equity


@njit(cache=True, nogil=True, error_model="numpy")
def simulate(
    close: np.ndarray,
    timestamps: np.ndarray,
    class_of: np.ndarray,
    split: np.ndarray,
    targets: np.ndarray,
    half_widths: np.ndarray,
    cash_class: int,
    capital: float,
    taker_fee: float,
    slippage: float,
    min_notional: float,
    trigger_kind: int,
    period_ns: int,
    scope_breached: bool,
    band_edge: bool,
    equity_out: np.ndarray,
    weights_out: np.ndarray,
    fees_out: np.ndarray,
    slippage_out: np.ndarray,
    rebalanced_out: np.ndarray,
    record_trades: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replay one policy over ``close`` (T bars x A assets).

    Parameters
    ----------
    close:
        Closing prices in the base currency, shape (T, A), C-contiguous.
    timestamps:
        Bar times, int64 nanoseconds, shape (T,).
    class_of, split:
        Each asset's class index and its share of the class, shape (A,).
    targets:
        Class targets, shape (C,) (the cash class's included).
    half_widths:
        Band half-widths, shape (1, C) for fixed bands or (T, C) for bands that move with volatility.
    cash_class:
        Index of the cash class; the base currency's balance belongs to it.
    capital, taker_fee, slippage, min_notional:
        Starting capital; fee rate; slippage as a fraction of the price; smallest trade.
    trigger_kind, period_ns:
        ``TRIGGER_THRESHOLD``, ``TRIGGER_CALENDAR`` or ``TRIGGER_HYBRID`` and its period.
    scope_breached, band_edge:
        ``scope = "breached"`` and ``to = "band-edge"``.
    equity_out, fees_out, slippage_out, rebalanced_out:
        Outputs of shape (T,) (or (0,) not to record them): equity, cumulative fees and slippage after
        each bar's trades, 1 where the bar traded.
    weights_out:
        Class weights after each bar's trades, shape (T, C), or (0, C) not to record them.
    record_trades:
        Whether to return the trade log.

    Returns
    -------
    stats, trade_index, trade_values
        ``stats`` (``STAT_COUNT``,) with the ``STAT_*`` figures; ``trade_index`` (N, 2) int64 of bar and
        asset; ``trade_values`` (N, 4) of signed amount, fill price, fee and slippage cost.
    """
    n_bars = close.shape[0]
    n_assets = close.shape[1]
    n_classes = targets.shape[0]
    band_rows = half_widths.shape[0]
    record_equity = equity_out.shape[0] > 0
    record_weights = weights_out.shape[0] > 0
    record_costs = fees_out.shape[0] > 0

    holdings = np.zeros(n_assets)
    values = np.zeros(n_assets)
    weights = np.zeros(n_classes)
    goals = np.zeros(n_classes)
    breached = np.zeros(n_classes, dtype=np.bool_)
    in_scope = np.zeros(n_classes, dtype=np.bool_)
    stats = np.zeros(STAT_COUNT)

    capacity = 64 if record_trades else 1
    trade_index = np.zeros((capacity, 2), dtype=np.int64)
    trade_values = np.zeros((capacity, 4))
    n_trades = 0

    cash = capital
    fees = 0.0
    slip_total = 0.0
    traded = 0.0
    rebalances = 0
    tracking_squared = 0.0
    outside_bars = 0
    equity_sum = 0.0
    last_rebalance = timestamps[0] if n_bars > 0 else 0
    last_check = last_rebalance

    net = np.zeros(n_classes)
    equity = capital
    for t in range(n_bars):
        row = t if t < band_rows else band_rows - 1
        traded_now = False
        if t == 0:
            # The initial purchase: every asset to target x split of the capital.
            for a in range(n_assets):
                value = targets[class_of[a]] * split[a] * capital
                if value <= 0.0:
                    continue
                reference = close[t, a]
                price = reference * (1.0 + slippage)
                amount = value / reference
                notional = amount * price
                fee = taker_fee * notional
                slip_cost = amount * (price - reference)
                holdings[a] += amount
                cash -= notional + fee
                fees += fee
                slip_total += slip_cost
                traded_now = True
                if record_trades:
                    if n_trades == trade_index.shape[0]:
                        trade_index = np.concatenate((trade_index, np.zeros_like(trade_index)))
                        trade_values = np.concatenate((trade_values, np.zeros_like(trade_values)))
                    trade_index[n_trades, 0] = t
                    trade_index[n_trades, 1] = a
                    trade_values[n_trades, 0] = amount
                    trade_values[n_trades, 1] = price
                    trade_values[n_trades, 2] = fee
                    trade_values[n_trades, 3] = slip_cost
                    n_trades += 1
        else:
            equity = _valuate(close, t, holdings, class_of, cash, cash_class, values, net, weights)
            any_breach = False
            for c in range(n_classes):
                breached[c] = abs(weights[c] - targets[c]) > half_widths[row, c]
                if breached[c]:
                    any_breach = True
            now = timestamps[t]
            if trigger_kind == TRIGGER_THRESHOLD:
                fired = any_breach
            elif trigger_kind == TRIGGER_CALENDAR:
                fired = now - last_rebalance >= period_ns
            else:
                fired = False
                if now - last_check >= period_ns:
                    last_check = now
                    fired = any_breach
            if fired:
                last_rebalance = now
                _goals(
                    weights, targets, half_widths[row], breached, cash_class, scope_breached, band_edge, goals, in_scope
                )
                for a in range(n_assets):
                    c = class_of[a]
                    if not in_scope[c]:
                        continue
                    delta = goals[c] * equity * split[a] - values[a]
                    if abs(delta) < min_notional or delta == 0.0:
                        continue
                    reference = close[t, a]
                    amount = delta / reference
                    if amount > 0.0:
                        price = reference * (1.0 + slippage)
                    else:
                        price = reference * (1.0 - slippage)
                    notional = abs(amount) * price
                    fee = taker_fee * notional
                    slip_cost = abs(amount) * abs(price - reference)
                    holdings[a] += amount
                    cash -= amount * price + fee
                    fees += fee
                    slip_total += slip_cost
                    traded += notional
                    traded_now = True
                    if record_trades:
                        if n_trades == trade_index.shape[0]:
                            trade_index = np.concatenate((trade_index, np.zeros_like(trade_index)))
                            trade_values = np.concatenate((trade_values, np.zeros_like(trade_values)))
                        trade_index[n_trades, 0] = t
                        trade_index[n_trades, 1] = a
                        trade_values[n_trades, 0] = amount
                        trade_values[n_trades, 1] = price
                        trade_values[n_trades, 2] = fee
                        trade_values[n_trades, 3] = slip_cost
                        n_trades += 1
                if traded_now:
                    rebalances += 1
        if traded_now:
            # Post-trade valuation: what the bar's record shows (unchanged when nothing traded).
            equity = _valuate(close, t, holdings, class_of, cash, cash_class, values, net, weights)
        distance = 0.0
        outside = False
        for c in range(n_classes):
            gap = weights[c] - targets[c]
            distance += gap * gap
            if abs(gap) > half_widths[row, c] + _EDGE_TOLERANCE:
                outside = True
        tracking_squared += distance
        if outside:
            outside_bars += 1
        equity_sum += equity
        if record_equity:
            equity_out[t] = equity
        if record_costs:
            fees_out[t] = fees
            slippage_out[t] = slip_total
            rebalanced_out[t] = 1 if traded_now else 0
        if record_weights:
            for c in range(n_classes):
                weights_out[t, c] = weights[c]
        stats[STAT_FINAL_EQUITY] = equity

    stats[STAT_FEES] = fees
    stats[STAT_SLIPPAGE] = slip_total
    stats[STAT_TRADED_NOTIONAL] = traded
    stats[STAT_REBALANCES] = rebalances
    stats[STAT_TRADES] = n_trades
    stats[STAT_TRACKING_SQUARED] = tracking_squared
    stats[STAT_OUTSIDE_BARS] = outside_bars
    stats[STAT_EQUITY_SUM] = equity_sum
    return stats, trade_index[:n_trades], trade_values[:n_trades]


@njit(cache=True, parallel=True, error_model="numpy")
def simulate_batch(
    close: np.ndarray,
    timestamps: np.ndarray,
    class_of: np.ndarray,
    split: np.ndarray,
    targets: np.ndarray,
    half_width_grid: np.ndarray,
    cash_class: int,
    capital: float,
    taker_fee: float,
    slippage: float,
    min_notional: float,
    trigger_kind: int,
    period_ns: int,
    scope_breached: bool,
    band_edge: bool,
    equity_out: np.ndarray,
) -> np.ndarray:
    """Replay the same prices under ``K`` sets of fixed band half-widths, in parallel.

    Parameters
    ----------
    half_width_grid:
        Shape (K, C): the half-widths of run ``k``.
    equity_out:
        Shape (K, T) to record every run's equity curve, or (K, 0) not to.
    Other parameters:
        As in :func:`simulate`.

    Returns
    -------
    numpy.ndarray
        Shape (K, ``STAT_COUNT``): the ``STAT_*`` figures of each run.
    """
    n_runs = half_width_grid.shape[0]
    n_classes = targets.shape[0]
    out = np.zeros((n_runs, STAT_COUNT))
    empty = np.zeros(0)
    empty_flags = np.zeros(0, dtype=np.uint8)
    empty_weights = np.zeros((0, n_classes))
    for k in prange(n_runs):
        bands = half_width_grid[k : k + 1, :]
        stats, _, _ = simulate(
            close,
            timestamps,
            class_of,
            split,
            targets,
            bands,
            cash_class,
            capital,
            taker_fee,
            slippage,
            min_notional,
            trigger_kind,
            period_ns,
            scope_breached,
            band_edge,
            equity_out[k],
            empty_weights,
            empty,
            empty,
            empty_flags,
            False,
        )
        out[k, :] = stats
    return out
