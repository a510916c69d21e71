"""Futures positions of the fake: USD-M (linear, in the base coin) and COIN-M (inverse, in contracts).

A USD-M position's amount is in the base coin and its margin, PnL and fees in the quote (USDT); a COIN-M
position's amount is in contracts of ``contract_size`` USD, its notional ``contracts x size / price`` coins,
and its margin, PnL and fees in the coin (Binance's COIN-M contract specifications).

Refusals (Binance's codes): a leverage outside ``1..`` the first bracket's maximum (-4028 "Leverage L is
not valid"); a position, or a leverage change, that would hold more than the largest bracket allowing that
leverage (-2027 "Exceeded the maximum allowable position at current leverage."); an opening without the
margin for it (-2019 "Margin is insufficient.").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trimtab.testing.fake_exchange.brackets import bracket_of, max_size_at
from trimtab.testing.fake_exchange.errors import ExchangeRejectError

if TYPE_CHECKING:
    from trimtab.testing.fake_exchange.engine import MarketSpec


@dataclass
class FakePosition:
    """One symbol's position (one-way mode): signed amount, average entry, leverage and margin type."""

    amount: float = 0.0
    entry_price: float = 0.0
    leverage: int = 20
    margin_type: str = "cross"


def notional(spec: MarketSpec, amount: float, price: float) -> float:
    """The size Binance brackets a position by: quote notional (USD-M) or coin quantity (COIN-M)."""
    if spec.family == "coinm":
        return abs(amount) * spec.contract_size / price if price > 0 else 0.0
    return abs(amount) * price


def margin_asset(spec: MarketSpec) -> str:
    return spec.base if spec.family == "coinm" else spec.quote


def check_leverage(spec: MarketSpec, position: FakePosition, leverage: int) -> None:
    """Binance's refusals of ``POST /fapi/v1/leverage`` (and ``/dapi``)."""
    highest = spec.brackets[0].max_leverage if spec.brackets else 125
    if not 1 <= leverage <= highest:
        raise ExchangeRejectError(400, -4028, f"Leverage {leverage} is not valid")
    if spec.brackets and notional(spec, position.amount, spec.mark_price) > max_size_at(spec.brackets, leverage):
        raise ExchangeRejectError(400, -2027, "Exceeded the maximum allowable position at current leverage.")


def check_bracket(spec: MarketSpec, position: FakePosition, signed: float, price: float) -> None:
    """An order that grows the position beyond what its leverage's brackets allow is refused (-2027)."""
    after = position.amount + signed
    if not spec.brackets or abs(after) <= abs(position.amount):
        return
    if notional(spec, after, price) > max_size_at(spec.brackets, position.leverage) + 1e-9:
        raise ExchangeRejectError(400, -2027, "Exceeded the maximum allowable position at current leverage.")


def initial_margin(spec: MarketSpec, position: FakePosition, price: float | None = None) -> float:
    """The margin a position holds at its leverage, in its margin asset (at its entry price by default)."""
    at = price if price is not None else position.entry_price
    return notional(spec, position.amount, at) / position.leverage


def unrealised(spec: MarketSpec, position: FakePosition, mark: float) -> float:
    """Unrealised PnL at ``mark`` in the margin asset."""
    if position.amount == 0 or position.entry_price <= 0:
        return 0.0
    if spec.family == "coinm":
        return position.amount * spec.contract_size * (1.0 / position.entry_price - 1.0 / mark)
    return position.amount * (mark - position.entry_price)


def apply_fill(spec: MarketSpec, position: FakePosition, signed: float, price: float) -> float:
    """Move a position by a fill; returns the realised PnL in the margin asset."""
    quantity = abs(signed)
    if position.amount == 0 or (position.amount > 0) == (signed > 0):
        total = position.amount + signed
        if spec.family == "coinm":  # the average entry of inverse contracts is harmonic
            weight = abs(position.amount) / position.entry_price if position.amount else 0.0
            position.entry_price = abs(total) / (weight + quantity / price)
        else:
            position.entry_price = (abs(position.amount) * position.entry_price + quantity * price) / abs(total)
        position.amount = total
        return 0.0
    closing = min(quantity, abs(position.amount))
    direction = 1.0 if position.amount > 0 else -1.0
    if spec.family == "coinm":
        realized = closing * spec.contract_size * (1.0 / position.entry_price - 1.0 / price) * direction
    else:
        realized = closing * (price - position.entry_price) * direction
    position.amount += signed
    if abs(position.amount) < 1e-12:
        position.amount, position.entry_price = 0.0, 0.0
    elif (position.amount > 0) != (direction > 0):
        position.entry_price = price  # flipped: the rest opened at this price
    return realized


def maintenance(spec: MarketSpec, position: FakePosition, mark: float) -> float:
    """Maintenance margin = size x rate - cum of the position's bracket, in the margin asset."""
    size = notional(spec, position.amount, mark)
    if size == 0:
        return 0.0
    bracket = bracket_of(spec.brackets, size) if spec.brackets else None
    if bracket is None:
        return size * 0.004
    return max(size * bracket.rate - bracket.cum, 0.0)


def liquidation_price(spec: MarketSpec, position: FakePosition, margin: float, others: float) -> float:
    """The mark at which the position's margin balance meets its maintenance margin (0 when there is none).

    ``margin`` is the margin behind the position (cross: the wallet balance; isolated: its isolated margin)
    and ``others`` what the other positions of a cross wallet add to it (their unrealised PnL less their
    maintenance margin). Solved by bisection on the mark, so linear and inverse contracts, and the bracket
    that the position reaches at that price, are all handled by the same definitions as above.
    """
    if position.amount == 0:
        return 0.0

    def excess(price: float) -> float:
        return margin + others + unrealised(spec, position, price) - maintenance(spec, position, price)

    long = position.amount > 0
    low, high = (1e-9, position.entry_price) if long else (position.entry_price, position.entry_price * 1e3)
    if (long and excess(low) < 0 < excess(high)) or (not long and excess(high) < 0 < excess(low)):
        for _ in range(200):
            middle = (low + high) / 2.0
            if (excess(middle) > 0) == long:
                high = middle
            else:
                low = middle
        return (low + high) / 2.0
    return 0.0
