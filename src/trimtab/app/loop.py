"""The live loop: reconcile, value, trigger, plan, guard, execute, journal; one cycle at a time.

Each cycle:

1. **Halt check**: the KILL file or the journal's halt flag (``trimtab kill``) halts new orders.
2. **Reconcile** the journal with the venue (:mod:`trimtab.app.reconcile`); trade only once it converged.
   Cash flows recorded since the last cycle (``trimtab flow``) are taken (:mod:`trimtab.app.flows`): the
   session steers them this cycle.
3. **Read** balances, positions and prices from the venue; stale or outlying prices pause the cycle.
4. **Decide**: the run's :class:`~trimtab.session.RebalancingSession` (the one a backtest drives too) plans on
   the *actual* holdings from its remembered state, with volatility and betas estimated from the run's
   prices (:mod:`trimtab.app.estimates`), and runs its guards: the liquidation buffer (reducing only, and a
   deleveraging step) and the funding monitor. Equity that cannot be computed halts the cycle (fail closed).
5. **Record the decisions**: the trigger, each guard's verdict, a trigger that fired with nothing to trade.
6. **Approve** (``--approve``), then **execute** through :class:`trimtab.execution.Executor`, which journals
   every order before sending it.
7. **Record** the valuation, the decisions, and one summary line; the session moves its state forward
   (the last rebalance only when the plan was carried out) and the journal stores it
   (:mod:`trimtab.app.session_store`).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from trimtab.app.approval import same_trades
from trimtab.app.estimates import HistoryEstimator, journal_prices
from trimtab.app.flows import describe, take_flows
from trimtab.app.funding import PlanFunding
from trimtab.app.holdings import read_holdings
from trimtab.app.killswitch import halt_status
from trimtab.app.lots import current_lots
from trimtab.app.market import price_problems, read_market
from trimtab.app.reconcile import reconcile
from trimtab.app.session_store import load_session_state, save_session_state
from trimtab.app.snapshots import risk_payload
from trimtab.domain.accounts import Account
from trimtab.domain.instruments import parse_symbol
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Plan, Trade
from trimtab.domain.portfolio import Portfolio
from trimtab.errors import RetryableError
from trimtab.execution.config import ExecutionConfig
from trimtab.execution.executor import ExecutionReport, Executor
from trimtab.execution.ids import new_plan_id
from trimtab.planner import make_plan
from trimtab.policy.config import Policy
from trimtab.policy.estimation import PriceWindow
from trimtab.session import Decision, GuardSettings, RebalancingSession
from trimtab.storage import Store
from trimtab.storage.journal import Journal, OverfillError
from trimtab.storage.state import StateStore
from trimtab.valuation.valuate import valuate
from trimtab.venues.book import AccountBook
from trimtab.venues.ports import Venue

log = logging.getLogger("trimtab.run")
Approver = Callable[[str, Sequence[Trade]], str]


@dataclass
class CycleResult:
    """One cycle, as the ``--format json`` line and the summary log line report it."""

    cycle: int
    timestamp: datetime
    equity: float | None
    triggered: bool
    halted: bool
    orders: list[dict[str, Any]] = field(default_factory=list)
    plan_id: str | None = None
    paused: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    guards: list[str] = field(default_factory=list)
    converged: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "cycle": self.cycle,
            "timestamp": self.timestamp.isoformat().replace("+00:00", "Z"),
            "equity": self.equity,
            "triggered": self.triggered,
            "halted": self.halted,
            "orders": self.orders,
            "plan_id": self.plan_id,
            "paused": self.paused,
            "decisions": self.decisions,
            "guards": self.guards,
            "reconciled": self.converged,
        }


class RunLoop:
    """Runs cycles against one venue and one journal (the caller holds the instance lock).

    Parameters
    ----------
    venue, store, policy, config:
        Where to trade, the journal, the policy, and the execution settings and guards.
    clock, sleep:
        Injected time (a replay's clock is its bar's close).
    dry_run:
        Plan and record, never send an order.
    approver:
        ``--approve``: returns ``approved``, ``rejected`` or ``pending`` for a plan's trades.
    volatility:
        Realised volatility per asset now, for adaptive bands, replacing the session's estimate; without it
        (the usual case) the session estimates it, as the target model estimates what it needs, from the
        window of prices the run gathers (:mod:`trimtab.app.estimates`; a replay adds the bars before its
        first one), the snapshot's own volatilities taking precedence.
    stopping:
        Returns why the run is stopping (a signal), or None; once it does, no further order is sent.
    accounts:
        The portfolio's ``[[account]]`` tables (a live run's book).
    venue_liquidation:
        Keep each position's liquidation price as the venue reports it (a live exchange's, which takes
        precedence); off (the paper venue, whose figure is its simulation's), the account model computes it.
    """

    def __init__(
        self,
        venue: Venue,
        store: Store,
        policy: Policy,
        config: ExecutionConfig,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        dry_run: bool = False,
        approver: Approver | None = None,
        volatility: Callable[[], Mapping[str, float] | None] | None = None,
        stopping: Callable[[], str | None] | None = None,
        accounts: Sequence[Account] = (),
        venue_liquidation: bool = False,
    ) -> None:
        self.venue = venue
        self.accounts = tuple(accounts)
        self.venue_liquidation = venue_liquidation
        self.store = store
        self.policy = policy
        self.config = config
        self.clock = clock
        self.sleep = sleep
        self.dry_run = dry_run
        self.approver = approver
        self.volatility = volatility
        self.stopping = stopping
        self.estimator = HistoryEstimator(policy)
        self._journal_read = False
        self._window: PriceWindow | None = None
        self.journal = Journal(store)
        self.state = StateStore(store)
        self.session = RebalancingSession(
            policy,
            GuardSettings(config.liquidation_buffer, config.deleverage_fraction, config.funding_switch),
            load_session_state(self.state),
        )
        self.markets = venue.load_markets()
        # an account book moves assets between its accounts; transfers a killed run left are settled first
        self.funding = PlanFunding(venue, store, now=clock, sleep=sleep) if isinstance(venue, AccountBook) else None
        if self.funding is not None:
            self.funding.resume()
        self.executor = Executor(
            venue, self.journal, config, self.markets, clock=clock, sleep=sleep, halted=self.halted
        )

    def halted(self) -> tuple[bool, str]:
        """The kill switch, the halt flag, or a stop request (no order leaves once the run is stopping)."""
        halted, reason = halt_status(self.store, self.state)
        if not halted and self.stopping is not None:
            stop = self.stopping()
            if stop is not None:
                return True, stop
        return halted, reason

    # -- one cycle ---------------------------------------------------------------------------------------
    def cycle(self) -> CycleResult:
        """Run one cycle; see the module docstring."""
        number = self.journal.last_cycle() + 1
        now = self.clock()
        halted, halt_reason = self.halted()
        result = CycleResult(number, now, None, False, halted)
        try:
            reconciliation = reconcile(self.executor.tracker, self.journal, self.clock, number)
        except RetryableError as error:
            return self._pause(result, [f"venue unavailable while reconciling: {error}"])
        except OverfillError as error:
            return self._halt_for_human(result, str(error))
        result.converged = reconciliation.converged
        for flow, credited in take_flows(self.store, self.state, self.venue):
            taken = {"taken": True, "flow": flow.id, "amount": flow.amount, "credited": credited}
            self._decide(result, "cash_flow", describe(flow, credited), taken)
        try:
            portfolio, position_symbols = self._holdings()
            read = read_market(self.venue, self.policy, self.markets, position_symbols, self.clock)
        except RetryableError as error:
            return self._pause(result, [f"venue unavailable: {error}"])
        recent = [s["payload"].get("prices", {}) for s in self.journal.snapshots(self.config.price_median_window)]
        problems = price_problems(read, now, recent, self.config.max_price_age_s, self.config.outlier_threshold) + [
            f"no price for {symbol}" for symbol in read.missing if self._needed(symbol, portfolio)
        ]
        self._gather(result, read.snapshot, trusted=not problems)
        self.session.state = replace(load_session_state(self.state), lots=current_lots(self.store, self.policy, now))
        try:
            decision = self.session.decide(portfolio, read.snapshot, window=self._window, volatility=self._volatility())
        except (KeyError, ValueError) as error:
            return self._fail_closed(result, f"equity cannot be computed: {type(error).__name__}: {error}")
        plan = decision.plan
        if not (math.isfinite(plan.equity) and plan.equity > 0):
            return self._fail_closed(result, f"equity cannot be computed ({plan.equity})")
        result.equity = plan.equity
        result.triggered = plan.triggered
        self._remember(plan, read.snapshot, portfolio, result)
        for note in decision.notes:
            if note.kind == "estimate":
                self._decide(result, note.kind, note.reason)
        if problems:
            return self._pause(result, problems)
        for note in decision.notes:
            if note.kind != "estimate":
                self._decide(result, note.kind, note.reason)
        trades = list(decision.trades)
        if not trades:
            self._close(decision, True, plan.equity, portfolio)
            self._lapse_approvals()
            return self._finish(result)
        if halted:
            self._decide(result, "halt", f"{len(trades)} order(s) not sent: {halt_reason}")
            self._close(decision, False, plan.equity, portfolio)
            return self._finish(result)
        if not reconciliation.converged:
            self._close(decision, False, plan.equity, portfolio)
            return self._finish(result)
        try:
            carried_out = self._execute(result, decision)
            after, held = plan.equity, portfolio
            if any(order["filled"] > 0 for order in result.orders):
                after, held = self._record_after_trades(result, read.snapshot)
            self._close(decision, carried_out, after, held)
        except RetryableError as error:
            # Orders already sent are journaled; the next cycle's reconciliation settles them.
            result.converged = False
            return self._pause(result, [f"venue unavailable mid-plan: {error}"])
        except OverfillError as error:
            result.converged = False
            return self._halt_for_human(result, str(error))
        return self._finish(result)

    def _close(self, decision: Decision, carried_out: bool, equity_after: float, held: Portfolio) -> None:
        """Move the session past this cycle's decision and store its state."""
        before = self.session.state
        after = self.session.close(decision, carried_out=carried_out, equity_after=equity_after, held=held.derivatives)
        save_session_state(self.state, after, before)

    # -- steps ---------------------------------------------------------------------------------------------
    def _holdings(self) -> tuple[Portfolio, list[str]]:
        return read_holdings(self.venue, self.policy, self.accounts, venue_liquidation=self.venue_liquidation)

    def _needed(self, symbol: str, portfolio: Portfolio) -> bool:
        instrument = parse_symbol(symbol)
        if instrument.is_derivative:
            return portfolio.position_amount(symbol) != 0
        # Held coins must be priced; so must every coin the planner may buy (the cash class is never bought).
        return portfolio.spot_amount(instrument.base) != 0 or any(
            instrument.base in c.assets and c.target > 0 and not c.cash for c in self.policy.classes
        )

    def _gather(self, result: CycleResult, market: MarketSnapshot, trusted: bool) -> None:
        """Add this cycle's prices to the run's history and keep the window the session estimates from."""
        if not self.estimator.needed:
            return
        if not self._journal_read:
            # The prices of earlier runs on this journal count too (a restart does not start from nothing).
            assert self.estimator.horizon is not None
            self.estimator.seed(journal_prices(self.store, result.timestamp - self.estimator.horizon))
            self._journal_read = True
        # Stale or outlying prices pause the cycle; they stay out of the history too.
        self._window = self.estimator.window(result.timestamp, market.prices, record=trusted)

    def _volatility(self) -> Mapping[str, float] | None:
        return self.volatility() if self.volatility is not None else None

    def _record_after_trades(self, result: CycleResult, market: MarketSnapshot) -> tuple[float, Portfolio]:
        """Value the holdings again once the cycle traded, at the same prices, so ``status`` shows the result.

        Returns the equity after the trades and the holdings the venue reports.
        """
        portfolio, _ = self._holdings()
        volatility, _ = self.session.estimate(self._window, market)
        context = self.session.context(self._volatility() or volatility, window=self._window)
        # The book after the trades against its bands: the flow this cycle steered is not steered again.
        after = make_plan(portfolio, market, self.policy, replace(context, flow=0.0))
        self._remember(after, market, portfolio, result, after_trades=True)
        return after.equity, portfolio

    def _remember(
        self, plan: Plan, market: MarketSnapshot, portfolio: Portfolio, result: CycleResult, after_trades: bool = False
    ) -> None:
        self.journal.save_snapshot(
            timestamp=result.timestamp,
            cycle=result.cycle,
            equity=plan.equity,
            halted=result.halted,
            payload={
                "base_currency": plan.base_currency,
                "after_trades": after_trades,
                "classes": [c.to_dict() for c in plan.classes],
                "prices": dict(market.prices),
                **risk_payload(valuate(portfolio, market, self.policy.asset_classes())),
                "triggered": plan.triggered,
                "trigger_reason": plan.trigger_reason,
                "margin": plan.margin.to_dict(),
                # What the venue reported this cycle: the journal's record of balances and positions.
                "holdings": {
                    "spot": portfolio.spot_totals,
                    "positions": {
                        p.symbol: {"amount": p.amount, "entry_price": p.entry_price, "leverage": p.leverage}
                        for p in portfolio.derivatives
                    },
                },
            },
        )

    def _fund(self, plan_id: str, plan: Plan) -> list[str]:
        """Carry out the plan's transfers (the orders that need them wait until they are done)."""
        if self.funding is None:
            return [f"{self.venue.name} is one account: it cannot move assets between accounts"]
        return self.funding.fund(plan_id, plan.transfers)

    def _execute(self, result: CycleResult, decision: Decision) -> bool:
        """Journal the plan and send its orders; True when the plan was carried out (not held for approval,
        not a dry run, every order settled)."""
        now = result.timestamp
        plan, trades = decision.plan, list(decision.trades)
        plan_id = new_plan_id(now, self.venue.name, result.cycle, uuid.uuid4().hex)
        payload = plan.to_dict()
        payload["executed_trades"] = [t.to_dict() for t in trades]
        status = "dry-run" if self.dry_run else "executing"
        if not self.dry_run and self.approver is not None:
            status = self._approval(plan_id, trades)
        self.journal.save_plan(
            plan_id,
            created_at=now,
            cycle=result.cycle,
            venue=self.venue.name,
            equity=plan.equity,
            triggered=plan.triggered,
            reason=plan.trigger_reason,
            status=status,
            payload=payload,
            policy_hash=self.policy.config_hash(),
        )
        result.plan_id = plan_id
        if status != "executing":
            self._decide(result, "plan", f"plan {plan_id} is {status}; no order sent")
            return False
        if plan.transfers:
            problems = self._fund(plan_id, plan)
            if problems:
                self.journal.set_plan_status(plan_id, "unresolved")
                self._decide(result, "transfer", "; ".join(problems) + "; no order sent")
                result.converged = False
                return False
        report: ExecutionReport = self.executor.execute(
            plan_id,
            trades,
            equity=plan.equity,
            cycle=result.cycle,
            reducing_only=decision.reducing_only,
            leverage=self.policy.rebalance.hedge_leverage,
        )
        self.journal.set_plan_status(plan_id, "done" if report.converged else "unresolved")
        result.orders = report.orders_json()
        result.converged = report.converged
        result.decisions += report.refusals
        result.guards += report.refusals
        if not any(o.filled > 0 for o in report.orders) and decision.triggered:
            why = "; ".join(report.refusals) or "no order filled"
            self._decide(result, "idle", f"the trigger fired but nothing was traded: {why}")
        return report.converged

    def _approval(self, plan_id: str, trades: list[Trade]) -> str:
        for pending in self.journal.plans(status="approved"):
            if same_trades(pending["payload"].get("executed_trades", []), trades):
                self.journal.set_plan_status(pending["id"], "superseded")
                return "executing"
            self.journal.set_plan_status(pending["id"], "lapsed")
        for pending in self.journal.plans(status="pending"):
            self.journal.set_plan_status(pending["id"], "lapsed")
        assert self.approver is not None
        answer = self.approver(plan_id, trades)
        return "executing" if answer == "approved" else answer

    def _lapse_approvals(self) -> None:
        """Nothing to trade any more: an approval given (or awaited) for an earlier plan no longer applies."""
        if self.approver is None:
            return
        for status in ("pending", "approved"):
            for plan in self.journal.plans(status=status):
                self.journal.set_plan_status(plan["id"], "lapsed")

    def _decide(self, result: CycleResult, kind: str, reason: str, payload: dict[str, Any] | None = None) -> None:
        self.journal.add_decision(
            timestamp=result.timestamp, cycle=result.cycle, kind=kind, reason=reason, payload=payload
        )
        result.decisions.append(reason)

    def _pause(self, result: CycleResult, problems: list[str]) -> CycleResult:
        result.paused = problems
        for problem in problems:
            self._decide(result, "pause", problem)
        return self._finish(result)

    def _halt_for_human(self, result: CycleResult, reason: str) -> CycleResult:
        """The venue and the journal disagree in a way no retry fixes: halt until a person resumes."""
        self.state.set_halted(True, f"needs a human: {reason}")
        result.halted = True
        self._decide(result, "halt", f"halted until `trimtab resume`: {reason}")
        return self._finish(result)

    def _fail_closed(self, result: CycleResult, reason: str) -> CycleResult:
        result.halted = True
        self._decide(result, "halt", f"no orders this cycle: {reason}")
        return self._finish(result)

    def _finish(self, result: CycleResult) -> CycleResult:
        log.info(
            "cycle %d: equity %s, triggered %s, %d order(s), halted %s%s",
            result.cycle,
            "unknown" if result.equity is None else f"{result.equity:.2f}",
            result.triggered,
            len(result.orders),
            result.halted,
            f", paused: {'; '.join(result.paused)}" if result.paused else "",
            extra={
                "cycle": result.cycle,
                "equity": result.equity,
                "triggered": result.triggered,
                "orders": len(result.orders),
                "halted": result.halted,
                "paused": bool(result.paused),
            },
        )
        return result
