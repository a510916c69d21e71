"""Pure valuation: equity, exposures, class weights, leverage, accounts and margin, liquidation, Black-76."""

from trimtab.valuation.accounts import MarginBook, account_margins, account_ok
from trimtab.valuation.black76 import Greeks, black76
from trimtab.valuation.margin import (
    MAINTENANCE_MARGIN_RATE,
    inverse_liquidation_price,
    linear_liquidation_price,
    liquidation_distance,
    liquidation_price,
    maintenance_margin,
    max_leverage_at,
    notional_cap,
    tier_at,
)
from trimtab.valuation.model import AccountMargin, ClassExposure, PositionRisk, Valuation
from trimtab.valuation.valuate import valuate

__all__ = [
    "MAINTENANCE_MARGIN_RATE",
    "AccountMargin",
    "ClassExposure",
    "Greeks",
    "MarginBook",
    "PositionRisk",
    "Valuation",
    "account_margins",
    "account_ok",
    "black76",
    "inverse_liquidation_price",
    "linear_liquidation_price",
    "liquidation_distance",
    "liquidation_price",
    "maintenance_margin",
    "max_leverage_at",
    "notional_cap",
    "tier_at",
    "valuate",
]
