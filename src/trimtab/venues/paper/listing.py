"""What the paper venue lists and reports: its markets and its open positions.

Markets: spot ``<asset>/<base currency>`` for every priced asset, and every derivative the feed quotes
(perpetuals, dated futures and options) that has not expired. Positions: every derivative held, options
included, with the mark and, for futures and perpetuals, the liquidation price of the account model
(:func:`trimtab.venues.simulation.margin.liquidation_prices`: tiered maintenance, isolated or cross; a paper
account without a declared account is unified and cross, as the contract's default). A position the feed no
longer quotes is marked at its entry price.
"""

from __future__ import annotations

from datetime import datetime

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.market import MarketRules, MarketSnapshot
from trimtab.venues.ports import VenueMarket, VenuePosition
from trimtab.venues.simulation import SimulatedAccount, is_expired
from trimtab.venues.simulation.margin import liquidation_prices

_EPS = 1e-12


def listed_markets(market: MarketSnapshot, base_currency: str, now: datetime) -> dict[str, VenueMarket]:
    """The markets of a paper venue quoting ``market`` at ``now``, keyed by symbol."""
    out: dict[str, VenueMarket] = {}
    for asset in market.prices:
        if asset == base_currency:
            continue
        symbol = f"{asset}/{base_currency}"
        out[symbol] = VenueMarket(symbol, parse_symbol(symbol), market.rules(symbol) or MarketRules())
    for symbol in market.derivatives:
        instrument = parse_symbol(symbol)
        if is_expired(instrument, now):
            continue  # settled and delisted
        out[symbol] = VenueMarket(symbol, instrument, market.rules(symbol) or MarketRules())
    return out


def open_positions(account: SimulatedAccount, market: MarketSnapshot) -> list[VenuePosition]:
    """The account's derivative positions as the Venue port reports them (options: no liquidation price)."""
    modelled = liquidation_prices(account.to_portfolio(), market)
    out = []
    for symbol, p in account.positions.items():
        if abs(p.amount) <= _EPS:
            continue
        quote = market.derivatives.get(symbol)
        liquidation = None if p.instrument.kind is InstrumentKind.OPTION else modelled.get(symbol)
        out.append(
            VenuePosition(
                symbol, p.amount, p.entry_price, p.leverage, None if quote is None else quote.mark, liquidation
            )
        )
    return out
