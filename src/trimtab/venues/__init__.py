"""Venues: the port every venue implements (:mod:`trimtab.venues.ports`), the ccxt adapter and the paper venue."""

from trimtab.venues.ports import (
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    OrderType,
    Ticker,
    Venue,
    VenueMarket,
    VenuePosition,
)

__all__ = [
    "Fill",
    "OrderRequest",
    "OrderState",
    "OrderStatus",
    "OrderType",
    "Ticker",
    "Venue",
    "VenueMarket",
    "VenuePosition",
]
