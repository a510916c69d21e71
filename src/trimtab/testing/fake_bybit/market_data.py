"""Bybit V5 market answers: instruments-info, tickers and the server time, shaped as Bybit documents them.

Shapes follow Bybit's V5 reference (https://bybit-exchange.github.io/docs/v5/market/instrument and
``/v5/market/tickers``): every number is a string, spot lot sizes give ``basePrecision`` and
``minOrderAmt``, linear perpetuals ``qtyStep``, ``minOrderQty`` and ``minNotionalValue`` (in base units:
one linear USDT contract is one coin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Category = Literal["spot", "linear"]


@dataclass
class BybitMarket:
    """One market of the fake: its category, Bybit symbol, coins, price and lot rules (Bybit's strings)."""

    category: Category
    symbol: str
    base: str
    quote: str
    price: float
    qty_step: str = "0.001"
    min_qty: str = "0.001"
    min_notional: str = "5"
    tick: str = "0.1"
    funding_rate: float = 0.0001


def ok(result: Any, now_ms: int) -> dict[str, Any]:
    """Bybit's envelope of a successful answer."""
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now_ms}


def instrument(market: BybitMarket) -> dict[str, Any]:
    """One entry of ``GET /v5/market/instruments-info`` for the market's category."""
    common = {"symbol": market.symbol, "baseCoin": market.base, "quoteCoin": market.quote, "status": "Trading"}
    if market.category == "spot":
        return {
            **common,
            "innovation": "0",
            "marginTrading": "both",
            "lotSizeFilter": {
                "basePrecision": market.qty_step,
                "quotePrecision": "0.00000001",
                "minOrderQty": market.min_qty,
                "maxOrderQty": "10000",
                "minOrderAmt": market.min_notional,
                "maxOrderAmt": "2000000",
            },
            "priceFilter": {"tickSize": market.tick},
        }
    return {
        **common,
        "contractType": "LinearPerpetual",
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(len(market.tick.split(".")[1]) if "." in market.tick else 0),
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": market.tick, "maxPrice": "1999999.80", "tickSize": market.tick},
        "lotSizeFilter": {
            "maxOrderQty": "1000.000",
            "maxMktOrderQty": "1000.000",
            "minOrderQty": market.min_qty,
            "qtyStep": market.qty_step,
            "postOnlyMaxOrderQty": "1000.000",
            "minNotionalValue": market.min_notional,
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": market.quote,
        "copyTrading": "both",
        "upperFundingRate": "0.00375",
        "lowerFundingRate": "-0.00375",
    }


def ticker(market: BybitMarket) -> dict[str, Any]:
    """One entry of ``GET /v5/market/tickers``: bid and ask one tick either side of the price (a linear
    entry carries ``openInterestValue``, as Bybit's does; ccxt tells contracts from spot by it)."""
    tick = float(market.tick)
    price = f"{market.price:.8f}".rstrip("0").rstrip(".")
    entry = {
        "symbol": market.symbol,
        "lastPrice": price,
        "bid1Price": f"{market.price - tick:.8f}".rstrip("0").rstrip("."),
        "bid1Size": "10",
        "ask1Price": f"{market.price + tick:.8f}".rstrip("0").rstrip("."),
        "ask1Size": "10",
        "highPrice24h": price,
        "lowPrice24h": price,
        "prevPrice24h": price,
        "price24hPcnt": "0",
        "volume24h": "1000",
        "turnover24h": f"{1000 * market.price:.2f}",
    }
    if market.category == "linear":
        entry.update(
            {
                "markPrice": price,
                "indexPrice": price,
                "fundingRate": f"{market.funding_rate:.8f}",
                "nextFundingTime": "0",
                "openInterest": "1000",
                "openInterestValue": f"{1000 * market.price:.2f}",
                "prevPrice1h": price,
                "deliveryTime": "0",
                "basis": "",
            }
        )
    return entry
