"""A local fake of Bybit's V5 REST API (unified trading account) for the real ccxt ``bybit`` client."""

from trimtab.testing.fake_bybit.market_data import BybitMarket
from trimtab.testing.fake_bybit.server import FakeBybit

__all__ = ["BybitMarket", "FakeBybit"]
