"""A paper run of a portfolio without ``[[account]]`` tables keeps the contract's default accounts.

Every venue a row names is an account; one without a table is unified, cross, its collateral the base
currency at 1.0 (the contract's *Accounts, collateral and margin*), margined from its own balances only.

Hand figures (BTC at 50,000, no tiers: 0.5 % maintenance): ``okx`` holds 1,000 USDT and a 1 BTC short
entered at 50,000 at 5x; ``binance`` holds 50,000 USDT. The short's cross liquidation price solves
``1,000 - (P - 50,000) = 0.005 P``: P = 51,000 / 1.005 = 50,746.27, 1.49 % above the mark. Had the two
wallets been one account, ``51,000 - (P - 50,000) = 0.005 P`` would give P = 101,000 / 1.005 = 100,497.51.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trimtab.domain import DerivativePosition, DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding, parse_symbol
from trimtab.valuation.accounts import account_margins
from trimtab.venues.book import AccountBook
from trimtab.venues.paper import FixedFeed, MemoryStore, PaperVenue
from trimtab.venues.paper.accounts import PAPER_ACCOUNTS_KEY, build_paper_book
from trimtab.venues.simulation import RealityModels

T0 = datetime(2026, 11, 21, tzinfo=UTC)
PERP = "BTC/USDT:USDT"
MARKET = MarketSnapshot(T0, {"BTC": 50_000.0, "USDT": 1.0}, {PERP: DerivativeQuote(mark=50_000.0)})
TWO_VENUES = Portfolio(
    "USDT",
    (SpotHolding("USDT", 1_000.0, "okx"), SpotHolding("USDT", 50_000.0, "binance")),
    (DerivativePosition(parse_symbol(PERP), -1.0, 50_000.0, 5.0, "okx"),),
)


def _book(store: MemoryStore, initial: Portfolio) -> AccountBook | None:
    return build_paper_book(
        FixedFeed(MARKET), base_currency="USDT", models=RealityModels(), store=store, initial=initial, clock=lambda: T0
    )


def test_two_undeclared_venues_are_two_cross_accounts_as_plan_reads_them() -> None:
    store = MemoryStore()
    book = _book(store, TWO_VENUES)
    assert book is not None
    assert [(a.name, a.wallet) for a in book.accounts] == [("okx", "unified"), ("binance", "unified")]
    assert [d["margin_mode"] for d in store.get(PAPER_ACCOUNTS_KEY)] == ["cross", "cross"]
    assert book.account_balances() == {"okx": {"USDT": 1_000.0}, "binance": {"USDT": 50_000.0}}
    (short,) = book.account_positions()["okx"]
    assert short.liquidation_price == pytest.approx(51_000.0 / 1.005, rel=1e-12)
    # The planner's account model, on the portfolio file itself, gives the same price.
    (planned,) = account_margins(TWO_VENUES, MARKET).positions
    assert planned.liquidation_price == pytest.approx(51_000.0 / 1.005, rel=1e-12)


def test_one_undeclared_venue_stays_one_paper_account() -> None:
    one = Portfolio("USDT", (SpotHolding("USDT", 51_000.0, "okx"),), TWO_VENUES.derivatives)
    assert _book(MemoryStore(), one) is None
    venue = PaperVenue(FixedFeed(MARKET), base_currency="USDT", initial=one, clock=lambda: T0)
    (short,) = venue.fetch_positions()
    assert short.liquidation_price == pytest.approx(101_000.0 / 1.005, rel=1e-12)  # all 51,000 margin it


def test_a_run_started_as_one_paper_account_is_read_back_as_it_was() -> None:
    store = MemoryStore()
    PaperVenue(FixedFeed(MARKET), base_currency="USDT", store=store, initial=TWO_VENUES, clock=lambda: T0)
    assert _book(store, TWO_VENUES) is None
