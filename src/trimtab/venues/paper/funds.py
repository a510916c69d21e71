"""What the paper account can afford: reserved funds, spot and margin checks, reduce-only limits.

The paper venue refuses what an exchange refuses (insufficient funds or margin, a reduce-only order that
would not shrink the position or would go past it), net of what resting orders already lock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trimtab.domain.accounts import AccountKind
from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.market import MarketRules, MarketSnapshot
from trimtab.domain.plan import Side
from trimtab.errors import OrderRejectedError
from trimtab.valuation.accounts import account_margins
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType, VenueMarket
from trimtab.venues.simulation import RealityModels, SimulatedAccount
from trimtab.venues.simulation.margin import quoted

_EPS = 1e-12


def reduce_only_amount(account: SimulatedAccount, request: OrderRequest) -> float:
    """The amount of a reduce-only order, refused unless it shrinks the position and stays within it."""
    if not request.reduce_only:
        return request.amount
    position = account.positions.get(request.symbol)
    held = 0.0 if position is None else position.amount
    reduces = (held > _EPS and request.side is Side.SELL) or (held < -_EPS and request.side is Side.BUY)
    if not reduces:
        raise OrderRejectedError(f"{request.symbol}: reduce-only order would not reduce the position ({held:g})")
    if request.amount > abs(held) * (1.0 + 1e-9):
        raise OrderRejectedError(f"{request.symbol}: reduce-only {request.amount:g} exceeds the position {abs(held):g}")
    return request.amount


def reserved(
    orders: Mapping[str, dict[str, Any]], models: RealityModels, leverage: Mapping[str, float]
) -> tuple[dict[str, float], float]:
    """Assets locked by resting orders: per asset for spot sells, and quote for buys and new margin."""
    assets: dict[str, float] = {}
    quote = 0.0
    for o in orders.values():
        if not OrderStatus(o["status"]).is_open:
            continue
        remaining = o["amount"] - o["filled"]
        instrument = parse_symbol(o["symbol"])
        price = float(o["price"] or 0.0)
        if instrument.kind is InstrumentKind.SPOT:
            if o["side"] == "sell":
                assets[instrument.base] = assets.get(instrument.base, 0.0) + remaining
            else:
                quote += remaining * price * (1.0 + models.fees.taker)
        elif not o["reduce_only"]:
            unit = float(o.get("contract_size") or 1.0) if instrument.is_inverse else price
            quote += remaining * unit / leverage.get(o["symbol"], 1.0)
    return assets, quote


def check_funds(
    account: SimulatedAccount,
    orders: Mapping[str, dict[str, Any]],
    leverage: Mapping[str, float],
    market: MarketSnapshot,
    order: tuple[str, float, float, float],
    contract_size: float = 1.0,
) -> None:
    """Refuse an order (``symbol, signed amount, price, reference``) the account cannot pay for.

    Spot buys need the quote currency (with the taker fee), spot sells the coins, both net of what resting
    orders lock; an order that grows a derivative position needs its initial margin (and fee) in the
    account's free collateral by the account model, net of what resting orders lock; a spot account holds
    no derivative.
    """
    symbol, signed, price, reference = order
    models = account.models
    instrument = parse_symbol(symbol)
    locked_assets, locked_quote = reserved(orders, models, leverage)
    cash = account.cash - locked_quote
    fee = abs(signed) * price * models.fees.taker
    if instrument.kind is InstrumentKind.SPOT:
        if signed > 0:
            cost = signed * price + fee
            if cost > cash * (1.0 + 1e-9) + 1e-9:
                raise OrderRejectedError(f"insufficient funds: {symbol} buy needs {cost:.2f}, {cash:.2f} free")
        else:
            free = account.balances.get(instrument.base, 0.0) - locked_assets.get(instrument.base, 0.0)
            if -signed > free * (1.0 + 1e-9) + 1e-12:
                raise OrderRejectedError(f"insufficient funds: {symbol} sell of {-signed:g}, {free:g} free")
        return
    if account.declared.kind is AccountKind.SPOT:
        raise OrderRejectedError(f"{symbol}: a spot account holds no derivative")
    position = account.positions.get(symbol)
    held = 0.0 if position is None else position.amount
    grows = max(abs(held + signed) - abs(held), 0.0)
    if grows <= 0.0:
        return
    free = free_collateral(account, market) - locked_quote
    if instrument.is_inverse:
        # An inverse contract's notional is its face value; its fee is charged on it.
        fee = abs(signed) * contract_size * models.fees.taker
        needed = grows * contract_size / leverage.get(symbol, 1.0) + fee
    else:
        needed = models.margin.initial_margin(grows, reference, leverage.get(symbol, 1.0)) + fee
    if needed > free + 1e-9:
        raise OrderRejectedError(f"insufficient margin: {symbol} needs {needed:.2f}, {free:.2f} free")


def free_collateral(account: SimulatedAccount, market: MarketSnapshot) -> float:
    """The account's free collateral by the account model: collateral value (balances at their haircuts plus
    unrealised PnL) less the initial margin its positions hold (:mod:`trimtab.valuation.accounts`).

    A position the snapshot does not quote is marked at its entry price; without a price for an underlying at
    all, nothing is free.
    """
    portfolio = account.to_portfolio()
    try:
        book = account_margins(portfolio, quoted(market, portfolio.derivatives))
    except KeyError:
        return 0.0
    return book.account(account.declared.name).free_collateral


def check_request(request: OrderRequest, markets: Mapping[str, VenueMarket]) -> MarketRules:
    """Refuse an order for an unlisted market, a non-positive amount, an amount below the step or the minimum,
    or a limit order without a positive price; returns the market's rules."""
    if request.symbol not in markets:
        raise OrderRejectedError(f"{request.symbol}: not a market of the paper venue")
    if not (request.amount > 0 and math.isfinite(request.amount)):
        raise OrderRejectedError(f"{request.symbol}: the amount must be positive")
    rules = markets[request.symbol].rules
    if rules.amount_step > 0 and math.floor(request.amount / rules.amount_step + 1e-9) == 0:
        raise OrderRejectedError(f"{request.symbol}: {request.amount:g} rounds to zero (step {rules.amount_step:g})")
    if request.amount < rules.min_amount:
        raise OrderRejectedError(f"{request.symbol}: {request.amount:g} is below the minimum {rules.min_amount:g}")
    if request.type is OrderType.LIMIT and not (request.price is not None and request.price > 0):
        raise OrderRejectedError(f"{request.symbol}: a limit order needs a positive price")
    return rules


def check_min_notional(symbol: str, notional: float, rules: MarketRules) -> None:
    """Refuse an order whose notional (quote currency; an inverse order's face value) is below the minimum."""
    if notional < rules.min_notional:
        raise OrderRejectedError(f"{symbol}: {notional:.2f} is below the minimum notional {rules.min_notional:g}")
