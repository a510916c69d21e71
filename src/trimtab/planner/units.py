"""How much base-currency exposure one unit of an instrument's amount carries, at a snapshot.

The conventions are valuation's (``trimtab.valuation.valuate``): a linear derivative's amount is in units
of its base asset, worth ``mark x quote price``; an inverse one's is in contracts of ``contract_size``
quote units, whose exposure is ``contract_size x base-asset price / mark``.
"""

from __future__ import annotations

from trimtab.domain.instruments import Instrument
from trimtab.domain.market import MarketSnapshot


def quote_price(instrument: Instrument, market: MarketSnapshot, base_currency: str) -> float:
    """The price of the instrument's quote currency in the base currency (1 when they are the same)."""
    if instrument.quote == base_currency:
        return 1.0
    return market.prices.get(instrument.quote, 1.0)


def contract_size(symbol: str, market: MarketSnapshot) -> float:
    """The contract size from the venue's rules, 1 when unknown."""
    rules = market.markets.get(symbol)
    return rules.contract_size if rules is not None else 1.0


def exposure_per_unit(instrument: Instrument, market: MarketSnapshot, base_currency: str) -> float:
    """Delta-notional, in the base currency, of an amount of 1 of a perpetual or dated future.

    Raises
    ------
    KeyError
        If the snapshot has no quote for the instrument.
    """
    mark = market.derivatives[instrument.symbol].mark
    if instrument.is_inverse:
        coins_price = market.prices.get(instrument.base, mark)
        return contract_size(instrument.symbol, market) * coins_price / mark
    return mark * quote_price(instrument, market, base_currency)
