"""Resting limit orders meet the market: what a paper account's open orders fill as time passes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from trimtab.errors import OrderRejectedError
from trimtab.venues.paper.book import PaperBook
from trimtab.venues.ports import OrderStatus, OrderType
from trimtab.venues.simulation import Liquidity

_EPS = 1e-12
Touch = Callable[[str], tuple[float, float, float]]
"""Symbol -> (bid, ask, reference) now; raises OrderRejectedError when the symbol has no price."""


def match_resting(book: PaperBook, touch: Touch, depth: float, now: datetime) -> bool:
    """Fill every resting limit order priced at or through its own side's touch, up to ``depth`` (quote).

    The fill is at the order's limit price, as a maker. A reduce-only order fills no more than the position
    left, and is cancelled when nothing is left. Returns True when an order changed.
    """
    changed = False
    for order in book.orders.values():
        if not OrderStatus(order["status"]).is_open or order["type"] != OrderType.LIMIT.value:
            continue
        try:
            bid, ask, _ = touch(order["symbol"])
        except OrderRejectedError:
            continue
        price = float(order["price"])
        at_touch = price >= bid if order["side"] == "buy" else price <= ask
        if not at_touch:
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
        changed = True
    return changed
