"""The rebalancing session: the one owner of the state around the planner, and the guards it runs.

A backtest, a paper replay and the live loop all drive one :class:`RebalancingSession`; they differ only in
their clock (a bar's close, a replayed bar, the wall clock) and their venue (a simulated account, the paper
venue, an exchange). Each cycle:

1. :meth:`RebalancingSession.decide` plans (:func:`trimtab.planner.plan_outcome`) from the holdings, the
   market and the session's state, then runs the guards (:mod:`trimtab.session.guards`): the liquidation
   buffer with its deleveraging step, and the funding monitor. It returns a :class:`Decision`: the plan,
   the trades to send, whether only reducing orders may go, and every decision worth recording (the trigger,
   each guard's verdict, a trigger that fired with nothing left to trade and why). It changes nothing.
2. The caller carries out the trades on its venue (or is blocked: a halt, a pending approval, an order whose
   fate is unknown) and calls :meth:`RebalancingSession.close` with what happened; the session moves its
   :class:`~trimtab.session.state.SessionState` forward by the one rule of
   :meth:`~trimtab.session.state.SessionState.advanced`.

The session does no I/O and reads no clock: "now" is the market snapshot's timestamp.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.lots import LotBook
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Plan, Trade
from trimtab.domain.portfolio import Portfolio
from trimtab.planner import PlanContext, PlanOutcome, plan_outcome
from trimtab.planner.engine import fund_trades
from trimtab.planner.hedge_limits import DEFAULT_LIQUIDATION_BUFFER, Buffers, EstimatedBuffers, volatility_buffer
from trimtab.planner.horizon import auto_horizons
from trimtab.planner.tax import SpotFill, apply_fills
from trimtab.policy.bands import Band
from trimtab.policy.config import CppiStrategy, Policy
from trimtab.policy.estimation import PriceWindow, volatilities, volatility_ceilings
from trimtab.policy.targets import build_target_model
from trimtab.session.deleverage import deleverage_ladder
from trimtab.session.funding import funding_switch
from trimtab.session.holding import HeldPosition
from trimtab.session.remainder import remainder_to_spot
from trimtab.session.state import SessionState
from trimtab.valuation.model import Valuation
from trimtab.valuation.valuate import valuate

DERIVATIVES = (InstrumentKind.PERP, InstrumentKind.FUTURE)
ESTIMATE_PHRASES = {
    "volatility": (
        "adaptive bands use realised volatility from the run's price history",
        "adaptive bands fall back to the fixed bands: {}",
    ),
    "beta": ("the beta is estimated from the run's price history", "no beta estimate yet (beta 1.0 assumed): {}"),
    "covariance": (
        "risk parity estimates its covariance from the run's price history",
        "no covariance estimate yet (the policy targets are kept): {}",
    ),
}


def history_needed(policy: Policy) -> timedelta | None:
    """How far back the prices the session estimates from must reach (None: no estimate is needed).

    The bands' volatility lookback (adaptive bands, bands from costs) and the target model's declared
    history, whichever is longer.
    """
    needs = [build_target_model(policy).history, policy.volatility_lookback()]
    hedges = policy.rebalance.instrument != "spot" or policy.strategy.kind != "fixed"
    if hedges and any(c.hedge for c in policy.asset_classes()):
        needs.append(GUARD_LOOKBACK)  # the liquidation buffer scales with the hedged asset's volatility
    known = [need for need in needs if need is not None]
    return max(known) if known else None


GUARD_LOOKBACK = timedelta(days=30)
"""The window of realised volatility the liquidation buffer scales with."""


@dataclass(frozen=True, slots=True)
class GuardSettings:
    """The guards' limits (the live run takes them from its execution settings; a backtest from its options).

    ``liquidation_buffer``: a derivative closer to its liquidation price than this fraction of the mark blocks
    new exposure and is reduced by ``deleverage_fraction``; ``funding_switch`` replaces a hedge whose funding
    costs more than the spot alternative.
    """

    liquidation_buffer: float = DEFAULT_LIQUIDATION_BUFFER
    deleverage_fraction: float = 0.5
    funding_switch: bool = True
    buffer_sigmas: float = 3.0
    """The buffer of a position is at least this many standard deviations of its asset's move over one check
    interval (the clock's spacing), from realised volatility over ``GUARD_LOOKBACK``; 0 keeps it fixed (and a
    ``liquidation_buffer`` of 0 turns the guard off)."""


@dataclass(frozen=True, slots=True)
class Note:
    """One decision to record: ``kind`` (``trigger``, ``deleverage``, ``funding``, ``margin``, ``idle``,
    ``estimate``) and why."""

    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What the session decided this cycle (nothing is changed until :meth:`RebalancingSession.close`).

    ``trades`` are the orders to send (the plan's, changed by the guards); ``reducing_only`` forbids any order
    that grows a derivative position; ``checked`` says whether the trigger looked at the bands.
    """

    now: datetime
    plan: Plan
    trades: tuple[Trade, ...]
    checked: bool
    reducing_only: bool = False
    notes: tuple[Note, ...] = ()
    guarded: tuple[Trade, ...] = field(default_factory=tuple)
    """The trades the guards added (deleveraging steps, switches of hedges to spot)."""
    flow: float = 0.0
    """The cash flow this decision steers (0 for an ordinary cycle): carried out, it is no longer pending."""

    @property
    def triggered(self) -> bool:
        return self.plan.triggered


class RebalancingSession:
    """Plans, guards and remembers for one policy on one account.

    Parameters
    ----------
    policy:
        The policy the session follows.
    guards:
        The guards' limits.
    state:
        Where the session starts (a restarted run passes what it stored).
    """

    def __init__(self, policy: Policy, guards: GuardSettings | None = None, state: SessionState | None = None) -> None:
        self.policy = policy
        self.guards = guards or GuardSettings()
        self.state = state or SessionState()
        self.model = build_target_model(policy)
        self.history = history_needed(policy)
        """How far back the price window must reach (None: the session needs no prices)."""
        self._falling_back: dict[str, bool] = {}
        self._spot_policy: Policy | None = None
        self._lookback = policy.volatility_lookback()
        self._measures_hold = policy.costs.fixed_horizon_days is None
        strategy = policy.strategy
        self._peak_kind = ("peak" if strategy.ratchet else "initial") if isinstance(strategy, CppiStrategy) else None
        """Which equity CPPI's floor follows: the highest seen (its ratchet), the first, or none (no CPPI)."""
        self._hedges = _hedge_bases(policy)
        """The hedges ``auto`` may open, symbol -> hedged asset (their liquidation buffers bound its choice)."""

    def estimate(
        self, window: PriceWindow | None, market: MarketSnapshot
    ) -> tuple[dict[str, float] | None, dict[str, str | None]]:
        """Volatility for the bands (adaptive, or from costs) from ``window`` (the snapshot's own figures win), and
        per estimate the policy uses, why it falls back (None when it is made)."""
        status = dict(self.model.estimates(window))
        lookback = self._lookback
        if lookback is None:
            return None, status
        base = self.policy.base_currency
        classes = self.policy.asset_classes()
        assets = sorted({a for c in classes if not c.cash or c.band_auto for a in c.assets if a != base})
        if window is None:
            found: dict[str, float] = {}
            reasons = ["no price history"]
        else:
            found, reasons = volatilities(window, assets, lookback)
        status["volatility"] = "; ".join(reasons) if reasons else None
        return {**found, **market.volatility}, status

    def _estimate_notes(self, status: Mapping[str, str | None]) -> list[Note]:
        """One note when an estimate starts or stops standing in for its fallback, not every cycle."""
        notes = []
        for kind, reason in status.items():
            if self._falling_back.get(kind) == (reason is not None):
                continue
            self._falling_back[kind] = reason is not None
            made, missing = ESTIMATE_PHRASES.get(kind, (f"the {kind} is estimated", f"no {kind} estimate yet: {{}}"))
            notes.append(Note("estimate", made if reason is None else missing.format(reason)))
        return notes

    def context(
        self,
        volatility: Mapping[str, float] | None = None,
        betas: Mapping[str, float] | None = None,
        window: PriceWindow | None = None,
        buffers: Buffers | None = None,
        now: datetime | None = None,
    ) -> PlanContext:
        """The planner's view of the state, with this cycle's estimates and liquidation buffers.

        With ``funding_horizon_days = "auto"`` and ``now``, each hedge symbol's notional-weighted holding time
        measured until ``now`` is the funding horizon ``auto`` prices its hedge over (:mod:`trimtab.planner.horizon`;
        a class whose hedge has none estimates it from its drift); a number is used as is.
        """
        state = self.state
        peak: float | None = None
        if self._peak_kind is not None:
            # With the ratchet the floor follows the highest equity seen; without it, the first equity.
            peak = state.peak_equity if self._peak_kind == "peak" else state.initial_equity
        return PlanContext(
            last_rebalance=state.last_rebalance,
            last_check=state.last_check,
            peak_equity=peak,
            betas=dict(betas) if betas else {},
            volatility=volatility,
            lots=state.lots,
            window=window,
            flow=state.pending_flow,
            hold_days=self._hold_days(now),
            liquidation_buffers=self.guards.liquidation_buffer if buffers is None else buffers,
        )

    def decide(
        self,
        portfolio: Portfolio,
        market: MarketSnapshot,
        *,
        window: PriceWindow | None = None,
        volatility: Mapping[str, float] | None = None,
        betas: Mapping[str, float] | None = None,
    ) -> Decision:
        """Plan and guard for ``portfolio`` at ``market``; see the module docstring.

        ``window`` holds the recent prices (at least :attr:`history` of them): adaptive bands and target models
        estimate from it. ``volatility`` and ``betas``, when given, replace those estimates.

        Raises
        ------
        KeyError, ValueError
            As :func:`trimtab.planner.make_plan` does (a missing price, a derivative of no class).
        """
        estimated, status = self.estimate(window, market)
        if volatility is not None:
            status.pop("volatility", None)
        notes: list[Note] = self._estimate_notes(status) if status else []
        buffers = self._buffers(portfolio, window)
        chosen = volatility if volatility is not None else estimated
        context = self.context(chosen, betas, window, buffers, now=market.timestamp)
        outcome = plan_outcome(portfolio, market, self.policy, context)
        outcome = self._spot_fallback(portfolio, market, context, outcome, notes)
        plan = outcome.plan
        planned: list[Trade] = list(plan.trades) if plan.triggered else []
        trades, reducing_only = self._guard(planned, portfolio, market, notes, buffers, outcome, chosen)
        if plan.transfers and trades is not planned and trades != planned:
            # a guard changed the orders (a hedge bought spot instead): fund what will be sent, not what was planned
            funded = fund_trades(portfolio, market, self.policy, trades)
            moved = ", ".join(f"{t.amount:g} {t.asset} from {t.from_account} to {t.to_account}" for t in funded)
            why = f"transfers sized again for the orders the guards left: {moved or 'none needed'}"
            plan = replace(plan, transfers=funded, notes=(*plan.notes, why))
        if plan.triggered:
            notes.append(Note("trigger", plan.trigger_reason or "the trigger fired"))
            if not trades:
                notes.append(Note("idle", f"the trigger fired but nothing was traded: {_why_idle(plan)}"))
        added: tuple[Trade, ...] = ()
        if trades is not planned:  # a guard changed the orders: the ones it added, by identity (not field by field)
            planned_ids = {id(t) for t in planned}
            added = tuple(t for t in trades if id(t) not in planned_ids)
        flow = context.flow if plan.triggered else 0.0
        return Decision(
            market.timestamp, plan, tuple(trades), outcome.checked, reducing_only, tuple(notes), added, flow
        )

    def add_flow(self, amount: float, seen: int | None = None) -> SessionState:
        """Record a deposit (``amount`` > 0) or withdrawal (< 0) in the base currency that reached the account.

        The next decision steers it (:mod:`trimtab.planner.flows`): it buys the underweight classes (sells the
        overweight ones) with the flow instead of consulting the trigger. ``seen`` is the journal id of the
        flow's row, remembered so that a restarted run does not count it again.
        """
        self.state = self.state.with_flow(amount, seen)
        return self.state

    def _hold_days(self, now: datetime | None) -> dict[str, float] | None:
        """The measured holding times, per hedge symbol, the planner's ``"auto"`` horizon uses (None with a
        numeric horizon)."""
        if now is None or not self._measures_hold:
            return None
        return self.state.measured_hold_days(now)

    def _horizons(
        self, bands: Mapping[str, Band] | None, volatility: Mapping[str, float], now: datetime
    ) -> dict[str, float]:
        """The expected holding time of a hedge on each symbol under ``funding_horizon_days = "auto"``: the
        planner's per-class horizon (measured, else the class's drift, else the fallback week), and for a
        derivative that hedges no class its own measured time."""
        measured = self.state.measured_hold_days(now)
        if bands is None:
            return measured
        return {**measured, **auto_horizons(self.policy.asset_classes(), bands, volatility, measured).days}

    def _spot_fallback(
        self,
        portfolio: Portfolio,
        market: MarketSnapshot,
        context: PlanContext,
        outcome: PlanOutcome,
        notes: list[Note],
    ) -> PlanOutcome:
        """When margin cannot carry a plan's hedges (classes left short of their goals), spot takes the rest.

        First only the remainder the margin guard cut goes to spot (:mod:`trimtab.session.remainder`), the
        hedge it carries kept; when no spot order can take it, the whole rebalance is planned with spot. Either
        is taken only when it brings the classes closer to their goals; a ``margin`` note says which.
        """
        plan = outcome.plan
        if not plan.triggered or self.policy.rebalance.instrument == "spot":
            return outcome
        short = _short_of_goal(plan)
        if not short:
            return outcome
        remainder = remainder_to_spot(portfolio, market, self.policy, plan, short)
        if remainder is not None and _goal_gap(remainder) < _goal_gap(plan) - 1e-9:
            notes.append(Note("margin", remainder.notes[-1]))
            return PlanOutcome(remainder, outcome.checked, outcome.valuation, outcome.bands)
        if self._spot_policy is None:
            rebalance = self.policy.rebalance.model_copy(update={"instrument": "spot"})
            self._spot_policy = self.policy.model_copy(update={"rebalance": rebalance})
        spot = plan_outcome(portfolio, market, self._spot_policy, context)
        if not spot.plan.triggered or _goal_gap(spot.plan) >= _goal_gap(plan) - 1e-9:
            return outcome
        reason = (
            f"margin cannot carry the hedge of {', '.join(short)} (the margin guard left "
            f"{'it' if len(short) == 1 else 'them'} short of the goal): rebalanced with spot instead"
        )
        notes.append(Note("margin", reason))
        return PlanOutcome(
            replace(spot.plan, notes=(*spot.plan.notes, reason)), spot.checked, spot.valuation, spot.bands
        )

    def _guard(
        self,
        trades: list[Trade],
        portfolio: Portfolio,
        market: MarketSnapshot,
        notes: list[Note],
        buffers: Buffers,
        outcome: PlanOutcome,
        volatility: Mapping[str, float] | None = None,
    ) -> tuple[list[Trade], bool]:
        """The liquidation buffer, then the funding monitor (only a book or plan with derivatives needs them).

        ``outcome`` is what the planner made of the same book at the same prices (its valuation is reused, its
        bands give the classes' drift horizons); ``volatility`` the estimates it planned with.
        """
        if not portfolio.derivatives and not any(t.instrument in DERIVATIVES for t in trades):
            return trades, False
        valuation = outcome.valuation or valuate(portfolio, market, self.policy.asset_classes())
        ladder = deleverage_ladder(portfolio, market, self.policy, buffers, self.guards.deleverage_fraction, valuation)
        if ladder.trades:
            trades = list(ladder.trades)
            notes.extend(Note("deleverage", reason) for reason in ladder.reasons)
        if self.guards.funding_switch and _pays_funding(trades, valuation, market):
            now = market.timestamp
            ages = {s: a for s in self.state.hedges if (a := self.state.hedge_age_days(s, now)) is not None}
            horizons: dict[str, float] = {}
            if self.policy.costs.fixed_horizon_days is None:
                chosen = volatility if volatility is not None else market.volatility
                horizons = self._horizons(outcome.bands, chosen, now)
            trades, reasons = funding_switch(
                trades, portfolio, valuation, market, self.policy, ages, self.state.lots, horizons
            )
            notes.extend(Note("funding", reason) for reason in reasons)
        return trades, ladder.reducing_only

    def _buffers(self, portfolio: Portfolio, window: PriceWindow | None) -> Buffers:
        """This cycle's liquidation buffer of every derivative held and every hedge ``auto`` may open: the fixed
        one, widened to ``buffer_sigmas`` standard deviations of its asset's move over one check interval (the
        spacing of the window's last two times; :func:`~trimtab.planner.hedge_limits.volatility_buffer`). The
        deleveraging ladder keeps it, and ``auto`` opens no hedge inside it. A fixed buffer of 0 turns it off.

        The volatilities are estimated once, when a buffer is first read: a cycle whose book holds no derivative
        and whose plan opens no ``auto`` hedge estimates nothing.
        """
        fixed, sigmas = self.guards.liquidation_buffer, self.guards.buffer_sigmas
        if fixed <= 0.0 or sigmas <= 0.0 or window is None or window.times.shape[0] < 2:
            return fixed
        before, last = window.times[-2:].tolist()
        interval_days = (last - before) / 86_400.0
        bases = {
            p.instrument.symbol: p.instrument.base
            for p in portfolio.derivatives
            if p.amount != 0 and p.instrument.kind in DERIVATIVES
        }
        bases.update(self._hedges)
        if not bases or interval_days <= 0.0:
            return fixed

        return _CycleBuffers(window, bases, fixed, sigmas, interval_days)

    def close(
        self,
        decision: Decision,
        *,
        carried_out: bool,
        equity_after: float,
        held: Collection[HeldPosition],
        fills: Sequence[SpotFill] = (),
    ) -> SessionState:
        """Move the state past ``decision`` and return it.

        Parameters
        ----------
        carried_out:
            The cycle acted on the decision (False when a halt, a pending approval, an unsettled order or an
            unavailable venue stopped it): only then does a fired trigger count as a rebalance.
        equity_after:
            Equity after the cycle's trades (the plan's equity when nothing traded).
        held:
            The derivative positions held after the cycle (their amounts and entry prices move the hedges'
            holding records).
        fills:
            The cycle's spot fills, in the order they filled: buys open tax lots at their fill price, sales
            consume lots by the policy's ``[tax] method`` (first in, first out without ``[tax]``).
        """
        self.state = self.state.advanced(
            decision.now,
            # A decision that was not carried out leaves the times where they were: the next cycle decides again.
            checked=decision.checked and carried_out,
            # A steered flow is not the trigger's rebalance: a calendar keeps its pace.
            rebalanced=decision.triggered and carried_out and decision.flow == 0.0,
            equity_before=decision.plan.equity,
            equity_after=equity_after,
            held=held,
        )
        if carried_out and decision.flow != 0.0:
            # Only the flow this decision steered; one recorded since waits for the next cycle.
            left = self.state.pending_flow - decision.flow
            self.state = replace(self.state, pending_flow=left if abs(left) > 1e-9 * abs(decision.flow) else 0.0)
        if fills:
            book = self.state.lots if self.state.lots is not None else LotBook()
            book, _, _ = apply_fills(book, fills, self.policy.tax_rules(), decision.now)
            self.state = replace(self.state, lots=book)
        return self.state


def _pays_funding(trades: Sequence[Trade], valuation: Valuation, market: MarketSnapshot) -> bool:
    """Whether a perpetual the plan opens or the book holds pays funding at the snapshot's rate (else the funding
    monitor has nothing to weigh: a position that receives funding costs less than any spot alternative)."""
    quotes = market.derivatives
    for t in trades:
        if t.instrument is InstrumentKind.PERP and not t.reduce_only:
            quote = quotes.get(t.symbol)
            if quote is not None and t.signed_amount() * quote.funding_rate > 0.0:
                return True
    for p in valuation.positions:
        if p.instrument.kind is InstrumentKind.PERP:
            quote = quotes.get(p.symbol)
            if quote is not None and p.amount * quote.funding_rate > 0.0:
                return True
    return False


class _CycleBuffers(EstimatedBuffers):
    """One cycle's buffers (:meth:`RebalancingSession._buffers`): the volatilities are estimated when a buffer is
    first read, all at once, and a position far from liquidation is cleared by the cheap ceiling
    (:func:`~trimtab.policy.estimation.volatility_ceilings`, every symbol's at the first look) without them."""

    __slots__ = ("_bases", "_ceilings", "_fixed", "_interval_days", "_sigmas", "_values", "_window")

    def __init__(
        self, window: PriceWindow, bases: Mapping[str, str], fixed: float, sigmas: float, interval_days: float
    ) -> None:
        self._window, self._bases = window, bases
        self._fixed, self._sigmas, self._interval_days = fixed, sigmas, interval_days
        self._values: dict[str, float] | None = None
        self._ceilings: dict[str, float] | None = None

    def _buffer(self, volatility: float | None) -> float:
        return volatility_buffer(self._fixed, self._sigmas, volatility, self._interval_days)

    def _read(self) -> dict[str, float]:
        if self._values is None:
            assets = sorted(set(self._bases.values()) & set(self._window.assets))
            found, _ = volatilities(self._window, assets, GUARD_LOOKBACK)
            self._values = {s: self._buffer(found.get(base)) for s, base in self._bases.items()}
        return self._values

    def ceiling(self, symbol: str) -> float:
        if self._values is not None:
            return self._values.get(symbol, math.inf)
        if self._ceilings is None:
            self._ceilings = self._ceiling_of_each()
        return self._ceilings.get(symbol, math.inf)

    def _ceiling_of_each(self) -> dict[str, float]:
        """The buffer of every symbol at its volatility ceiling (none where the ceiling is unknown)."""
        fixed, sigmas, root = self._fixed, self._sigmas, math.sqrt(self._interval_days / 365.0)
        tops = volatility_ceilings(self._window, sorted(set(self._bases.values())), GUARD_LOOKBACK)
        out = {}
        for symbol, base in self._bases.items():
            top = tops.get(base)
            if top is not None:
                # volatility_buffer's figure (the same products in the same order), its checks made once per cycle
                out[symbol] = max(fixed, sigmas * top * root) if math.isfinite(top) else fixed
        return out

    def __getitem__(self, key: str) -> float:
        return self._read()[key]

    def get(self, key: str, default: float | None = None) -> float | None:  # type: ignore[override]
        return self._read().get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


def _hedge_bases(policy: Policy) -> dict[str, str]:
    """The classes' hedges ``auto`` may choose, symbol -> underlying (none unless the policy's instrument is auto:
    target models trade their hedges as ``perp``)."""
    if policy.rebalance.instrument != "auto":
        return {}
    return {c.hedge: parse_symbol(c.hedge).base for c in policy.asset_classes() if c.hedge}


def _short_of_goal(plan: Plan) -> list[str]:
    """The classes the plan leaves further than a quarter band from their goal."""
    return [
        c.name
        for c in plan.classes
        if not c.cash and abs(plan.post_trade.get(c.name, c.weight) - c.goal) > max((c.upper - c.lower) / 4, 1e-4)
    ]


def _goal_gap(plan: Plan) -> float:
    return sum(abs(plan.post_trade.get(c.name, c.weight) - c.goal) for c in plan.classes if not c.cash)


def _why_idle(plan: Plan) -> str:
    return "; ".join(plan.notes) if plan.notes else "every class is already at its goal"
