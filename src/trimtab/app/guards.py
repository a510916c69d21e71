"""The run loop's guards now live in the shared core (:mod:`trimtab.session.guards`), so backtests run them."""

from trimtab.session.guards import Deleverage, funding_switch, liquidation_guard

__all__ = ["Deleverage", "funding_switch", "liquidation_guard"]
