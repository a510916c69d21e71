"""Pure value types: instruments, holdings, market snapshots, asset classes and plans."""

from typing import TYPE_CHECKING

from trimtab.lazy import lazy_exports

if TYPE_CHECKING:
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

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "trimtab.domain.classes": ("AssetClass",),
        "trimtab.domain.instruments": ("Instrument", "InstrumentKind", "OptionType", "parse_symbol"),
        "trimtab.domain.market": ("DerivativeQuote", "MarketRules", "MarketSnapshot"),
        "trimtab.domain.plan": ("ClassReport", "CostEstimate", "MarginReport", "Plan", "Side", "Trade"),
        "trimtab.domain.portfolio": ("DerivativePosition", "Portfolio", "SpotHolding"),
    },
)
