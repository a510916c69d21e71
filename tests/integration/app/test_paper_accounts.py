"""A paper run with the coins in a spot wallet and the hedge in a USD-M wallet: one book, each wallet its own margin.

The run loop reads the book account by account; the hedge is routed to the USD-M account and margined from
that wallet alone. Checked by hand: BTC at 50,000; 2 BTC and 20,000 USDT in spot, 40,000 USDT in USD-M:
equity 160,000, BTC at 62.5 % against a 40 % target, so a short of 36,000 / 50,000 = 0.72 BTC at 2x,
holding 18,000 of initial margin against the USD-M wallet's 40,000 less the 0.05 % taker fee.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from trimtab.app.loop import RunLoop
from trimtab.domain import DerivativePosition, DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding, parse_symbol
from trimtab.execution.config import ExecutionConfig
from trimtab.policy.config import Policy
from trimtab.storage import open_store
from trimtab.storage.state import StateStore
from trimtab.valuation.valuate import valuate
from trimtab.venues.book import AccountBook, BookAccount
from trimtab.venues.paper import FixedFeed, PaperVenue
from trimtab.venues.paper.transfers import PaperTransferDesk
from trimtab.venues.simulation import FeeModel, RealityModels

T0 = datetime(2026, 11, 21, tzinfo=UTC)
PERP = "BTC/USDT:USDT"
POLICY = Policy.model_validate(
    {
        "base_currency": "USDT",
        "class": [
            {"name": "BTC", "assets": ["BTC"], "target": 0.40, "band": 0.05, "hedge": PERP},
            {"name": "STABLE", "assets": ["USDT"], "target": 0.60, "band": 0.05, "cash": True},
        ],
        "rebalance": {"instrument": "perp", "hedge_leverage": 2.0, "max_leverage": 3.0, "margin_buffer": 0.5},
        "costs": {"taker_fee": 0.0005, "maker_fee": 0.0002, "slippage_bps": 0.0},
    }
)


def test_spot_on_one_account_and_the_hedge_on_another_end_inside_the_bands(tmp_path: Path) -> None:
    database = open_store(f"sqlite:///{tmp_path / 'paper.db'}")
    store = StateStore(database)
    market = MarketSnapshot(T0, {"BTC": 50_000.0, "USDT": 1.0}, {PERP: DerivativeQuote(mark=50_000.0)})
    feed, clock = FixedFeed(market), (lambda: T0)
    desk = PaperTransferDesk(store, clock)
    accounts = []
    for name, wallet, holdings in (
        ("binance-spot", "spot", (SpotHolding("BTC", 2.0), SpotHolding("USDT", 20_000.0))),
        ("binance-usdm", "linear", (SpotHolding("USDT", 40_000.0),)),
    ):
        venue = PaperVenue(
            feed,
            base_currency="USDT",
            models=RealityModels(fees=FeeModel(taker=0.0005, maker=0.0002)),
            store=store,
            initial=Portfolio("USDT", holdings),
            clock=clock,
            name=name,
            key=f"paper_account:{name}",
        )
        desk.join(wallet, venue)
        accounts.append(BookAccount(name, "binance", wallet, venue))
    book = AccountBook("binance", accounts)
    loop = RunLoop(
        book, database, POLICY, ExecutionConfig(algo="market", twap_threshold=1e12), clock=clock, sleep=lambda s: None
    )
    result = loop.cycle()
    assert result.triggered and not result.halted and result.guards == []
    assert [(o["symbol"], o["side"], o["filled"]) for o in result.orders] == [(PERP, "sell", pytest.approx(0.72))]

    balances, positions = book.account_balances(), book.account_positions()
    assert balances["binance-spot"] == {"BTC": 2.0, "USDT": 20_000.0}, "the spot wallet is left alone"
    assert positions["binance-spot"] == []
    (hedge,) = positions["binance-usdm"]
    assert hedge.amount == pytest.approx(-0.72) and hedge.leverage == 2.0
    # USD-M by hand: collateral 40,000 - fee 18 (unrealised 0 at the fill's mark); initial margin 18,000
    collateral = balances["binance-usdm"]["USDT"] + hedge.amount * (50_000.0 - hedge.entry_price)
    initial = abs(hedge.amount) * 50_000.0 / hedge.leverage
    assert collateral == pytest.approx(40_000.0 - 18.0)
    assert initial == pytest.approx(18_000.0)
    assert collateral >= (1 + POLICY.rebalance.margin_buffer) * initial

    after = Portfolio(
        "USDT",
        tuple(SpotHolding(a, v, n) for n, held in balances.items() for a, v in held.items()),
        (DerivativePosition(parse_symbol(PERP), hedge.amount, hedge.entry_price, hedge.leverage, "binance-usdm"),),
    )
    weights = valuate(after, market, POLICY.asset_classes()).weights
    assert weights["BTC"] == pytest.approx(0.40, abs=1e-3) and weights["STABLE"] == pytest.approx(0.60, abs=1e-3)
