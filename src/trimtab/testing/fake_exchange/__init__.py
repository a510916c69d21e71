"""A fake Binance (spot and USD-M) on 127.0.0.1 that ccxt's real client trades against, with faults."""

from trimtab.testing.fake_exchange.engine import Engine, ExchangeRejectError, MarketSpec
from trimtab.testing.fake_exchange.server import FakeExchange, Fault, RecordedRequest, default_engine, market_id

__all__ = [
    "Engine",
    "ExchangeRejectError",
    "FakeExchange",
    "Fault",
    "MarketSpec",
    "RecordedRequest",
    "default_engine",
    "market_id",
]
