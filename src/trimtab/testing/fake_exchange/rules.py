"""What the fake refuses before an order reaches the book, with Binance's codes and messages.

Each rule is Binance's documented one (see ``docs/venues.md`` for the table and the sources):

* client order id: ``^[\\.A-Z\\:/a-z0-9_-]{1,36}$`` (the ``newClientOrderId`` rule of the spot and
  futures "New Order" endpoints). Spot answers -1100 naming the rule; futures -4015.
* ``PRICE_FILTER``: ``minPrice <= price <= maxPrice`` and ``(price - minPrice) % tickSize == 0``.
  Spot -1013 "Filter failure: PRICE_FILTER"; futures -4014 "Price not increased by tick size.".
* ``LOT_SIZE``: ``minQty <= quantity <= maxQty`` and ``(quantity - minQty) % stepSize == 0``. Spot -1013
  "Filter failure: LOT_SIZE"; futures -4004 (below the minimum), -4005 (above the maximum),
  -4023 (off the step).
* ``NOTIONAL`` (spot) and ``MIN_NOTIONAL`` (futures, exempt when reduce-only): spot -1013
  "Filter failure: NOTIONAL"; futures -4164.
* ``PERCENT_PRICE_BY_SIDE`` (spot): a buy's price within ``[bidMultiplierDown, bidMultiplierUp]`` x the
  average price, a sell's within ``[askMultiplierDown, askMultiplierUp]``; ``PERCENT_PRICE`` (spot)
  within ``[multiplierDown, multiplierUp]`` for both. -1013 "Filter failure: <name>".
* futures ``PERCENT_PRICE``: a buy's limit at most ``multiplierUp`` x mark (-4016), a sell's at least
  ``multiplierDown`` x mark (-4024).

The fake's average price (Binance's ``avgPrice`` over ``avgPriceMins``) is the market's current price:
prices move only when a test moves them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from trimtab.testing.fake_exchange.errors import ExchangeRejectError

if TYPE_CHECKING:
    from trimtab.testing.fake_exchange.engine import MarketSpec

CLIENT_ORDER_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
CLIENT_ORDER_ID_RULE = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"


def check_client_order_id(family: str, client_order_id: str) -> None:
    """Binance's ``newClientOrderId`` rule."""
    if CLIENT_ORDER_ID.fullmatch(client_order_id):
        return
    if family == "spot":
        raise ExchangeRejectError(
            400,
            -1100,
            f"Illegal characters found in parameter 'newClientOrderId'; legal range is '{CLIENT_ORDER_ID_RULE}'.",
        )
    raise ExchangeRejectError(400, -4015, "Client order id is not valid.")


def _multiple(value: Decimal, start: Decimal, step: Decimal) -> bool:
    return step == 0 or (value - start) % step == 0


def check_price(spec: MarketSpec, price: float) -> None:
    """``PRICE_FILTER``: inside the range and on the tick."""
    value, tick, low = Decimal(repr(price)), Decimal(spec.tick), Decimal(spec.min_price or spec.tick)
    high = Decimal(spec.max_price)
    if value < low or value > high or not _multiple(value, low, tick):
        if spec.family == "spot":
            raise ExchangeRejectError(400, -1013, "Filter failure: PRICE_FILTER")
        if value < low:
            raise ExchangeRejectError(400, -4013, "Price less than min price.")
        if value > high:
            raise ExchangeRejectError(400, -4002, "Price greater than max price.")
        raise ExchangeRejectError(400, -4014, "Price not increased by tick size.")


def check_quantity(spec: MarketSpec, quantity: float) -> None:
    """``LOT_SIZE``: inside the range and on the step."""
    value, step, low = Decimal(repr(quantity)), Decimal(spec.amount_step), Decimal(spec.min_amount)
    high = Decimal(spec.max_amount)
    if low <= value <= high and _multiple(value, low, step):
        return
    if spec.family == "spot":
        raise ExchangeRejectError(400, -1013, "Filter failure: LOT_SIZE")
    if value < low:
        raise ExchangeRejectError(400, -4004, "Quantity less than min quantity.")
    if value > high:
        raise ExchangeRejectError(400, -4005, "Quantity greater than max quantity.")
    raise ExchangeRejectError(400, -4023, "Qty not increased by step size.")


def check_notional(spec: MarketSpec, notional: float, reduce_only: bool) -> None:
    """The minimum notional: ``NOTIONAL`` on spot, ``MIN_NOTIONAL`` on USD-M (reduce-only exempt)."""
    if notional >= spec.min_notional or spec.family == "coinm":
        return
    if spec.family == "spot":
        raise ExchangeRejectError(400, -1013, "Filter failure: NOTIONAL")
    if not reduce_only:
        raise ExchangeRejectError(
            400,
            -4164,
            f"Order's notional must be no smaller than {spec.min_notional:g} (unless you choose reduce only).",
        )


def check_percent_price(spec: MarketSpec, side: str, price: float) -> None:
    """Spot ``PERCENT_PRICE_BY_SIDE`` and ``PERCENT_PRICE``; futures ``PERCENT_PRICE`` against the mark."""
    if spec.family == "spot":
        average = spec.price
        if spec.percent_price_by_side is not None:
            bid_up, bid_down, ask_up, ask_down = spec.percent_price_by_side
            up, down = (bid_up, bid_down) if side == "BUY" else (ask_up, ask_down)
            if not average * down <= price <= average * up:
                raise ExchangeRejectError(400, -1013, "Filter failure: PERCENT_PRICE_BY_SIDE")
        if spec.percent_price is not None:
            up, down = spec.percent_price
            if not average * down <= price <= average * up:
                raise ExchangeRejectError(400, -1013, "Filter failure: PERCENT_PRICE")
        return
    if spec.percent_price is None:
        return
    up, down = spec.percent_price
    if side == "BUY" and price > spec.mark_price * up:
        raise ExchangeRejectError(400, -4016, "Price is higher than mark price multiplier cap.")
    if side == "SELL" and price < spec.mark_price * down:
        raise ExchangeRejectError(400, -4024, "Price is lower than mark price multiplier floor.")
