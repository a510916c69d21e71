"""Initial and maintenance margin of isolated linear positions, and when they are liquidated.

With a market snapshot, the simulated account takes its liquidation prices from the account model instead
(:func:`liquidation_prices`: tiered maintenance, isolated or cross); the flat model below is the fallback.

* Initial margin = ``|amount| x entry / leverage`` (posted when the position opens).
* Maintenance margin = ``|amount| x mark x maintenance_rate``.
* The position is liquidated once its isolated margin plus unrealised PnL no longer covers the
  maintenance margin, i.e. when the price crosses the liquidation price of
  :func:`trimtab.valuation.valuate.liquidation_price`::

      long:  entry x (1 - 1/leverage) / (1 - maintenance_rate)
      short: entry x (1 + 1/leverage) / (1 + maintenance_rate)

The check uses the bar's adverse extreme (its low for a long, its high for a short) when the history
has one, else the close, so a crash inside a bar liquidates at that bar. The position is closed at the
liquidation price (paying the taker fee); what is left of its margin stays with the account.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trimtab.valuation.margin import MAINTENANCE_MARGIN_RATE, liquidation_price

if TYPE_CHECKING:
    from trimtab.domain.market import MarketSnapshot
    from trimtab.domain.portfolio import Portfolio


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
    """Isolated margin with one maintenance rate for every market."""

    maintenance_rate: float = MAINTENANCE_MARGIN_RATE

    def initial_margin(self, amount: float, entry_price: float, leverage: float) -> float:
        """Margin posted for a position: ``|amount| x entry / leverage``."""
        return abs(amount) * entry_price / leverage

    def maintenance_margin(self, amount: float, mark: float) -> float:
        """``|amount| x mark x maintenance_rate``."""
        return abs(amount) * mark * self.maintenance_rate

    def liquidation_price(self, entry_price: float, leverage: float, long: bool) -> float:
        """The price at which the position is liquidated (0 for a long that cannot be)."""
        return liquidation_price(entry_price, leverage, long, self.maintenance_rate)

    def breached(self, amount: float, entry_price: float, leverage: float, adverse_price: float) -> bool:
        """Whether ``adverse_price`` (the bar's low for a long, high for a short) reaches the liquidation price."""
        if amount == 0.0:
            return False
        long = amount > 0
        price = self.liquidation_price(entry_price, leverage, long)
        if long:
            return price > 0.0 and adverse_price <= price
        return adverse_price >= price


def liquidation_prices(portfolio: Portfolio, market: MarketSnapshot) -> dict[str, float]:
    """Each futures or perpetual position's liquidation price by the account model, by symbol.

    The model of :mod:`trimtab.valuation.accounts` (the one valuation and the planner use): the tier of the
    position's notional in the market's ``margin_tiers`` (0.5 % without tiers), isolated positions from their
    own margin, cross ones from the account's collateral. Positions without one (a 1x long) are left out.
    """
    from trimtab.valuation.accounts import account_margins  # the account model: not needed to run a backtest

    book = account_margins(portfolio, market)
    return {
        risk.symbol: risk.liquidation_price
        for risk in book.positions
        if risk.liquidation_price is not None and math.isfinite(risk.liquidation_price)
    }
