"""The fake's Binance market-data answers: exchange info, tickers, mark prices and funding."""

from __future__ import annotations

from typing import Any

from trimtab.testing.fake_exchange.answers import Handler, Params, decimals, num
from trimtab.testing.fake_exchange.engine import Engine, Family

PERPETUAL_DELIVERY_MS = 4133404800000


def exchange_info(family: Family) -> Handler:
    def handler(engine: Engine, params: Params) -> Any:
        symbols = [_symbol_info(spec) for (fam, _), spec in engine.markets.items() if fam == family]
        return {
            "timezone": "UTC",
            "serverTime": engine.now_ms(),
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": symbols,
        }

    return handler


def _symbol_info(spec: Any) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [
        {"filterType": "PRICE_FILTER", "minPrice": spec.tick, "maxPrice": "10000000", "tickSize": spec.tick},
        {"filterType": "LOT_SIZE", "minQty": spec.min_amount, "maxQty": "9000000", "stepSize": spec.amount_step},
    ]
    info: dict[str, Any] = {
        "symbol": spec.id,
        "status": "TRADING",
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
    }
    if spec.family == "spot":
        filters.append({"filterType": "NOTIONAL", "minNotional": num(spec.min_notional), "applyMinToMarket": True})
        info.update(
            {
                "quoteAssetPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "permissions": ["SPOT"],
            }
        )
    else:
        filters.append({"filterType": "MIN_NOTIONAL", "notional": num(spec.min_notional)})
        info.update(
            {
                "pair": spec.id,
                "contractType": "PERPETUAL",
                "deliveryDate": PERPETUAL_DELIVERY_MS,
                "onboardDate": 1569398400000,
                "marginAsset": spec.quote,
                "pricePrecision": decimals(spec.tick),
                "quantityPrecision": decimals(spec.amount_step),
                "underlyingType": "COIN",
                "orderTypes": ["LIMIT", "MARKET"],
                "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
            }
        )
    info["filters"] = filters
    return info


def server_time(engine: Engine, params: Params) -> Any:
    return {"serverTime": engine.now_ms()}


def empty_list(engine: Engine, params: Params) -> Any:
    return []


def empty_markets(engine: Engine, params: Params) -> Any:
    return {"timezone": "UTC", "serverTime": engine.now_ms(), "rateLimits": [], "exchangeFilters": [], "symbols": []}


def ticker_24hr(family: Family) -> Handler:
    def one(spec: Any, now: int) -> dict[str, Any]:
        row = {
            "symbol": spec.id,
            "priceChange": "0",
            "priceChangePercent": "0",
            "weightedAvgPrice": num(spec.price),
            "lastPrice": num(spec.price),
            "lastQty": "1",
            "openPrice": num(spec.price),
            "highPrice": num(spec.price),
            "lowPrice": num(spec.price),
            "volume": "1000",
            "quoteVolume": num(spec.price * 1000),
            "openTime": now - 86_400_000,
            "closeTime": now,
            "count": 1,
        }
        if family == "spot":  # the USD-M 24h ticker carries no book, as on Binance
            row.update({"bidPrice": num(spec.bid), "bidQty": "10", "askPrice": num(spec.ask), "askQty": "10"})
        return row

    def handler(engine: Engine, params: Params) -> Any:
        now = engine.now_ms()
        if "symbol" in params:
            return one(engine.market(family, params["symbol"]), now)
        return [one(spec, now) for (fam, _), spec in engine.markets.items() if fam == family]

    return handler


def book_ticker(family: Family) -> Handler:
    def one(spec: Any, now: int) -> dict[str, Any]:
        return {
            "symbol": spec.id,
            "bidPrice": num(spec.bid),
            "bidQty": "10",
            "askPrice": num(spec.ask),
            "askQty": "10",
            "time": now,
        }

    def handler(engine: Engine, params: Params) -> Any:
        now = engine.now_ms()
        if "symbol" in params:
            return one(engine.market(family, params["symbol"]), now)
        return [one(spec, now) for (fam, _), spec in engine.markets.items() if fam == family]

    return handler


def premium_index(engine: Engine, params: Params) -> Any:
    now = engine.now_ms()
    interval_ms = 8 * 3_600_000

    def one(spec: Any) -> dict[str, Any]:
        return {
            "symbol": spec.id,
            "markPrice": num(spec.mark_price),
            "indexPrice": num(spec.price),
            "estimatedSettlePrice": num(spec.price),
            "lastFundingRate": f"{spec.funding_rate:.8f}",
            "interestRate": "0.00010000",
            "nextFundingTime": (now // interval_ms + 1) * interval_ms,
            "time": now,
        }

    if "symbol" in params:
        return one(engine.market("usdm", params["symbol"]))
    return [one(spec) for (fam, _), spec in engine.markets.items() if fam == "usdm"]


def funding_info(engine: Engine, params: Params) -> Any:
    return [
        {
            "symbol": spec.id,
            "adjustedFundingRateCap": "0.02",
            "adjustedFundingRateFloor": "-0.02",
            "fundingIntervalHours": spec.funding_interval_hours,
            "disclaimer": False,
        }
        for (fam, _), spec in engine.markets.items()
        if fam == "usdm"
    ]
