"""Market-data reads of the ccxt venue: tickers (book, last and mark) and funding rates with their interval.

Reads are grouped by market type and sub-type (Binance answers spot, USD-M and COIN-M at different
endpoints); each group is one request per kind of data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from trimtab.venues.ccxt import parsing
from trimtab.venues.ports import Ticker

Reader = Callable[[str, Callable[[], Any]], Any]

DEFAULT_FUNDING_INTERVAL_HOURS = 8.0
"""Used only where the exchange states no interval (neither with the rate nor through its interval endpoint)."""


def read_tickers(
    exchange: Any, groups: Sequence[Sequence[str]], markets: Mapping[str, Any], read: Reader
) -> dict[str, Ticker]:
    """Tickers per symbol: the book from the tickers (or bids/asks where they lack it) and, for
    contracts, the mark price."""
    result: dict[str, Ticker] = {}
    now = datetime.now(UTC)
    for group in groups:
        tickers = read("fetch_tickers", partial(exchange.fetch_tickers, list(group)))
        if any(not (tickers.get(s) or {}).get("bid") for s in group) and exchange.has.get("fetchBidsAsks"):
            books = read("fetch_bids_asks", partial(exchange.fetch_bids_asks, list(group)))
            for symbol in group:
                book = books.get(symbol) or {}
                tickers.setdefault(symbol, {"symbol": symbol}).update({"bid": book.get("bid"), "ask": book.get("ask")})
        marks: dict[str, Any] = {}
        if markets[group[0]].get("contract") and exchange.has.get("fetchMarkPrices"):
            marks = read("fetch_mark_prices", partial(exchange.fetch_mark_prices, list(group)))
        for symbol in group:
            if symbol in tickers:
                mark = parsing.number((marks.get(symbol) or {}).get("markPrice"))
                result[symbol] = parsing.parse_ticker({**tickers[symbol], "symbol": symbol}, mark=mark, now=now)
    return result


def read_funding(exchange: Any, groups: Sequence[Sequence[str]], read: Reader) -> dict[str, tuple[float, float]]:
    """Per perpetual: (funding rate per interval, interval in hours)."""
    if not exchange.has.get("fetchFundingRates"):
        return {}
    wanted = [symbol for group in groups for symbol in group]
    rates: dict[str, Any] = {}
    for group in groups:
        rates.update(read("fetch_funding_rates", partial(exchange.fetch_funding_rates, list(group))))
    intervals: dict[str, Any] = {}
    if any(parsing.funding_interval_hours(rates.get(s)) is None for s in wanted) and exchange.has.get(
        "fetchFundingIntervals"
    ):
        intervals = read("fetch_funding_intervals", partial(exchange.fetch_funding_intervals, wanted))
    result = {}
    for symbol in wanted:
        entry = rates.get(symbol)
        rate = parsing.number((entry or {}).get("fundingRate"))
        if rate is None:
            continue
        hours = (
            parsing.funding_interval_hours(entry)
            or parsing.funding_interval_hours(intervals.get(symbol))
            or DEFAULT_FUNDING_INTERVAL_HOURS
        )
        result[symbol] = (rate, hours)
    return result
