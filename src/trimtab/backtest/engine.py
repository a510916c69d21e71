"""The event-driven backtest: the same planner as ``trimtab plan``, bar after bar, on a simulated account.

Semantics (the contract's reference, extended to derivatives):

1. **Start**: ``capital`` in the base currency buys every asset to ``target x split x capital`` at the
   first bar's close, paying fees and slippage (:mod:`trimtab.backtest.replay`).
2. **Each later bar**, at its close:

   a. funding is settled on every perpetual held, at each funding stamp since the previous close
      (``rate x amount x mark``: with a positive rate longs pay, shorts receive); dated futures and options
      that expired since (08:00 UTC on their date) settle in cash at the underlying's last close at or
      before the expiry, reported as ``settlement`` events (:mod:`trimtab.venues.simulation.expiry`);
   b. every perpetual or future whose maintenance margin the bar broke (its low for a long, its high
      for a short, against the liquidation price) is liquidated: closed at the liquidation price,
      reported as a ``liquidation`` event. The account is the contract's default (unified, cross: its
      base-currency balance plus the positions' PnL margin them all), the one ``plan`` assumes for a venue
      without an ``[[account]]`` table;
   c. a snapshot is built from history (:mod:`trimtab.backtest.snapshots`) and the run's
      :class:`~trimtab.session.RebalancingSession` (the one the paper and live loops drive too) decides:
      it plans from its remembered last rebalance and check times and CPPI peak, with betas estimated over
      the strategy's lookback and, for adaptive bands, the realised volatility, then runs the guards
      (liquidation buffer and deleveraging, funding monitor); every decision (the trigger, each guard's
      verdict, a trigger that fired with nothing left to trade) becomes an event;
   d. the decision's orders fill on the simulated account (:mod:`trimtab.venues.simulation`): market orders
      at the close (spot) or mark (derivatives), moved by the slippage model, paying the taker fee; the
      session then moves its state forward by its one rule.

3. The record of each bar is taken after its trades: equity, class weights, the bands and targets in
   force, cumulative fees, slippage and funding.

A spot-only policy with the fixed strategy and constant slippage runs on the Numba kernel instead
(:mod:`trimtab.backtest.fastpath`) unless ``fast=False``; both give the same numbers.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from trimtab.backtest.fastpath import eligibility, run_fast
from trimtab.backtest.replay import prepare
from trimtab.venues.simulation.models import RealityModels

if TYPE_CHECKING:
    from trimtab.backtest.event_run import Progress
    from trimtab.backtest.result import BacktestResult
    from trimtab.domain.portfolio import Portfolio
    from trimtab.feed.history import MarketHistory
    from trimtab.policy.config import Policy
    from trimtab.session import GuardSettings, SessionState


def run_backtest(
    policy: Policy,
    history: MarketHistory,
    *,
    capital: float = 100_000.0,
    start: datetime | None = None,
    end: datetime | None = None,
    fast: bool | None = None,
    progress: Progress | None = None,
    models: RealityModels | None = None,
    guards: GuardSettings | None = None,
) -> BacktestResult:
    """Replay ``history`` under ``policy`` from ``capital`` in the base currency.

    Parameters
    ----------
    policy:
        The policy (classes, bands, trigger, rebalance rules, costs, strategy).
    history:
        Aligned history (:func:`trimtab.feed.load_history`) holding every asset of the policy.
    capital:
        Starting capital in the base currency, invested at the first bar's close.
    start, end:
        Inclusive bounds on the bars' open times; the whole history when None.
    fast:
        True to require the Numba fast path, False to force the event engine, None to take the fast path
        whenever the policy allows it (:mod:`trimtab.backtest.fastpath`).
    progress:
        Called as ``progress(bars_done, bars_total)`` now and then by the event engine.
    models:
        Fees, slippage, funding and margin; by default the policy's ``[costs]`` with constant slippage.
    guards:
        The session's guard limits; by default the live run's defaults, so a backtest guards as the live loop.

    Returns
    -------
    BacktestResult
        Curves, trades, events and metrics of the run (and of buy-and-hold of the initial allocation).

    Raises
    ------
    BadInputError
        If the history lacks an asset of the policy or no bar lies in the window.
    ValueError
        If ``fast=True`` but the policy needs the event engine (the message says why), or ``capital`` is
        not positive.
    """
    if not (capital > 0.0 and math.isfinite(capital)):
        raise ValueError("capital must be a positive number")
    replay = prepare(policy, history, start, end)
    models = models or RealityModels.from_costs(policy.costs)
    allowed = eligibility(replay, models)
    if fast and not allowed.allowed:
        raise ValueError(f"the fast path cannot run this policy: {allowed.reason}")
    if fast is None:
        fast = allowed.allowed
    if fast:
        result = run_fast(replay, capital, models, policy.config_hash())
        if progress is not None:
            progress(replay.times.shape[0], replay.times.shape[0])
        return result
    from trimtab.backtest.event_run import EventRun

    return EventRun(replay, capital, models, progress, guards).run()


def starting_point(
    policy: Policy,
    history: MarketHistory,
    *,
    capital: float = 100_000.0,
    start: datetime | None = None,
    end: datetime | None = None,
    models: RealityModels | None = None,
) -> tuple[Portfolio, SessionState]:
    """The account and the session's state right after the initial purchase at the first bar's close.

    A paper replay that starts from these follows the event engine bar for bar (the engine's own first step).
    """
    from trimtab.backtest.event_run import EventRun

    replay = prepare(policy, history, start, end)
    run = EventRun(replay, capital, models or RealityModels.from_costs(policy.costs), None)
    run._initial_purchase()
    return run.account.to_portfolio(), run.session.state
