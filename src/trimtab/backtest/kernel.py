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
3. the trigger decides; when it fires, the goals are those of :func:`trimtab.planner.goals.compute_goals`
   (scope widening and the band-edge water-filling included) and each asset of a moving class is traded
   to ``split x goal x E`` as :mod:`trimtab.planner.sizing` sizes it (band-edge: only the class's net
   change, on the assets moving with it, :func:`trimtab.planner.sizing.minimal_turnover`), unless the
   order's notional is below ``min_notional`` (:mod:`trimtab.planner.rounding`);
4. a fill at close ``p`` moves the price to ``p x (1 + slippage)`` for a buy and ``p x (1 - slippage)``
   for a sell, and pays ``taker_fee x |amount| x fill price`` from the cash balance.

Compilation is cached on disk (``cache=True``), so a second process does not compile again.

The prices are read in place from the history's array: asset ``a`` is column ``first_column + a``.
That column is cast to ``np.uint64`` where it indexes, which tells Numba it cannot be negative; with a
signed index Numba adds a wrap-around test to every read and the bar loop runs 2.4 times slower.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit
from numba.extending import register_jitable

from trimtab.backtest import kernel_cache, kernel_curve, kernel_track
from trimtab.backtest.kernel_goals import rebalance_changes

# Before any cached kernel code is loaded: drop it if any kernel source changed (kernel_cache's docstring).
kernel_cache.check(Path(__file__).resolve().parent)

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
STAT_RETURN_COUNT = 9
STAT_RETURN_MEAN = 10
STAT_RETURN_M2 = 11
STAT_DOWNSIDE_SQUARED = 12
STAT_MAX_DRAWDOWN = 13
STAT_OUTSIDE_BEYOND_COSTS = 14
STAT_INITIAL_COST = 15
STAT_WITHIN_SQUARED = 16
STAT_COUNT = 17
"""The return, drawdown and band figures (6 to 14) are kept only when every bar is valued (``track``).

``STAT_OUTSIDE_BARS`` counts the bars with a class outside its band by more than 1e-12 (rounding);
``STAT_OUTSIDE_BEYOND_COSTS`` those with one outside by more than the one-way cost rate (taker fee plus
slippage), as :func:`trimtab.backtest.metrics.compute_metrics` counts ``time_outside_bands``;
``STAT_INITIAL_COST`` is the fees and slippage of the initial purchase; ``STAT_WITHIN_SQUARED`` sums over
the bars the squared drift of the multi-asset classes' members from their splits
(:mod:`trimtab.backtest.composition`)."""

EDGE_TOLERANCE = 1e-12
NEGLIGIBLE = 1e-9
"""As :data:`trimtab.planner.sizing.NEGLIGIBLE`: exposure changes below this fraction of equity are noise."""


@register_jitable
def work_floats(n_assets: int, n_classes: int) -> int:
    """Floats of :func:`simulate_window`'s scratch space: the stats, five per asset and five per class."""
    return STAT_COUNT + 5 * n_assets + 5 * n_classes


@register_jitable
def work_flags(n_assets: int, n_classes: int) -> int:
    """Booleans of the scratch space: one per asset and three per class."""
    return n_assets + 3 * n_classes


@register_jitable
def work_slots(n_assets: int, n_classes: int) -> int:
    """Integers of the scratch space: one per asset and one per class."""
    return n_assets + n_classes


def workspace(n_assets: int, n_classes: int, runs: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scratch space of one run of :func:`simulate_window`, or of ``runs`` runs (one row each).

    Returns
    -------
    tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]
        ``work`` (floats), ``flags`` (booleans) and ``slots`` (int64), shaped (n,) or (runs, n).
    """
    shape = (runs,) if runs else ()
    return (
        np.zeros((*shape, work_floats(n_assets, n_classes))),
        np.zeros((*shape, work_flags(n_assets, n_classes)), dtype=np.bool_),
        np.zeros((*shape, work_slots(n_assets, n_classes)), dtype=np.int64),
    )


@njit(cache=True, nogil=True, error_model="numpy")
def one_asset_per_class(class_of: np.ndarray, n_classes: int, cash_class: int) -> bool:
    """Whether every non-cash class holds exactly one asset (the breach test then needs no class sums)."""
    single = True
    for c in range(n_classes):
        if c != cash_class and _members(class_of, c) != 1:
            single = False
    return single


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _members(class_of: np.ndarray, c: int) -> int:
    """How many assets class ``c`` holds."""
    count = 0
    for a in range(class_of.shape[0]):
        if class_of[a] == c:
            count += 1
    return count


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def valuate(
    close: np.ndarray,
    first_column: int,
    t: int,
    holdings: np.ndarray,
    class_of: np.ndarray,
    cash: float,
    cash_class: int,
    targets: np.ndarray,
    half_widths: np.ndarray,
    row: int,
    values: np.ndarray,
    net: np.ndarray,
    weights: np.ndarray,
) -> tuple[float, float, float]:
    """Value bar ``t`` exactly as :func:`trimtab.valuation.valuate` does, in one pass.

    Fills each asset's value and each class's weight (the cash class's is 1 minus the others') and
    returns the equity, the squared distance of the weights from the targets and how far the class
    furthest outside its band lies beyond it (negative when every class is inside).
    """
    n_classes = weights.shape[0]
    for c in range(n_classes):
        net[c] = 0.0
    equity = cash
    for a in range(holdings.shape[0]):
        value = holdings[a] * close[t, np.uint64(first_column + a)]
        values[a] = value
        equity += value
        net[class_of[a]] += value
    others = 0.0
    excess = -np.inf
    distance = 0.0
    for c in range(n_classes):
        if c == cash_class:
            continue
        weight = net[c] / equity
        weights[c] = weight
        others += weight
        gap = abs(weight - targets[c])
        distance += gap * gap
        excess = max(excess, gap - half_widths[row, c])
    weight = 1.0 - others
    weights[cash_class] = weight
    gap = abs(weight - targets[cash_class])
    distance += gap * gap
    excess = max(excess, gap - half_widths[row, cash_class])
    return equity, distance, excess


@njit(cache=True, nogil=True, error_model="numpy")
def _sleeve_members(class_of: np.ndarray, cash_class: int, member: np.ndarray) -> None:
    """Mark in ``member`` whether each asset belongs to a non-cash class of two assets or more (a sleeve)."""
    for a in range(class_of.shape[0]):
        member[a] = class_of[a] != cash_class and _members(class_of, class_of[a]) >= 2


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _sleeve_drift(
    values: np.ndarray, net: np.ndarray, class_of: np.ndarray, split: np.ndarray, sleeve: np.ndarray, equity: float
) -> float:
    """One bar's sum over sleeve members of (their weight - split x their sleeve's weight) squared."""
    if equity <= 0.0:
        return 0.0
    drift = 0.0
    for a in range(values.shape[0]):
        if sleeve[a]:
            gap = values[a] / equity - split[a] * (net[class_of[a]] / equity)
            drift += gap * gap
    return drift


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def any_outside(weights: np.ndarray, targets: np.ndarray, half_widths: np.ndarray, row: int) -> bool:
    """The planner's band test on valued weights: some class strictly outside its band."""
    outside = False
    for c in range(weights.shape[0]):
        outside |= abs(weights[c] - targets[c]) > half_widths[row, c]
    return outside


@njit(cache=True, nogil=True, error_model="numpy")
def _cash_breached(
    close: np.ndarray,
    first_column: int,
    t: int,
    holdings: np.ndarray,
    class_of: np.ndarray,
    cash_class: int,
    equity: float,
    targets: np.ndarray,
    half_widths: np.ndarray,
    row: int,
    net: np.ndarray,
) -> bool:
    """Whether the cash class is strictly outside its band, its weight summed exactly as the valuation does.

    Only called when the quick estimate ``cash value / equity`` lies within 1e-9 of an edge, so the
    decision near an edge is the planner's to the last bit.
    """
    n_classes = net.shape[0]
    for c in range(n_classes):
        net[c] = 0.0
    for a in range(holdings.shape[0]):
        net[class_of[a]] += holdings[a] * close[t, np.uint64(first_column + a)]
    others = 0.0
    for c in range(n_classes):
        if c != cash_class:
            others += net[c] / equity
    return bool(abs((1.0 - others) - targets[cash_class]) > half_widths[row, cash_class])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def initial_purchase(
    close: np.ndarray,
    first_column: int,
    holdings: np.ndarray,
    class_of: np.ndarray,
    split: np.ndarray,
    targets: np.ndarray,
    capital: float,
    taker_fee: float,
    slippage: float,
    trade_index: np.ndarray,
    trade_values: np.ndarray,
) -> tuple[float, float, float, int, bool]:
    """Bar 0: every asset bought to target x split of the capital (``holdings`` start at 0).

    Returns the cash, fees and slippage after it, the trades made and whether any was.
    """
    capacity = trade_index.shape[0]
    cash = capital
    fees = 0.0
    slip_total = 0.0
    n_trades = 0
    traded_now = False
    for a in range(class_of.shape[0]):
        value = targets[class_of[a]] * split[a] * capital
        if value <= 0.0:
            continue
        reference = close[0, np.uint64(first_column + a)]
        price = reference * (1.0 + slippage)
        amount = value / reference
        notional = amount * price
        fee = taker_fee * notional
        slip_cost = amount * (price - reference)
        holdings[a] += amount
        cash -= amount * price
        cash -= fee
        fees += fee
        slip_total += slip_cost
        traded_now = True
        if n_trades < capacity:
            trade_index[n_trades, 0] = 0
            trade_index[n_trades, 1] = a
            trade_values[n_trades, 0] = amount
            trade_values[n_trades, 1] = price
            trade_values[n_trades, 2] = fee
            trade_values[n_trades, 3] = slip_cost
        n_trades += 1
    return cash, fees, slip_total, n_trades, traded_now


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def trade(
    close: np.ndarray,
    first_column: int,
    t: int,
    holdings: np.ndarray,
    changes: np.ndarray,
    equity: float,
    cash: float,
    fees: float,
    slip_total: float,
    traded: float,
    n_trades: int,
    taker_fee: float,
    slippage: float,
    min_notional: float,
    trade_index: np.ndarray,
    trade_values: np.ndarray,
) -> tuple[float, float, float, float, int, bool]:
    """Fill each asset's value change ``changes`` at bar ``t`` (noise and orders below ``min_notional``
    skipped, sells capped at the holding). Returns the cash, fees, slippage, traded notional and trade
    count after the fills, and whether any was made."""
    capacity = trade_index.shape[0]
    traded_now = False
    for a in range(changes.shape[0]):
        change = changes[a]
        if change == 0.0 or abs(change) <= NEGLIGIBLE * abs(equity):
            continue
        reference = close[t, np.uint64(first_column + a)]
        amount = abs(change) / reference
        if change < 0.0 and amount > holdings[a]:
            amount = holdings[a] if holdings[a] > 0.0 else 0.0
            if amount <= 0.0:
                continue
        if amount * reference < min_notional:
            continue
        if change > 0.0:
            price = reference * (1.0 + slippage)
            signed = amount
        else:
            price = reference * (1.0 - slippage)
            signed = -amount
        notional = amount * price
        fee = taker_fee * notional
        slip_cost = amount * abs(price - reference)
        holdings[a] += signed
        cash -= signed * price
        cash -= fee
        fees += fee
        slip_total += slip_cost
        traded += notional
        traded_now = True
        if n_trades < capacity:
            trade_index[n_trades, 0] = t
            trade_index[n_trades, 1] = a
            trade_values[n_trades, 0] = signed
            trade_values[n_trades, 1] = price
            trade_values[n_trades, 2] = fee
            trade_values[n_trades, 3] = slip_cost
        n_trades += 1
    return cash, fees, slip_total, traded, n_trades, traded_now


@njit(cache=True, nogil=True, error_model="numpy")
def _scan(
    close: np.ndarray,
    first_column: int,
    timestamps: np.ndarray,
    start: int,
    holdings: np.ndarray,
    cash: float,
    asset_target: np.ndarray,
    asset_band: np.ndarray,
    cash_assets: np.ndarray,
    cash_target: float,
    cash_edge: float,
    trigger_kind: int,
    period_ns: int,
    last_rebalance: int,
    last_check: int,
) -> tuple[int, float, float, int]:
    """From bar ``start``, the first bar at which the trigger may fire (one asset per class, fixed bands).

    Returns that bar (or T), the sum of the equities of the bars skipped, the last of them and the
    hybrid trigger's last check. A bar whose cash weight lies within 1e-9 of an edge is returned too,
    for the exact test of the main loop.
    """
    n_bars = close.shape[0]
    n_assets = asset_target.shape[0]
    equity_sum = 0.0
    equity = 0.0
    for t in range(start, n_bars):
        equity = cash
        for a in range(n_assets):
            equity += holdings[a] * close[t, np.uint64(first_column + a)]
        now = timestamps[t]
        look = True
        if trigger_kind == TRIGGER_CALENDAR:
            if now - last_rebalance >= period_ns:
                return t, equity_sum, equity, last_check
            look = False
        elif trigger_kind == TRIGGER_HYBRID:
            look = now - last_check >= period_ns
        if look:
            fired = False
            for a in range(n_assets):
                if abs(holdings[a] * close[t, np.uint64(first_column + a)] / equity - asset_target[a]) > asset_band[a]:
                    fired = True
            cash_value = cash
            for k in range(cash_assets.shape[0]):
                cash_value += holdings[cash_assets[k]] * close[t, np.uint64(first_column + cash_assets[k])]
            gap = abs(cash_value / equity - cash_target)
            if fired or gap > cash_edge - 1e-9:
                return t, equity_sum, equity, last_check
            if trigger_kind == TRIGGER_HYBRID:
                last_check = now
        equity_sum += equity
    return n_bars, equity_sum, equity, last_check


@njit(cache=True, nogil=True, error_model="numpy")
def simulate_window(
    close: np.ndarray,
    first_column: int,
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
    trade_index: np.ndarray,
    trade_values: np.ndarray,
    work: np.ndarray,
    flags: np.ndarray,
    slots: np.ndarray,
    track: bool = False,
    edge_cost: float = 0.0,
) -> np.ndarray:
    """Replay one policy over ``A`` adjacent columns of ``close``, from ``first_column`` (T bars).

    Parameters
    ----------
    close:
        Closing prices in the base currency, shape (T, N), C-contiguous: a history's price array as it
        is, so that no copy of the prices is made.
    first_column:
        The column of ``close`` of the first asset the policy holds; asset ``a`` is column
        ``first_column + a`` (the assets are adjacent, so the kernel reads them without an index array).
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
    trade_index, trade_values:
        Buffers for the trade log, shapes (N, 2) int64 (bar, asset) and (N, 4) (signed amount, fill
        price, fee, slippage cost); the first ``min(N, STAT_TRADES)`` rows are written. Pass (0, 2) and
        (0, 4) not to record trades; if ``STAT_TRADES`` exceeds N, run again with larger buffers.
    work, flags, slots:
        The run's scratch space, from :func:`workspace`: floats, booleans and int64 (the kernel allocates
        nothing, so that loading its compiled code imports none of Numba's array constructors).
    track:
        Whether to value every bar's class weights for ``STAT_TRACKING_SQUARED`` and
        ``STAT_OUTSIDE_BARS`` (always done when ``weights_out`` is recorded). Without it a bar on which
        nothing trades costs only its equity and the trigger's band test.
    edge_cost:
        The planner's fee plus slippage per unit of notional (the policy's cost model,
        :meth:`trimtab.planner.costs.CostModel.rate`): band-edge goals land inside after it.

    Returns
    -------
    numpy.ndarray
        ``stats`` (``STAT_COUNT``,) with the ``STAT_*`` figures: the start of ``work``.
    """
    n_bars = close.shape[0]
    n_assets = class_of.shape[0]
    n_classes = targets.shape[0]
    band_rows = half_widths.shape[0]
    record_equity = equity_out.shape[0] > 0
    record_weights = weights_out.shape[0] > 0
    record_costs = fees_out.shape[0] > 0
    value_every_bar = track or record_weights
    if (
        work.shape[0] < work_floats(n_assets, n_classes)
        or flags.shape[0] < work_flags(n_assets, n_classes)
        or slots.shape[0] < work_slots(n_assets, n_classes)
    ):
        raise ValueError("the workspace is too small for the policy's assets and classes")
    stats = work[:STAT_COUNT]
    asset_target = work[STAT_COUNT : STAT_COUNT + n_assets]
    asset_band = work[STAT_COUNT + n_assets : STAT_COUNT + 2 * n_assets]
    holdings = work[STAT_COUNT + 2 * n_assets : STAT_COUNT + 3 * n_assets]
    values = work[STAT_COUNT + 3 * n_assets : STAT_COUNT + 4 * n_assets]
    changes = work[STAT_COUNT + 4 * n_assets : STAT_COUNT + 5 * n_assets]
    after_assets = STAT_COUNT + 5 * n_assets
    weights = work[after_assets : after_assets + n_classes]
    goals = work[after_assets + n_classes : after_assets + 2 * n_classes]
    net = work[after_assets + 2 * n_classes : after_assets + 3 * n_classes]
    rooms = work[after_assets + 3 * n_classes : after_assets + 4 * n_classes]
    taken = work[after_assets + 4 * n_classes : after_assets + 5 * n_classes]
    for i in range(after_assets + 5 * n_classes):
        work[i] = 0.0
    sleeve = flags[:n_assets]
    moving = flags[n_assets : n_assets + n_classes]
    in_scope = flags[n_assets + n_classes : n_assets + 2 * n_classes]
    outside = flags[n_assets + 2 * n_classes : n_assets + 3 * n_classes]
    for i in range(n_assets + 3 * n_classes):
        flags[i] = False
    single = one_asset_per_class(class_of, n_classes, cash_class)
    _sleeve_members(class_of, cash_class, sleeve)
    within_squared = 0.0
    # Per-asset target and band for the one-asset-per-class test; cash assets never breach there.
    n_cash_assets = 0
    for a in range(n_assets):
        asset_band[a] = np.inf
        if class_of[a] == cash_class:
            n_cash_assets += 1
        else:
            asset_target[a] = targets[class_of[a]]
            asset_band[a] = half_widths[0, class_of[a]]
    cash_assets = slots[:n_cash_assets]
    k = 0
    for a in range(n_assets):
        if class_of[a] == cash_class:
            cash_assets[k] = a
            k += 1
    curve = kernel_curve.start()

    n_trades = 0

    cash = capital
    fees = 0.0
    slip_total = 0.0
    traded = 0.0
    rebalances = 0
    tracking_squared = 0.0
    outside_bars = 0
    loose_bars = 0
    loose_margin = max(taker_fee + slippage, EDGE_TOLERANCE)
    initial_cost = 0.0
    equity_sum = 0.0
    last_rebalance = timestamps[0] if n_bars > 0 else 0
    last_check = last_rebalance
    equity = capital
    distance = 0.0
    excess = -np.inf

    scan = single and band_rows == 1 and not (value_every_bar or record_equity or record_costs)
    # Tracked runs that record nothing per bar value their quiet bars in a tight loop too.
    scan_tracked = single and band_rows == 1 and track and not (record_weights or record_equity or record_costs)
    class_asset = slots[n_assets : n_assets + n_classes]
    for c in range(n_classes):
        class_asset[c] = -1
    for a in range(n_assets):
        if class_of[a] != cash_class:
            class_asset[class_of[a]] = a
    cash_target = targets[cash_class]
    cash_edge = half_widths[0, cash_class]
    t = 0
    while t < n_bars:
        if scan_tracked and t > 0:
            t, last_check, equity, tracking_squared, quiet_outside, quiet_loose, equity_sum, curve = (
                kernel_track.scan_tracked(
                    close,
                    first_column,
                    timestamps,
                    t,
                    holdings,
                    cash,
                    class_asset,
                    targets,
                    half_widths,
                    cash_class,
                    trigger_kind == TRIGGER_CALENDAR,
                    trigger_kind == TRIGGER_HYBRID,
                    period_ns,
                    last_rebalance,
                    last_check,
                    tracking_squared,
                    equity_sum,
                    curve,
                    EDGE_TOLERANCE,
                    loose_margin,
                )
            )
            outside_bars += quiet_outside
            loose_bars += quiet_loose
            if t >= n_bars:
                break
        if scan and t > 0:
            # Skip the bars on which nothing can happen, in a tight loop.
            t, scanned_sum, scanned_equity, last_check = _scan(
                close,
                first_column,
                timestamps,
                t,
                holdings,
                cash,
                asset_target,
                asset_band,
                cash_assets,
                cash_target,
                cash_edge,
                trigger_kind,
                period_ns,
                last_rebalance,
                last_check,
            )
            equity_sum += scanned_sum
            if t >= n_bars:
                equity = scanned_equity
                break
        row = t if t < band_rows else band_rows - 1
        traded_now = False
        valued = False
        if t == 0:
            # The initial purchase: every asset to target x split of the capital.
            cash, fees, slip_total, n_trades, traded_now = initial_purchase(
                close,
                first_column,
                holdings,
                class_of,
                split,
                targets,
                capital,
                taker_fee,
                slippage,
                trade_index,
                trade_values,
            )
            initial_cost = fees + slip_total
        else:
            if value_every_bar:
                # Every bar is valued anyway: value it first, and test the bands on its weights (the
                # planner's own numbers; the quick test below reaches the same decision).
                equity, distance, excess = valuate(
                    close,
                    first_column,
                    t,
                    holdings,
                    class_of,
                    cash,
                    cash_class,
                    targets,
                    half_widths,
                    row,
                    values,
                    net,
                    weights,
                )
                valued = True
            else:
                # Equity in the valuation's order: cash first, then each asset.
                equity = cash
                for a in range(n_assets):
                    equity += holdings[a] * close[t, np.uint64(first_column + a)]
            now = timestamps[t]
            look = True
            fired = False
            if trigger_kind == TRIGGER_CALENDAR:
                look = False
                fired = now - last_rebalance >= period_ns
            elif trigger_kind == TRIGGER_HYBRID:
                look = now - last_check >= period_ns
                if look:
                    last_check = now
            if look and valued:
                fired = any_outside(weights, targets, half_widths, row)
            elif look:
                # The planner's test, |weight - target| > half_width for every class, without building
                # the weights: a one-asset class's weight is its value over equity.
                cash_value = cash
                if single:
                    if band_rows > 1:
                        for a in range(n_assets):
                            if class_of[a] != cash_class:
                                asset_band[a] = half_widths[row, class_of[a]]
                    for a in range(n_assets):
                        if (
                            abs(holdings[a] * close[t, np.uint64(first_column + a)] / equity - asset_target[a])
                            > asset_band[a]
                        ):
                            fired = True
                    for k in range(cash_assets.shape[0]):
                        cash_value += holdings[cash_assets[k]] * close[t, np.uint64(first_column + cash_assets[k])]
                else:
                    for c in range(n_classes):
                        net[c] = 0.0
                    for a in range(n_assets):
                        net[class_of[a]] += holdings[a] * close[t, np.uint64(first_column + a)]
                    for c in range(n_classes):
                        if c != cash_class and abs(net[c] / equity - targets[c]) > half_widths[row, c]:
                            fired = True
                    cash_value += net[cash_class]
                if not fired:
                    gap = abs(cash_value / equity - targets[cash_class])
                    edge = half_widths[row, cash_class]
                    if abs(gap - edge) > 1e-9:
                        fired = gap > edge
                    else:
                        fired = _cash_breached(
                            close,
                            first_column,
                            t,
                            holdings,
                            class_of,
                            cash_class,
                            equity,
                            targets,
                            half_widths,
                            row,
                            net,
                        )
            if fired:
                last_rebalance = now
                equity, distance, excess = valuate(
                    close,
                    first_column,
                    t,
                    holdings,
                    class_of,
                    cash,
                    cash_class,
                    targets,
                    half_widths,
                    row,
                    values,
                    net,
                    weights,
                )
                rebalance_changes(
                    weights,
                    targets,
                    half_widths[row],
                    cash_class,
                    scope_breached,
                    band_edge,
                    edge_cost,
                    class_of,
                    split,
                    equity,
                    values,
                    changes,
                    goals,
                    moving,
                    in_scope,
                    rooms,
                    taken,
                    outside,
                )
                cash, fees, slip_total, traded, n_trades, traded_now = trade(
                    close,
                    first_column,
                    t,
                    holdings,
                    changes,
                    equity,
                    cash,
                    fees,
                    slip_total,
                    traded,
                    n_trades,
                    taker_fee,
                    slippage,
                    min_notional,
                    trade_index,
                    trade_values,
                )
                if traded_now:
                    rebalances += 1
        if traded_now or (value_every_bar and not valued):
            # The bar's record is taken after its trades.
            equity, distance, excess = valuate(
                close,
                first_column,
                t,
                holdings,
                class_of,
                cash,
                cash_class,
                targets,
                half_widths,
                row,
                values,
                net,
                weights,
            )
        if value_every_bar:
            curve = kernel_curve.accumulate(curve, equity, t == 0)
            if not single:
                within_squared += _sleeve_drift(values, net, class_of, split, sleeve, equity)
            tracking_squared += distance
            if excess > EDGE_TOLERANCE:
                outside_bars += 1
            if excess > loose_margin:
                loose_bars += 1
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
        t += 1

    stats[STAT_FINAL_EQUITY] = equity
    stats[STAT_FEES] = fees
    stats[STAT_SLIPPAGE] = slip_total
    stats[STAT_TRADED_NOTIONAL] = traded
    stats[STAT_REBALANCES] = rebalances
    stats[STAT_TRADES] = n_trades
    stats[STAT_TRACKING_SQUARED] = tracking_squared
    stats[STAT_OUTSIDE_BARS] = outside_bars
    stats[STAT_OUTSIDE_BEYOND_COSTS] = loose_bars
    stats[STAT_INITIAL_COST] = initial_cost
    stats[STAT_WITHIN_SQUARED] = within_squared
    stats[STAT_EQUITY_SUM] = equity_sum
    count, mean, m2, downside, deepest = kernel_curve.figures(curve)
    stats[STAT_RETURN_COUNT] = count
    stats[STAT_RETURN_MEAN] = mean
    stats[STAT_RETURN_M2] = m2
    stats[STAT_DOWNSIDE_SQUARED] = downside
    stats[STAT_MAX_DRAWDOWN] = deepest
    return stats


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
    trade_index: np.ndarray,
    trade_values: np.ndarray,
    track: bool = False,
    edge_cost: float = 0.0,
) -> np.ndarray:
    """:func:`simulate_window` over ``close`` (T bars x A assets) from its first column, in a new workspace."""
    n_assets, n_classes = class_of.shape[0], targets.shape[0]
    work = np.zeros(work_floats(n_assets, n_classes))
    flags = np.zeros(work_flags(n_assets, n_classes), dtype=np.bool_)
    slots = np.zeros(work_slots(n_assets, n_classes), dtype=np.int64)
    return simulate_window(
        close,
        0,
        timestamps,
        class_of,
        split,
        targets,
        half_widths,
        cash_class,
        capital,
        taker_fee,
        slippage,
        min_notional,
        trigger_kind,
        period_ns,
        scope_breached,
        band_edge,
        equity_out,
        weights_out,
        fees_out,
        slippage_out,
        rebalanced_out,
        trade_index,
        trade_values,
        work,
        flags,
        slots,
        track,
        edge_cost,
    )


kernel_cache.load_quickly(simulate_window, simulate)
