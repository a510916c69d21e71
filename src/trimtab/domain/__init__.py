"""Pure value types: instruments, holdings, market snapshots, asset classes and plans."""

from trimtab.domain.classes import AssetClass
from trimtab.domain.instruments import Instrument, InstrumentKind, OptionType, parse_symbol
from trimtab.domain.market import DerivativeQuote, MarketRules, MarketSnapshot
from trimtab.domain.plan import ClassReport, CostEstimate, MarginReport, Plan, Side, Trade
from trimtab.domain.portfolio import DerivativePosition, Portfolio, SpotHolding

__all__ = [
    "AssetClass",
    "ClassReport",
    "CostEstimate",
    "DerivativePosition",
    "DerivativeQuote",
    "Instrument",
    "InstrumentKind",
    "MarginReport",
    "MarketRules",
    "MarketSnapshot",
    "OptionType",
    "Plan",
    "Portfolio",
    "Side",
    "SpotHolding",
    "Trade",
    "parse_symbol",
]
