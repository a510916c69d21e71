"""Transfers between accounts of one exchange: what moves, from where, and what each source keeps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from trimtab.domain import (
    AssetClass,
    DerivativePosition,
    DerivativeQuote,
    InstrumentKind,
    MarketSnapshot,
    Portfolio,
    SpotHolding,
    parse_symbol,
)
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.plan import Side, Trade, Transfer
from trimtab.planner.apply import apply_trades, apply_transfers
from trimtab.planner.transfers import plan_transfers
from trimtab.valuation.model import Valuation
from trimtab.valuation.valuate import valuate

NOW = datetime(2026, 11, 21, tzinfo=UTC)
PERP = "BTC/USDT:USDT"
MARKET = MarketSnapshot(NOW, {"BTC": 50000.0, "USDC": 1.0}, {PERP: DerivativeQuote(50000.0)})
CLASSES = (
    AssetClass("BTC", ("BTC",), 0.5, {"BTC": 1.0}, band=0.05, hedge=PERP),
    AssetClass("STABLE", ("USDT", "USDC"), 0.5, {"USDT": 0.5, "USDC": 0.5}, band=0.05, cash=True),
)
SHORT = Trade("BTC", PERP, InstrumentKind.PERP, Side.SELL, 0.2, 10000.0, 50000.0, "futures")


def _account(name: str, kind: AccountKind, exchange: str = "binance", **collateral: float) -> Account:
    return Account(name, exchange, kind, MarginMode.CROSS, collateral or {"USDT": 1.0})


def _after(portfolio: Portfolio, fee: float = 0.0, leverage: float = 1.0):  # type: ignore[no-untyped-def]
    def after(transfers: Sequence[Transfer], trades: Sequence[Trade]) -> tuple[Portfolio, Valuation]:
        moved = apply_trades(apply_transfers(portfolio, transfers), trades, MARKET, fee, leverage)
        return moved, valuate(moved, MARKET, CLASSES)

    return after


def test_the_missing_collateral_moves_from_the_spot_wallet() -> None:
    accounts = (_account("spot", AccountKind.SPOT), _account("futures", AccountKind.DERIVATIVES))
    portfolio = Portfolio("USDT", (SpotHolding("USDT", 20000.0, "spot"),), (), accounts)
    # A 10,000 short at 1x needs 1.5 x 10,000 of collateral.
    (transfer,) = plan_transfers(portfolio, (SHORT,), _after(portfolio), MARKET, 0.5)
    assert (transfer.asset, transfer.from_account, transfer.to_account) == ("USDT", "spot", "futures")
    assert transfer.amount == pytest.approx(15000.0, abs=1e-7)


def test_no_transfer_between_exchanges() -> None:
    accounts = (_account("okx", AccountKind.SPOT, "okx"), _account("futures", AccountKind.DERIVATIVES))
    portfolio = Portfolio("USDT", (SpotHolding("USDT", 20000.0, "okx"),), (), accounts)
    assert plan_transfers(portfolio, (SHORT,), _after(portfolio), MARKET, 0.5) == ()


def test_a_derivatives_source_keeps_its_own_buffer() -> None:
    accounts = (
        _account("other", AccountKind.DERIVATIVES),
        _account("futures", AccountKind.DERIVATIVES),
    )
    # "other" holds 12,000 USDT and a 10,000 short at 1x: it must keep 15,000... it has only 12,000 + 0 PnL,
    # so it has nothing to spare; with 20,000 it spares 5,000.
    position = DerivativePosition(parse_symbol(PERP), -0.2, 50000.0, 1.0, "other")
    for usdt, spare in ((12000.0, 0.0), (20000.0, 5000.0)):
        portfolio = Portfolio("USDT", (SpotHolding("USDT", usdt, "other"),), (position,), accounts)
        transfers = plan_transfers(portfolio, (SHORT,), _after(portfolio), MARKET, 0.5)
        assert sum(t.amount for t in transfers) == pytest.approx(spare, abs=1e-7)


def test_the_highest_haircut_goes_first_and_counts_at_its_haircut() -> None:
    accounts = (
        _account("spot", AccountKind.SPOT),
        Account("futures", "binance", AccountKind.DERIVATIVES, MarginMode.CROSS, {"USDT": 1.0, "USDC": 0.9}),
    )
    spot = (SpotHolding("USDT", 4000.0, "spot"), SpotHolding("USDC", 50000.0, "spot"))
    portfolio = Portfolio("USDT", spot, (), accounts)
    usdt, usdc = plan_transfers(portfolio, (SHORT,), _after(portfolio), MARKET, 0.5)
    # 4,000 USDT at 1.0 first, then the remaining 11,000 of value in USDC at 0.9: 11,000 / 0.9 coins.
    assert (usdt.asset, usdt.amount) == ("USDT", pytest.approx(4000.0))
    assert usdc.asset == "USDC"
    assert usdc.amount == pytest.approx(11000.0 / 0.9, abs=1e-7)


def test_nothing_moves_when_the_account_already_carries_its_openings() -> None:
    accounts = (_account("spot", AccountKind.SPOT), _account("futures", AccountKind.DERIVATIVES))
    spot = (SpotHolding("USDT", 20000.0, "spot"), SpotHolding("USDT", 15000.0, "futures"))
    portfolio = Portfolio("USDT", spot, (), accounts)
    assert plan_transfers(portfolio, (SHORT,), _after(portfolio), MARKET, 0.5) == ()


def test_apply_transfers_moves_balances_and_keeps_the_accounts() -> None:
    accounts = (_account("spot", AccountKind.SPOT), _account("futures", AccountKind.DERIVATIVES))
    portfolio = Portfolio("USDT", (SpotHolding("USDT", 20000.0, "spot"),), (), accounts)
    moved = apply_transfers(portfolio, (Transfer("USDT", 5000.0, "spot", "futures"),))
    balances = {(h.asset, h.venue): h.amount for h in moved.spot}
    assert balances == {("USDT", "spot"): 15000.0, ("USDT", "futures"): 5000.0}
    assert moved.accounts == accounts
