"""Pure valuation: equity, exposures, class weights, leverage, margin, liquidation, Black-76 greeks."""

from trimtab.valuation.black76 import Greeks, black76
from trimtab.valuation.margin import MAINTENANCE_MARGIN_RATE, liquidation_distance, liquidation_price
from trimtab.valuation.model import ClassExposure, PositionRisk, Valuation
from trimtab.valuation.valuate import valuate

__all__ = [
    "MAINTENANCE_MARGIN_RATE",
    "ClassExposure",
    "Greeks",
    "PositionRisk",
    "Valuation",
    "black76",
    "liquidation_distance",
    "liquidation_price",
    "valuate",
]
