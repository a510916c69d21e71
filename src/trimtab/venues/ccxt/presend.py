"""Checks an order must pass before it is sent: amounts truncated to the step, minimums, notional.

An order refused here never reaches the exchange, so the refusal is definitive and cheap; Binance would
answer the same with -1013 (``LOT_SIZE``, ``NOTIONAL``) or -4164 (``MIN_NOTIONAL``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ccxt

from trimtab.errors import OrderRejectedError
from trimtab.venues.ccxt import parsing
from trimtab.venues.ports import OrderRequest, OrderType


def amount_to_send(
    exchange: Any,
    request: OrderRequest,
    market: Mapping[str, Any],
    reference_price: Callable[[], float | None],
    venue: str,
    redact: Callable[[str], str] = lambda text: text,
) -> float:
    """The amount, in contracts, that goes out for ``request``: ccxt's ``amount_to_precision`` (truncating).

    ``request.amount`` is in trimtab's units (:func:`~trimtab.venues.ccxt.parsing.unit_size`): coins for
    spot and linear contracts (divided by the contract size here), contracts for inverse ones (sent as is).

    ``reference_price`` is called only for a market order that needs its notional checked.

    Raises
    ------
    OrderRejectedError
        The amount is not positive, truncates to zero, or lies below the market's minimum amount or
        minimum notional (reduce-only derivative orders are exempt from the notional minimum, as on Binance).
    """
    size = parsing.unit_size(market)
    if request.amount <= 0:
        raise OrderRejectedError(f"{venue}: order amount must be positive, got {request.amount}")
    try:
        text = exchange.amount_to_precision(request.symbol, request.amount / size)
    except ccxt.BaseError as error:  # ccxt refuses amounts that truncate to nothing
        raise OrderRejectedError(redact(f"{venue}: amount {request.amount} is below the step: {error}")) from None
    amount = float(text)
    if amount <= 0:
        raise OrderRejectedError(f"{venue}: amount {request.amount} rounds to 0 on {request.symbol}")
    limits = market.get("limits") or {}
    minimum = parsing.number((limits.get("amount") or {}).get("min"))
    if minimum is not None and amount < minimum:
        raise OrderRejectedError(
            f"{venue}: amount {amount * size} is below the minimum {minimum * size} of {request.symbol}"
        )
    min_notional = parsing.number((limits.get("cost") or {}).get("min"))
    exempt = request.reduce_only and bool(market.get("contract"))
    if min_notional and not exempt:
        price = request.price if request.type is OrderType.LIMIT else reference_price()
        # an inverse contract's notional is its face value in the quote (contracts x contract size)
        notional = amount * parsing.contract_size(market) if market.get("inverse") else None
        if notional is None and price is not None:
            notional = amount * size * price
        if notional is not None and notional < min_notional:
            raise OrderRejectedError(
                f"{venue}: notional {notional:.2f} is below the minimum {min_notional} of {request.symbol}"
            )
    return amount
