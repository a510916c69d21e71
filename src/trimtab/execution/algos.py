"""Execution algorithms: market, limit with a chase and a market fallback, and TWAP slicing.

Each works on one leg through a :class:`LegContext`, which sends orders (through the gate and the journal),
reads a fresh touch, waits, and cancels. Every algorithm returns the client ids of the orders it sent.

* **market**: one market order for the amount.
* **limit**: a limit order at the touch (a buy at the bid, a sell at the ask) or at the mid; if it is not
  filled within ``chase_interval_s`` it is cancelled and re-priced, ``chase_count`` times; then what is still
  unfilled (and only that) goes as a market order when ``market_fallback`` is on.
* **twap**: a leg above ``twap_threshold`` (or every leg with ``algo = "twap"``) is cut into equal child slices
  spread over ``twap_window_s``, each executed with the limit algorithm (or market ones under ``algo = "market"``).
"""

from __future__ import annotations

import math
from typing import Protocol

from trimtab.domain.plan import Side
from trimtab.storage.journal import FINAL_STATUSES, OrderRecord
from trimtab.venues.ports import OrderType, Ticker


class LegContext(Protocol):
    """What an algorithm may do with its leg."""

    side: Side
    chase_count: int
    chase_interval_s: float
    final_wait_s: float
    limit_at: str
    market_fallback: bool

    def send(self, order_type: OrderType, amount: float, price: float | None) -> OrderRecord | None:
        """Gate, journal and send an order; None when the amount is dust or the gate refused it."""
        ...

    def touch(self) -> Ticker: ...

    def wait(self, client_order_id: str, seconds: float) -> OrderRecord: ...

    def cancel(self, client_order_id: str) -> OrderRecord: ...

    def filled(self, client_order_ids: list[str]) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    @property
    def stopped(self) -> bool:
        """True once the leg must not send more (gate refusal, unresolved order, rejection)."""
        ...


def run_market(leg: LegContext, amount: float) -> list[str]:
    """One market order for ``amount``; waits for it to be final."""
    sent: list[str] = []
    order = leg.send(OrderType.MARKET, amount, None)
    if order is not None:
        sent.append(order.client_order_id)
        leg.wait(order.client_order_id, leg.final_wait_s)
    return sent


def _limit_price(leg: LegContext, ticker: Ticker) -> float:
    if leg.limit_at == "mid":
        return ticker.mid
    return ticker.bid if leg.side is Side.BUY else ticker.ask


def run_limit_chase(leg: LegContext, amount: float) -> list[str]:
    """Limit at the touch (or mid), re-priced ``chase_count`` times, then a market order for the remainder."""
    sent: list[str] = []
    for _ in range(leg.chase_count + 1):
        remaining = amount - leg.filled(sent)
        if remaining <= 0 or leg.stopped:
            return sent
        order = leg.send(OrderType.LIMIT, remaining, _limit_price(leg, leg.touch()))
        if order is None:
            return sent
        sent.append(order.client_order_id)
        order = leg.wait(order.client_order_id, leg.chase_interval_s)
        if order.status not in FINAL_STATUSES:
            order = leg.cancel(order.client_order_id)
            if order.status not in FINAL_STATUSES:
                return sent  # unresolved: the next reconciliation settles it, nothing more is sent
    remaining = amount - leg.filled(sent)
    if leg.market_fallback and remaining > 0 and not leg.stopped:
        sent += run_market(leg, remaining)
    return sent


def twap_slices(notional: float, slice_notional: float, max_slices: int) -> int:
    """How many child slices a leg of ``notional`` is cut into."""
    return max(1, min(max_slices, math.ceil(notional / slice_notional)))


def run_twap(leg: LegContext, amount: float, slices: int, window_s: float, market: bool) -> list[str]:
    """``slices`` equal child slices over ``window_s``; the last one takes whatever is left."""
    sent: list[str] = []
    interval = window_s / slices if slices > 1 else 0.0
    for index in range(slices):
        if leg.stopped:
            break
        goal = amount * (index + 1) / slices
        child = goal - leg.filled(sent)
        if child > 0:
            sent += run_market(leg, child) if market else run_limit_chase(leg, child)
        if leg.stopped:
            break  # a refused or unresolved slice ends the leg now, not after waiting out its interval
        if index < slices - 1 and interval > 0:
            leg.sleep(interval)
    return sent
