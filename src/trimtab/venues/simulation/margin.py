"""Margin of the simulated account: what an opening reserves, and where positions are liquidated.

Liquidation prices are the account model's (:mod:`trimtab.valuation.accounts`, the one valuation and the
planner use; :func:`liquidation_prices`): the tier of the position's notional in the market's
``margin_tiers`` (0.5 % without tiers), an isolated position from its own margin, a cross one from its
account's collateral. An account the portfolio does not declare is the contract's default: unified, cross,
its collateral the base currency at 1.0, so the backtest's account, whose collateral is its base-currency
balance, is liquidated when that balance plus the unrealised PnL of its futures and perpetuals falls to
their total maintenance margin. For one linear position of signed size ``q`` entered at ``E`` with
``C`` of base currency and a flat rate ``m``, ``C + q (P - E) = m |q| P``::

      long:  P = (q E - C) / (q (1 - m))        (none when C covers a fall to zero)
      short: P = (C + |q| E) / (|q| (1 + m))

The engine checks the bar's adverse extreme (its low for a long, its high for a short) when the history
has one, else the close, so a crash inside a bar liquidates at that bar. The position is closed at the
liquidation price, paying the taker fee; what is left of the collateral stays with the account.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trimtab.domain.market import MarketSnapshot
    from trimtab.domain.portfolio import DerivativePosition, Portfolio


@dataclass(frozen=True, slots=True)
class Liquidation:
    """One forced close: the position's signed ``amount`` closed at ``price``; ``loss`` is the realised PnL."""

    symbol: str
    amount: float
    entry_price: float
    price: float
    realised_pnl: float
    fee: float


@dataclass(frozen=True, slots=True)
class MarginModel:
    """What an opening reserves: the initial margin ``|amount| x entry / leverage``."""

    def initial_margin(self, amount: float, entry_price: float, leverage: float) -> float:
        """Margin posted for a position: ``|amount| x entry / leverage``."""
        return abs(amount) * entry_price / leverage


def quoted(market: MarketSnapshot, positions: Iterable[DerivativePosition]) -> MarketSnapshot:
    """``market`` with a quote for every held derivative: one it lacks is marked at its entry price.

    A paper account may hold a derivative its feed no longer quotes; its entry price then stands in for the
    mark (no unrealised PnL), so the account model still margins the rest of the account.
    """
    from trimtab.domain.market import DerivativeQuote

    missing = {p.symbol: DerivativeQuote(mark=p.entry_price) for p in positions if p.symbol not in market.derivatives}
    if not missing:
        return market
    return replace(market, derivatives={**market.derivatives, **missing})


def liquidation_prices(portfolio: Portfolio, market: MarketSnapshot) -> dict[str, float]:
    """Each futures or perpetual position's liquidation price by the account model, by symbol.

    The model of :mod:`trimtab.valuation.accounts` (the one valuation and the planner use): the tier of the
    position's notional in the market's ``margin_tiers`` (0.5 % without tiers), isolated positions from their
    own margin, cross ones from the account's collateral. Positions without one (a long whose collateral
    covers a fall to zero) are left out; so is every position when an underlying has no price at all.
    """
    from trimtab.valuation.accounts import account_margins  # the account model: not needed to run a spot backtest

    try:
        book = account_margins(portfolio, quoted(market, portfolio.derivatives))
    except KeyError:
        return {}
    return {
        risk.symbol: risk.liquidation_price
        for risk in book.positions
        if risk.liquidation_price is not None and math.isfinite(risk.liquidation_price)
    }
