"""A cross account at or past liquidation (collateral <= maintenance margin) never reads as safe.

The hand-worked case follows the contract's definitions (*Accounts, collateral and margin*): collateral =
balances + unrealised PnL; maintenance = 0.5 % of notional without tiers; the cross liquidation price of a
position is the price at which the account's collateral equals its total maintenance margin, other prices
unchanged. docs/valuation.md works the same example.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.domain import AssetClass, DerivativePosition, DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding
from trimtab.domain import parse_symbol as sym
from trimtab.session.guards import liquidation_guard
from trimtab.valuation import account_margins, account_ok, valuate

NOW = datetime(2026, 11, 21, tzinfo=UTC)
MARKS = {"BTC/USDT:USDT": 60000.0, "ETH/USDT:USDT": 3000.0, "SOL/USDT:USDT": 150.0}
MARKET = MarketSnapshot(
    NOW,
    {"BTC": 60000.0, "ETH": 3000.0, "SOL": 150.0},
    {symbol: DerivativeQuote(mark) for symbol, mark in MARKS.items()},
)
CLASSES = (
    AssetClass("CRYPTO", ("BTC", "ETH", "SOL"), 0.5, {}, band=0.5),
    AssetClass("STABLE", ("USDT",), 0.5, {}, band=0.5, cash=True),
)


def _deep_book() -> Portfolio:
    # 1,000 USDT; 2 BTC long at 10x entered at 70,000 (mark 60,000: -20,000 of PnL); 1 ETH short at 5x
    # entered at 3,100 (mark 3,000: +100).
    return Portfolio(
        "USDT",
        (SpotHolding("USDT", 1000.0),),
        (
            DerivativePosition(sym("BTC/USDT:USDT"), 2.0, 70000.0, 10.0),
            DerivativePosition(sym("ETH/USDT:USDT"), -1.0, 3100.0, 5.0),
        ),
    )


def test_a_deeply_negative_cross_account_is_at_liquidation_and_every_position_is_0_away() -> None:
    result = account_margins(_deep_book(), MARKET)
    (account,) = result.accounts
    # Collateral 1,000 - 20,000 + 100 = -18,900; initial 120,000 / 10 + 3,000 / 5 = 12,600;
    # maintenance 0.5 % x (120,000 + 3,000) = 615; free -18,900 - 12,600 = -31,500.
    assert account.collateral == pytest.approx(-18900.0)
    assert account.initial == pytest.approx(12600.0)
    assert account.maintenance == pytest.approx(615.0)
    assert account.free_collateral == pytest.approx(-31500.0)
    assert account.at_liquidation
    assert not account_ok(account, 0.0)
    btc, eth = result.positions
    # BTC, ETH held at 3,000: 1,000 + 2 (P - 70,000) + 100 = 0.01 P + 15  ->  P = 138,915 / 1.99 = 69,806.5,
    # above the 60,000 mark: the long is already past it.
    assert btc.liquidation_price == pytest.approx(138915.0 / 1.99)
    assert btc.liquidation_distance == 0.0
    # ETH, BTC held at 60,000: 1,000 - 20,000 - (P - 3,100) = 600 + 0.005 P  ->  P = -16,500 / 1.005 < 0:
    # no price carries the account. The short is liquidated now: at its mark, 0 away (never None).
    assert eth.liquidation_price == pytest.approx(3000.0)
    assert eth.liquidation_distance == 0.0


def test_a_solvent_cross_account_is_not_at_liquidation() -> None:
    # The same book with 40,000 USDT: collateral 20,100 > 615 of maintenance.
    book = _deep_book()
    book = Portfolio("USDT", (SpotHolding("USDT", 40000.0),), book.derivatives)
    (account,) = account_margins(book, MARKET).accounts
    assert account.collateral == pytest.approx(20100.0)
    assert not account.at_liquidation
    assert account.to_dict()["at_liquidation"] is False


def test_the_liquidation_guard_cuts_every_position_of_an_account_at_liquidation() -> None:
    verdict = liquidation_guard(valuate(_deep_book(), MARKET, CLASSES), buffer=0.05, fraction=0.5)
    assert verdict.reducing_only
    assert sorted(t.symbol for t in verdict.trades) == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert all(t.reduce_only for t in verdict.trades)


rows = st.lists(
    st.tuples(
        st.sampled_from(tuple(MARKS)),
        st.floats(min_value=-5.0, max_value=5.0).filter(lambda x: abs(x) > 1e-3),
        st.floats(min_value=0.3, max_value=3.0),  # entry / mark
        st.sampled_from((1.0, 5.0, 20.0)),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(rows=rows, cash=st.floats(min_value=-100_000.0, max_value=100_000.0))
def test_an_account_below_maintenance_is_never_reported_as_safe(
    rows: list[tuple[str, float, float, float]], cash: float
) -> None:
    positions = tuple(
        DerivativePosition(sym(symbol), amount, MARKS[symbol] * factor, leverage)
        for symbol, amount, factor, leverage in rows
    )
    book = Portfolio("USDT", (SpotHolding("USDT", cash),), positions)
    valuation = valuate(book, MARKET, CLASSES)
    (account,) = valuation.accounts
    # Independently of the model's flag: collateral and maintenance summed here from the contract's rules.
    collateral = cash + sum(p.amount * (MARKS[p.instrument.symbol] - p.entry_price) for p in positions)
    maintenance = sum(0.005 * abs(p.amount) * MARKS[p.instrument.symbol] for p in positions)
    if collateral > maintenance * (1.0 + 1e-9) + 1e-6:
        assert not account.at_liquidation
        return
    if collateral < maintenance * (1.0 - 1e-9) - 1e-6:
        assert account.at_liquidation
        assert not account_ok(account, 0.0)
    for risk in valuation.positions:
        if risk.amount == 0.0:
            continue
        assert risk.liquidation_distance is not None
        assert risk.liquidation_distance <= 1e-9
        assert risk.liquidation_price is not None
    if account.at_liquidation:
        assert valuation.min_liquidation_distance == 0.0
        verdict = liquidation_guard(valuation, buffer=0.01, fraction=0.5)
        assert len(verdict.trades) == len([p for p in valuation.positions if p.amount != 0.0])
