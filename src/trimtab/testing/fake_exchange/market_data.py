"""The fake's Binance market-data answers: exchange info, tickers, mark prices and funding."""

from __future__ import annotations

from collections.abc import Callable
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
        {
            "filterType": "PRICE_FILTER",
            "minPrice": spec.min_price or spec.tick,
            "maxPrice": spec.max_price,
            "tickSize": spec.tick,
        },
        {"filterType": "LOT_SIZE", "minQty": spec.min_amount, "maxQty": spec.max_amount, "stepSize": spec.amount_step},
    ]
    if spec.percent_price_by_side is not None:
        bid_up, bid_down, ask_up, ask_down = spec.percent_price_by_side
        filters.append(
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": num(bid_up),
                "bidMultiplierDown": num(bid_down),
                "askMultiplierUp": num(ask_up),
                "askMultiplierDown": num(ask_down),
                "avgPriceMins": 5,
            }
        )
    if spec.percent_price is not None:
        up, down = spec.percent_price
        entry: dict[str, Any] = {
            "filterType": "PERCENT_PRICE",
            "multiplierUp": f"{up:.4f}",
            "multiplierDown": f"{down:.4f}",
        }
        entry.update({"avgPriceMins": 5} if spec.family == "spot" else {"multiplierDecimal": "4"})
        filters.append(entry)
    info: dict[str, Any] = {
        "symbol": spec.id,
        "status": "TRADING",
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
    }
    if spec.family == "spot":
        filters.append(
            {
                "filterType": "NOTIONAL",
                "minNotional": num(spec.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            }
        )
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
        if spec.family == "usdm":
            filters.append({"filterType": "MIN_NOTIONAL", "notional": num(spec.min_notional)})
        else:  # COIN-M: contracts of contractSize USD, margined in the base coin
            info.update({"contractSize": int(spec.contract_size), "contractStatus": "TRADING"})
        info.update(
            {
                "pair": spec.id.split("_")[0],
                "contractType": "PERPETUAL",
                "deliveryDate": PERPETUAL_DELIVERY_MS,
                "onboardDate": 1569398400000,
                "marginAsset": spec.base if spec.family == "coinm" else spec.quote,
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


def _one_or_all(family: Family, one: Callable[[Any, int], dict[str, Any]]) -> Handler:
    """A ticker endpoint: the row of the market ``symbol`` names, else the rows of every market of ``family``."""

    def handler(engine: Engine, params: Params) -> Any:
        now = engine.now_ms()
        if "symbol" in params:
            return one(engine.market(family, params["symbol"]), now)
        return [one(spec, now) for (fam, _), spec in engine.markets.items() if fam == family]

    return handler


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

    return _one_or_all(family, one)


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

    return _one_or_all(family, one)


def premium_index(family: Family) -> Handler:
    def handler(engine: Engine, params: Params) -> Any:
        return _premium_index(engine, params, family)

    return handler


def _premium_index(engine: Engine, params: Params, family: Family) -> Any:
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

    if "symbol" in params and family == "usdm":
        return one(engine.market(family, params["symbol"]))
    return [one(spec) for (fam, _), spec in engine.markets.items() if fam == family]


def funding_info(family: Family) -> Handler:
    """``/fapi/v1/fundingInfo`` and ``/dapi/v1/fundingInfo``: each perpetual's funding interval."""

    def handler(engine: Engine, params: Params) -> Any:
        return [
            {
                "symbol": spec.id,
                "adjustedFundingRateCap": "0.02",
                "adjustedFundingRateFloor": "-0.02",
                "fundingIntervalHours": spec.funding_interval_hours,
                "disclaimer": False,
            }
            for (fam, _), spec in engine.markets.items()
            if fam == family
        ]

    return handler
