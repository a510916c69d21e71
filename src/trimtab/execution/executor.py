"""Carrying out a plan: legs in order, each through the gate, the journal and an execution algorithm.

The executor never decides *what* to trade (the planner did, from actual holdings); it decides *how*: the
order of the legs, the algorithm, the price, the slicing, and when to stop. It stops a leg at the first gate
refusal, definitive rejection or unresolved order, records why, and goes on with the next leg only when that
is safe (an unresolved order stops the whole plan: the next reconciliation settles it first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from trimtab.domain.plan import Side, Trade
from trimtab.errors import OrderRejectedError, RetryableError
from trimtab.execution.algos import run_limit_chase, run_market, run_twap, twap_slices
from trimtab.execution.config import ExecutionConfig
from trimtab.execution.crash import crash_point
from trimtab.execution.gate import GateContext, GateRefusedError, PreTradeGate
from trimtab.execution.ids import client_order_id
from trimtab.execution.legs import Leg, legs_from_trades
from trimtab.execution.tracker import OrderTracker
from trimtab.storage.journal import FINAL_STATUSES, Journal, OrderRecord
from trimtab.venues.ports import OrderRequest, OrderType, Ticker, Venue, VenueMarket


@dataclass
class ExecutionReport:
    """What a plan's execution did: its orders, the refusals and the orders still unresolved."""

    plan_id: str
    orders: list[OrderRecord] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return not self.unresolved

    def orders_json(self) -> list[dict[str, Any]]:
        """The ``orders`` list of the run command's JSON line."""
        return [
            {
                "client_order_id": o.client_order_id,
                "symbol": o.symbol,
                "side": o.side,
                "amount": o.amount,
                "filled": o.filled,
                "status": o.status,
                "type": o.order_type,
                "average_price": o.average_price,
                "fee": o.fee,
            }
            for o in self.orders
        ]


@dataclass
class _Counters:
    cycle_orders: int = 0
    cycle_notional: float = 0.0
    day_orders: int = 0
    day_notional: float = 0.0


class Executor:
    """Executes plans on one venue, journaling every order before it is sent.

    Parameters
    ----------
    venue, journal, config:
        Where to trade, where to write, and how.
    markets:
        The venue's markets (steps, minimums) for the gate.
    clock, sleep:
        Injected time, so tests run without waiting.
    halted:
        Called before every order: ``(halted, reason)``; a kill switch pulled mid-plan stops the next order.
    """

    def __init__(
        self,
        venue: Venue,
        journal: Journal,
        config: ExecutionConfig,
        markets: Mapping[str, VenueMarket],
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        halted: Callable[[], tuple[bool, str]] = lambda: (False, ""),
    ) -> None:
        self.venue = venue
        self.journal = journal
        self.config = config
        self.gate = PreTradeGate(config, markets)
        self.tracker = OrderTracker(venue, journal, config, clock, sleep)
        self.clock = clock
        self.sleep = sleep
        self.halted = halted

    def execute(
        self,
        plan_id: str,
        trades: Sequence[Trade],
        *,
        equity: float,
        cycle: int = 0,
        reducing_only: bool = False,
        leverage: float | None = None,
    ) -> ExecutionReport:
        """Carry out ``trades`` (already approved) and report the orders.

        ``leverage`` is set on a derivative before a leg opens a new position on it (the policy's
        ``hedge_leverage``), so the venue's default (often 20x) never applies; an existing position keeps its own.

        Returns
        -------
        ExecutionReport
            Every order of the plan as journaled; ``converged`` is False when one is still unresolved.
        """
        report = ExecutionReport(plan_id)
        counters = self._day_counters()
        positions = {p.symbol: p.amount for p in self.venue.fetch_positions()}
        legs = legs_from_trades(trades, positions)
        leveraged: set[str] = set()
        for number, leg in enumerate(legs):
            if number > 0:
                crash_point("between_legs")
            opens = leg.derivative and not leg.reduce_only and positions.get(leg.symbol, 0.0) == 0.0
            if opens and leverage is not None and leg.symbol not in leveraged:
                self.venue.set_leverage(leg.symbol, leverage)
                leveraged.add(leg.symbol)
            run = _LegRun(self, leg, plan_id, equity, reducing_only, counters, report, cycle)
            run.execute()
            if run.unresolved:
                break  # never trade past an order whose fate is unknown
        report.orders = self.journal.orders(plan_id=plan_id)
        report.unresolved = [o.client_order_id for o in report.orders if o.status not in FINAL_STATUSES]
        return report

    def _day_counters(self) -> _Counters:
        now = self.clock().astimezone(UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        today = self.journal.orders_since(midnight)
        notional = sum(_counted_notional(o) for o in today if o.status != "rejected")
        return _Counters(day_orders=len(today), day_notional=notional)

    def record_refusal(self, cycle: int, leg: Leg, message: str, rule: str) -> None:
        self.journal.add_decision(
            timestamp=self.clock(),
            cycle=cycle,
            kind="guard",
            reason=f"{leg.symbol} {leg.side.value} {leg.amount:g}: {message}",
            payload={"rule": rule, "symbol": leg.symbol, "leg": leg.index},
        )


def _counted_notional(order: OrderRecord) -> float:
    """What an order counts toward the notional caps: all of it while it may fill, what it filled once final."""
    price = order.price or order.average_price or 0.0
    if order.status in FINAL_STATUSES:
        return order.filled * (order.average_price or price)
    return order.amount * price


class _LegRun:
    """One leg's execution: the :class:`~trimtab.execution.algos.LegContext` the algorithms drive."""

    def __init__(
        self,
        executor: Executor,
        leg: Leg,
        plan_id: str,
        equity: float,
        reducing_only: bool,
        counters: _Counters,
        report: ExecutionReport,
        cycle: int,
    ) -> None:
        config = executor.config
        self.executor = executor
        self.leg = leg
        self.plan_id = plan_id
        self.equity = equity
        self.reducing_only = reducing_only
        self.counters = counters
        self.report = report
        self.cycle = cycle
        self.side = leg.side
        self.chase_count = config.chase_count
        self.chase_interval_s = config.chase_interval_s
        self.final_wait_s = config.final_wait_s
        self.limit_at: str = config.limit_price
        self.market_fallback = config.market_fallback
        self.child = 0
        self.unresolved = False
        self.refused = False
        self.intent_id: int | None = None

    @property
    def stopped(self) -> bool:
        return self.unresolved or self.refused

    def execute(self) -> None:
        executor, leg, config = self.executor, self.leg, self.executor.config
        intent = executor.journal.add_intent(
            plan_id=self.plan_id,
            leg=leg.index,
            class_name=leg.class_name,
            symbol=leg.symbol,
            side=leg.side.value,
            amount=leg.amount,
            reduce_only=leg.reduce_only,
            reference_price=leg.reference_price,
            algo=config.algo,
            created_at=executor.clock(),
        )
        self.intent_id = intent.id
        market = config.algo == "market"
        if config.algo == "twap" or leg.notional > config.twap_threshold:
            slices = twap_slices(leg.notional, config.twap_slice_notional, config.twap_max_slices)
            sent = run_twap(self, leg.amount, slices, config.twap_window_s, market)
        elif market:
            sent = run_market(self, leg.amount)
        else:
            sent = run_limit_chase(self, leg.amount)
        filled = self.filled(sent)
        if self.unresolved:
            status = "unresolved"
        elif filled >= leg.amount * (1 - 1e-6):
            status = "done"
        elif self.refused and filled == 0:
            status = "refused"
        else:
            status = "partial"
        executor.journal.set_intent_status(intent.id, status)

    # -- LegContext ------------------------------------------------------------------------------------
    def touch(self) -> Ticker:
        tickers = self.executor.venue.fetch_tickers([self.leg.symbol])
        if self.leg.symbol not in tickers:
            raise RetryableError(f"no ticker for {self.leg.symbol}")
        return tickers[self.leg.symbol]

    def wait(self, client_order_id: str, seconds: float) -> OrderRecord:
        order = self.executor.tracker.wait_final(client_order_id, seconds)
        self._note(order)
        return order

    def cancel(self, client_order_id: str) -> OrderRecord:
        order = self.executor.tracker.cancel(client_order_id)
        self._note(order)
        if order.status in FINAL_STATUSES:
            # The caps count what traded or may still trade: a re-priced chase does not count its amount twice.
            unfilled = max(order.amount - order.filled, 0.0) * (order.price or order.average_price or 0.0)
            self.counters.cycle_notional -= unfilled
            self.counters.day_notional -= unfilled
        return order

    def filled(self, client_order_ids: list[str]) -> float:
        total = 0.0
        for cid in client_order_ids:
            order = self.executor.journal.order(cid)
            total += 0.0 if order is None else order.filled
        return total

    def sleep(self, seconds: float) -> None:
        self.executor.sleep(seconds)

    def send(self, order_type: OrderType, amount: float, price: float | None) -> OrderRecord | None:
        executor, leg = self.executor, self.leg
        halted, reason = executor.halted()
        position = 0.0
        if leg.derivative:
            position = next((p.amount for p in executor.venue.fetch_positions() if p.symbol == leg.symbol), 0.0)
            if leg.reduce_only:
                amount = min(amount, abs(position))
        elif leg.side is Side.SELL:
            # Never sell more coins than the account holds (a plan sized before fees, or a dust remainder).
            base = leg.symbol.split("/", 1)[0]
            amount = min(amount, max(executor.venue.fetch_balances().get(base, 0.0), 0.0))
        amount = executor.gate.round_amount(leg.symbol, amount)
        try:
            ticker = self.touch()
        except RetryableError as error:
            self._refuse(str(error), "price")
            return None
        fresh = ticker.mark if (leg.derivative and ticker.mark) else ticker.mid
        if executor.gate.is_dust(leg.symbol, amount, price or fresh):
            return None
        request = OrderRequest(
            client_order_id=client_order_id(self.plan_id, leg.index, self.child),
            symbol=leg.symbol,
            side=leg.side,
            type=order_type,
            amount=amount,
            price=price,
            reduce_only=leg.reduce_only,
        )
        context = GateContext(
            equity=self.equity,
            halted=halted,
            halt_reason=reason,
            reducing_only=self.reducing_only,
            cycle_orders=self.counters.cycle_orders,
            cycle_notional=self.counters.cycle_notional,
            day_orders=self.counters.day_orders,
            day_notional=self.counters.day_notional,
            position=position,
        )
        try:
            executor.gate.check(request, leg.reference_price, fresh, context)
        except GateRefusedError as refusal:
            self._refuse(str(refusal), refusal.rule)
            return None
        self.child += 1
        notional = amount * (price or fresh)
        self.counters.cycle_orders += 1
        self.counters.day_orders += 1
        self.counters.cycle_notional += notional
        self.counters.day_notional += notional
        try:
            order = executor.tracker.submit(request, self.plan_id, self.intent_id)
        except OrderRejectedError as error:
            self._refuse(f"rejected by the venue: {error}", "rejected")
            return None
        self._note(order)
        return order

    def _note(self, order: OrderRecord) -> None:
        if order.status in ("pending", "ambiguous"):
            self.unresolved = True

    def _refuse(self, message: str, rule: str) -> None:
        self.refused = True
        self.report.refusals.append(message)
        self.executor.record_refusal(self.cycle, self.leg, message, rule)
