"""Venues: the port every venue implements (:mod:`trimtab.venues.ports`), the ccxt adapter and the paper venue."""

from typing import TYPE_CHECKING

from trimtab.lazy import lazy_exports

if TYPE_CHECKING:
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

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "trimtab.venues.ports": (
            "Fill",
            "OrderRequest",
            "OrderState",
            "OrderStatus",
            "OrderType",
            "Ticker",
            "Venue",
            "VenueMarket",
            "VenuePosition",
        ),
    },
)
