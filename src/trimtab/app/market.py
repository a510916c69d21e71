"""The market the loop plans on, read from the venue, and the checks that pause a cycle on bad prices.

Spot prices are the tickers' last prices of ``<asset>/<base currency>``; derivatives take the ticker's mark
and the venue's funding rate. A price is *stale* when its ticker is older than ``max_price_age_s``, and an
*outlier* when it lies more than ``outlier_threshold`` away from the median of the last few cycles' prices
(a bad tick such as one venue printing -87 %). Either pauses the cycle: nothing is traded on it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from trimtab.domain.instruments import parse_symbol
from trimtab.domain.market import DerivativeQuote, MarketSnapshot
from trimtab.errors import RetryableError
from trimtab.policy.config import Policy
from trimtab.venues.ports import Ticker, Venue, VenueMarket


@dataclass(frozen=True)
class MarketRead:
    """A snapshot built from the venue, the tickers behind it, and the symbols that had none."""

    snapshot: MarketSnapshot
    tickers: dict[str, Ticker]
    missing: tuple[str, ...]


def symbols_for(policy: Policy, positions: Sequence[str]) -> tuple[list[str], list[str]]:
    """The spot and derivative symbols the loop needs prices for."""
    base = policy.base_currency
    spot = [f"{asset}/{base}" for c in policy.classes for asset in c.assets if asset != base]
    derivatives = [c.hedge for c in policy.classes if c.hedge]
    index_hedge = getattr(policy.strategy, "index_hedge", None)
    if index_hedge:
        derivatives.append(index_hedge)
    derivatives += [s for s in positions if s not in derivatives]
    return list(dict.fromkeys(spot)), list(dict.fromkeys(derivatives))


def read_market(
    venue: Venue,
    policy: Policy,
    markets: Mapping[str, VenueMarket],
    positions: Sequence[str],
    clock: Callable[[], datetime],
) -> MarketRead:
    """Build the planning snapshot from the venue's tickers and funding rates.

    Raises
    ------
    RetryableError
        When the venue cannot be read (the cycle is skipped, not the run).
    """
    spot, derivatives = symbols_for(policy, positions)
    wanted = [s for s in spot + derivatives if s in markets]
    tickers = venue.fetch_tickers(wanted) if wanted else {}
    listed_derivatives = [s for s in derivatives if s in markets]
    funding = venue.fetch_funding_rates(listed_derivatives) if listed_derivatives else {}
    prices: dict[str, float] = {policy.base_currency: 1.0}
    missing: list[str] = []
    for symbol in spot:
        ticker = tickers.get(symbol)
        if ticker is None or not (ticker.last > 0 and math.isfinite(ticker.last)):
            missing.append(symbol)
            continue
        prices[parse_symbol(symbol).base] = ticker.last
    quotes: dict[str, DerivativeQuote] = {}
    for symbol in derivatives:
        ticker = tickers.get(symbol)
        if ticker is None:
            missing.append(symbol)
            continue
        rate, hours = funding.get(symbol, (0.0, 8.0))
        quotes[symbol] = DerivativeQuote(
            mark=ticker.mark or ticker.last, funding_rate=rate, funding_interval_hours=hours, iv=ticker.iv
        )
    rules = {s: m.rules for s, m in markets.items() if s in tickers}
    snapshot = MarketSnapshot(timestamp=clock(), prices=prices, derivatives=quotes, markets=rules)
    if not tickers and wanted:
        raise RetryableError("the venue returned no prices")
    return MarketRead(snapshot, tickers, tuple(missing))


def price_problems(
    read: MarketRead,
    now: datetime,
    recent: Sequence[Mapping[str, float]],
    max_age_s: float,
    outlier_threshold: float,
) -> list[str]:
    """Why the prices cannot be traded on (empty when they can).

    Parameters
    ----------
    recent:
        The spot prices of the last few cycles (asset -> price), oldest first.
    """
    problems: list[str] = []
    for symbol, ticker in read.tickers.items():
        age = (now - ticker.timestamp).total_seconds()
        if age > max_age_s:
            problems.append(f"{symbol} price is stale ({age:.0f} s old, limit {max_age_s:.0f} s)")
    for asset, price in read.snapshot.prices.items():
        history = [r[asset] for r in recent if asset in r and r[asset] > 0]
        if len(history) < 3:
            continue
        median = statistics.median(history)
        if abs(price - median) / median > outlier_threshold:
            problems.append(f"{asset} at {price:g} is {abs(price / median - 1):.0%} from its recent median {median:g}")
    return problems
