"""The paper venue in the venue contract suite: a fresh account on a fixed snapshot it can move."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from trimtab.domain import DerivativeQuote, MarketRules, MarketSnapshot, Portfolio, SpotHolding
from trimtab.policy.config import CostsConfig
from trimtab.storage import open_store
from trimtab.storage.state import StateStore
from trimtab.testing.venue_contract import VenueHarness, register_venue
from trimtab.venues.paper import FixedFeed, PaperVenue
from trimtab.venues.simulation import RealityModels

PERP = "BTC/USDT:USDT"


def contract_market(btc: float = 60_000.0) -> MarketSnapshot:
    """BTC near 60 000 with Binance-like lot rules on spot and the perpetual."""
    return MarketSnapshot(
        timestamp=datetime.now(UTC),
        prices={"BTC": btc, "ETH": 3_000.0, "USDT": 1.0},
        derivatives={PERP: DerivativeQuote(mark=btc, funding_rate=0.0001, funding_interval_hours=8.0)},
        markets={
            "BTC/USDT": MarketRules(amount_step=0.00001, min_amount=0.00001, min_notional=5.0),
            "ETH/USDT": MarketRules(amount_step=0.0001, min_amount=0.0001, min_notional=5.0),
            PERP: MarketRules(amount_step=0.001, min_amount=0.001, min_notional=5.0),
        },
    )


@register_venue("paper")
@contextmanager
def paper_harness(tmp_path: Path) -> Iterator[VenueHarness]:
    """A paper venue kept in a SQLite store under ``tmp_path``, holding 100 000 USDT and 1 BTC."""
    feed = FixedFeed(contract_market())
    store = open_store(f"sqlite:///{tmp_path / 'paper-contract.db'}")
    venue = PaperVenue(
        feed,
        base_currency="USDT",
        models=RealityModels.from_costs(CostsConfig(taker_fee=0.001, maker_fee=0.0002, slippage_bps=2.0)),
        store=StateStore(store),
        initial=Portfolio("USDT", (SpotHolding("USDT", 100_000.0), SpotHolding("BTC", 1.0))),
    )

    def set_price(symbol: str, price: float) -> None:
        base = symbol.split("/", maxsplit=1)[0]
        market = feed.market
        derivatives = {
            s: replace(q, mark=price) if s.split("/")[0] == base else q for s, q in market.derivatives.items()
        }
        feed.market = replace(market, prices={**market.prices, base: price}, derivatives=derivatives)

    def fill_resting(symbol: str, client_order_id: str, amount: float | None) -> None:
        venue.fill_order(client_order_id, amount)

    try:
        yield VenueHarness(venue, "BTC/USDT", PERP, fill_resting, set_price)
    finally:
        venue.close()
        store.close()
