"""Paper trading on live prices: the paper venue fed by an exchange's public tickers (``--prices EXCHANGE``).

Each snapshot is what ``trimtab snapshot`` builds (:func:`trimtab.feed.snapshot.build_snapshot`: spot tickers,
the hedges' marks and funding rates, the markets' lot rules), asked again once ``max_age_s`` has passed, and
stamped with the run's clock. No key is sent: only public endpoints are called.

A ticker gives the last trade, not every trade between two looks, so a resting limit order fills only when a
price the feed actually saw after the order was placed reached it (:meth:`LiveFeed.traded_range`): never on
a move nobody observed, never better than its own price. Funding settles at the quote's own interval from
00:00 UTC at the rate last seen, as on a fixed snapshot.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from trimtab.domain.market import MarketSnapshot
from trimtab.feed.snapshot import build_snapshot
from trimtab.loaders.market import market_from_document
from trimtab.policy.config import Policy
from trimtab.venues.paper.feed import FundingSettlement, grid_stamps, reference_price

KEEP = 10_000
"""Snapshots remembered for traded ranges and prices in the past (about a week at one a minute)."""


class LiveFeed:
    """The market now, from ``exchange``'s public endpoints, for the policy's assets and hedges."""

    replaying = False

    def __init__(
        self,
        exchange: Any,
        policy: Policy,
        clock: Callable[[], datetime],
        *,
        max_age_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.exchange = exchange
        self.policy = policy
        self.clock = clock
        self.max_age_s = max_age_s
        self._monotonic = monotonic
        self._fetched_at = -float("inf")
        self._seen: deque[MarketSnapshot] = deque(maxlen=KEEP)

    def snapshot(self) -> MarketSnapshot:
        """The last snapshot, asked again from the exchange once it is ``max_age_s`` old."""
        if not self._seen or self._monotonic() - self._fetched_at >= self.max_age_s:
            self.refresh()
        return self._seen[-1]

    def refresh(self) -> MarketSnapshot:
        """Ask the exchange now; the snapshot is stamped with the run's clock."""
        now = self.clock()
        document = build_snapshot(self.exchange, self.policy, now=now)
        market = market_from_document(document, f"{self.exchange.id} tickers")
        self._fetched_at = self._monotonic()
        self._seen.append(market)
        return market

    def price_at(self, asset: str, moment: datetime) -> float | None:
        """The price of ``asset`` in the last snapshot seen at or before ``moment``."""
        for market in reversed(self._seen):
            if market.timestamp <= moment:
                return market.prices.get(asset)
        return None

    def traded_range(self, symbol: str, since: datetime, now: datetime) -> tuple[float, float] | None:
        """The lowest and highest price of ``symbol`` among the snapshots seen after ``since`` up to ``now``."""
        prices = [
            price
            for market in self._seen
            if since < market.timestamp <= now and (price := reference_price(market, symbol)) is not None
        ]
        return (min(prices), max(prices)) if prices else None

    def funding_between(self, symbol: str, after: datetime, until: datetime) -> list[FundingSettlement]:
        """Settlements every ``funding_interval_hours`` from 00:00 UTC in ``(after, until]``, at the rate last seen."""
        quote = self.snapshot().derivatives.get(symbol)
        if quote is None:
            return []
        return [(stamp, quote.funding_rate, None) for stamp in grid_stamps(after, until, quote.funding_interval_hours)]
