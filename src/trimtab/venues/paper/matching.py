"""Resting limit orders meet the market: what a paper account's open orders fill as time passes.

A resting limit order fills only once the market has traded *through* it since it was placed (or last
matched): a buy when the price went strictly below its limit, a sell when it went strictly above. It fills at
its own limit price, as a maker (maker fee), up to ``depth`` of quote notional per match. A fill is
therefore never better than the market was: a buy pays its limit, which is above a price that actually
traded, never the bid of a market that did not move.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from trimtab.venues.paper.book import PaperBook
from trimtab.venues.paper.persistence import iso, parse_time
from trimtab.venues.ports import OrderStatus, OrderType
from trimtab.venues.simulation import Liquidity

_EPS = 1e-12
TradedRange = Callable[[str, datetime], tuple[float, float] | None]
"""(symbol, since) -> the lowest and highest traded price after ``since``, None if nothing traded since."""


def match_resting(book: PaperBook, traded_range: TradedRange, depth: float, now: datetime) -> bool:
    """Fill the resting limit orders the market traded through; True when an order changed.

    A reduce-only order fills no more than the position left, and is cancelled when nothing is left.
    """
    changed = False
    for order in book.orders.values():
        if not OrderStatus(order["status"]).is_open or order["type"] != OrderType.LIMIT.value:
            continue
        since = parse_time(order.get("matched_at") or order["timestamp"]) or now
        seen = traded_range(order["symbol"], since)
        if seen is None:
            continue
        low, high = seen
        price = float(order["price"])
        through = low < price if order["side"] == "buy" else high > price
        if not through:
            continue
        remaining = order["amount"] - order["filled"]
        if order["reduce_only"]:
            position = book.account.positions.get(order["symbol"])
            remaining = min(remaining, 0.0 if position is None else abs(position.amount))
            if remaining <= _EPS:
                order["status"] = OrderStatus.CANCELED.value
                changed = True
                continue
        take = min(remaining, depth / price)
        book.execute(order, take, price, Liquidity.MAKER, price, now)
        book.settle_status(order)
        order["matched_at"] = iso(now)
        changed = True
    return changed
