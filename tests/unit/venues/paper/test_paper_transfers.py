"""Paper accounts of one exchange as one book: transfers between wallets, refused as an exchange refuses them.

Binance-like: a spot wallet holding the coins and USDT, a USD-M wallet that margins the perpetual from its own
balance only. Figures by hand: a 1x short of 0.2 BTC at 50,000 holds 10,000 of initial margin.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from trimtab.domain import DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding
from trimtab.domain.plan import Side
from trimtab.errors import OrderRejectedError, TransferRejectedError
from trimtab.execution.transfers import TransferExecutor
from trimtab.storage import open_store
from trimtab.storage.state import StateStore
from trimtab.storage.transfers import TransferJournal
from trimtab.venues.book import AccountBook, BookAccount
from trimtab.venues.paper import FixedFeed, PaperVenue
from trimtab.venues.paper.transfers import PaperTransferDesk
from trimtab.venues.ports import OrderRequest, OrderStatus, OrderType, TransferRequest
from trimtab.venues.simulation import FeeModel, RealityModels

T0 = datetime(2026, 11, 21, tzinfo=UTC)
PERP = "BTC/USDT:USDT"


def _book(store: StateStore) -> AccountBook:
    feed = FixedFeed(MarketSnapshot(T0, {"BTC": 50_000.0, "USDT": 1.0}, {PERP: DerivativeQuote(mark=50_000.0)}))
    models = RealityModels(fees=FeeModel(taker=0.0005, maker=0.0002))
    clock = lambda: T0  # noqa: E731
    desk = PaperTransferDesk(store, clock)
    accounts = []
    for name, wallet, holdings in (
        ("binance-spot", "spot", (SpotHolding("USDT", 30_000.0), SpotHolding("BTC", 1.0))),
        ("binance-usdm", "linear", ()),
    ):
        venue = PaperVenue(
            feed,
            base_currency="USDT",
            models=models,
            store=store,
            initial=Portfolio("USDT", holdings),
            clock=clock,
            name=name,
            key=f"paper_account:{name}",
        )
        desk.join(wallet, venue)
        accounts.append(BookAccount(name, "binance", wallet, venue))
    return AccountBook("binance", accounts)


def _short(cid: str) -> OrderRequest:
    return OrderRequest(cid, PERP, Side.SELL, OrderType.MARKET, 0.2)


def test_the_hedge_needs_collateral_in_its_own_wallet_and_a_transfer_brings_it(tmp_path: Path) -> None:
    store = StateStore(open_store(f"sqlite:///{tmp_path / 'paper.db'}"))
    book = _book(store)
    with pytest.raises(OrderRejectedError, match="insufficient margin"):
        book.create_order(_short("tt-1"))  # 30,000 USDT sit in the spot wallet, none in USD-M

    desk = book.transfer_venue("binance")
    state = desk.transfer(book.transfer_request("x-1", "USDT", 12_000.0, "binance-spot", "binance-usdm"))
    assert state.status == "ok" and state.amount == 12_000.0
    assert book.account_balances() == {
        "binance-spot": {"USDT": 18_000.0, "BTC": 1.0},
        "binance-usdm": {"USDT": 12_000.0},
    }
    order = book.create_order(_short("tt-2"))
    assert order.status is OrderStatus.FILLED
    positions = book.account_positions()
    assert positions["binance-spot"] == [] and positions["binance-usdm"][0].amount == pytest.approx(-0.2)
    # fee 0.05 % of 10,000 = 5; may leave USD-M: 12,000 - 5 - 10,000 of initial margin = 1,995
    with pytest.raises(TransferRejectedError, match="1995 may leave"):
        desk.transfer(book.transfer_request("x-2", "USDT", 2_000.0, "binance-usdm", "binance-spot"))
    back = desk.transfer(book.transfer_request("x-3", "USDT", 1_995.0, "binance-usdm", "binance-spot"))
    assert back.status == "ok"
    assert [t.amount for t in desk.fetch_transfers("USDT", "spot", "linear")] == [12_000.0]
    assert [t.amount for t in desk.fetch_transfers("USDT", "linear", "spot")] == [1_995.0]

    restarted = _book(store)  # the accounts and the ledger live in the store
    assert restarted.account_balances()["binance-usdm"] == {"USDT": pytest.approx(12_000.0 - 5.0 - 1_995.0)}
    assert restarted.account_balances()["binance-spot"]["USDT"] == pytest.approx(18_000.0 + 1_995.0)
    assert len(restarted.transfer_venue("binance").fetch_transfers("USDT", "spot", "linear")) == 1


def test_transfers_are_refused_like_an_exchange_refuses_them(tmp_path: Path) -> None:
    store = StateStore(open_store(f"sqlite:///{tmp_path / 'paper.db'}"))
    book = _book(store)
    desk = book.transfer_venue("binance")
    request = book.transfer_request("x-1", "BTC", 0.5, "binance-spot", "binance-usdm")
    desk.transfer(request)
    with pytest.raises(TransferRejectedError, match="already made"):
        desk.transfer(request)
    with pytest.raises(TransferRejectedError, match="may leave"):
        desk.transfer(book.transfer_request("x-2", "BTC", 0.6, "binance-spot", "binance-usdm"))
    with pytest.raises(TransferRejectedError, match="positive"):
        desk.transfer(book.transfer_request("x-3", "USDT", 0.0, "binance-spot", "binance-usdm"))
    with pytest.raises(TransferRejectedError, match="wallets are"):
        desk.transfer(TransferRequest("x-4", "USDT", 1.0, "spot", "inverse"))  # no COIN-M wallet in this book
    assert book.account_balances()["binance-spot"]["BTC"] == pytest.approx(0.5)


def test_the_transfer_executor_journals_a_paper_transfer_once(tmp_path: Path) -> None:
    database = open_store(f"sqlite:///{tmp_path / 'paper.db'}")
    book = _book(StateStore(database))
    executor = TransferExecutor(book.transfer_venue("binance"), TransferJournal(database), now=lambda: T0)  # type: ignore[arg-type]
    request = book.transfer_request("x-9", "USDT", 5_000.0, "binance-spot", "binance-usdm")
    record = executor.execute(request)
    assert record.status == "done" and record.exchange_transfer_id == "PT1"
    again = executor.execute(request)  # journaled: resolved, never sent twice
    assert again.status == "done"
    assert book.account_balances()["binance-usdm"] == {"USDT": 5_000.0}
