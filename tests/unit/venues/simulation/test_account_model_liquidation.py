"""The simulated account liquidates where the account model says: tiered maintenance, isolated or cross.

Hand figures, a 1 BTC long entered at 50,000 at 10x:

* isolated, flat 0.5 %: 5,000 + (P - 50,000) = 0.005 P, so P = 45,000 / 0.995 = 45,226.13;
* isolated, Binance-like tiers (0.4 % below 50,000 of notional): 5,000 + (P - 50,000) = 0.004 P, so
  P = 45,000 / 0.996 = 45,180.72 (the notional there, 45,180.72, is in the first tier);
* cross with 10,000 USDT of collateral, flat 0.5 %: 10,000 + (P - 50,000) = 0.005 P, so P = 40,000 / 0.995.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trimtab.domain import DerivativeQuote, MarketRules, MarketSnapshot
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.instruments import parse_symbol
from trimtab.domain.market import MarginTier
from trimtab.venues.simulation import FeeModel, PerpPosition, RealityModels, SimulatedAccount

PERP = "BTC/USDT:USDT"
TIERS = (MarginTier(0.0, 0.004, 0.0, 125.0), MarginTier(50_000.0, 0.005, 50.0, 100.0))


def _account(mode: MarginMode | None) -> SimulatedAccount:
    account = SimulatedAccount("USDT", RealityModels(), {"USDT": 10_000.0})
    account.positions[PERP] = PerpPosition(parse_symbol(PERP), 1.0, 50_000.0, 10.0)
    if mode is not None:
        account.account = Account("binance-usdm", "binance", AccountKind.DERIVATIVES, mode, {"USDT": 1.0})
    return account


def _market(tiers: tuple[MarginTier, ...] = ()) -> MarketSnapshot:
    return MarketSnapshot(
        datetime(2026, 11, 21, tzinfo=UTC),
        {"BTC": 50_000.0, "USDT": 1.0},
        {PERP: DerivativeQuote(mark=50_000.0)},
        markets={PERP: MarketRules(margin_tiers=tiers)},
    )


def test_tiers_move_the_isolated_liquidation_price() -> None:
    flat, tiered = 45_000.0 / 0.995, 45_000.0 / 0.996
    account = _account(MarginMode.ISOLATED)
    assert account.check_liquidations({PERP: (45_200.0, 50_000.0)}, _market(TIERS)) == []  # above 45,180.72
    assert _account(MarginMode.ISOLATED).check_liquidations({PERP: (45_200.0, 50_000.0)}, _market())[0].price == (
        pytest.approx(flat)
    )
    (liquidation,) = account.check_liquidations({PERP: (45_150.0, 50_000.0)}, _market(TIERS))
    assert liquidation.price == pytest.approx(tiered)
    assert liquidation.realised_pnl == pytest.approx(tiered - 50_000.0)
    assert account.positions == {}


def test_a_cross_account_is_liquidated_where_its_whole_collateral_is_gone() -> None:
    cross = 40_000.0 / 0.995
    account = _account(MarginMode.CROSS)
    assert account.check_liquidations({PERP: (41_000.0, 50_000.0)}, _market()) == []  # isolated would have gone
    (liquidation,) = account.check_liquidations({PERP: (40_000.0, 50_000.0)}, _market())
    assert liquidation.price == pytest.approx(cross)


def _two_legged(cash: float) -> tuple[SimulatedAccount, MarketSnapshot]:
    # A BTC short of 0.1 entered at 60,000 (listed first) and an ETH long of 10 entered at 5,000, no fees.
    account = SimulatedAccount("USDT", RealityModels(fees=FeeModel(0.0, 0.0)), {"USDT": cash})
    account.positions["BTC/USDT:USDT"] = PerpPosition(parse_symbol("BTC/USDT:USDT"), -0.1, 60_000.0, 10.0)
    account.positions["ETH/USDT:USDT"] = PerpPosition(parse_symbol("ETH/USDT:USDT"), 10.0, 5_000.0, 10.0)
    market = MarketSnapshot(
        datetime(2026, 11, 21, tzinfo=UTC),
        {"BTC": 60_000.0, "ETH": 3_000.0, "USDT": 1.0},
        {"BTC/USDT:USDT": DerivativeQuote(mark=60_000.0), "ETH/USDT:USDT": DerivativeQuote(mark=3_000.0)},
    )
    return account, market


def test_the_position_that_crossed_its_price_goes_before_one_past_only_through_the_account() -> None:
    # 1,000 USDT; at the close ETH is 3,000 (-20,000), so the account (collateral -19,000, maintenance 180) is
    # past liquidation. ETH's own price, BTC held: 1,000 + 10 (P - 5,000) = 0.05 P + 30, P = 49,030 / 9.95 =
    # 4,927.64, which the bar crossed; BTC's does not exist (the short is 0 away, at its mark). ETH goes first,
    # at 4,927.64, leaving 1,000 - 723.62 = 276.38; BTC then solves 276.38 - 0.1 (P - 60,000) = 0.0005 P,
    # P = 6,276.38 / 0.1005 = 62,451.5, above the bar's 60,500 high: the short stays.
    account, market = _two_legged(1_000.0)
    adverse = {"BTC/USDT:USDT": (59_500.0, 60_500.0), "ETH/USDT:USDT": (3_000.0, 5_100.0)}
    (liquidation,) = account.check_liquidations(adverse, market)
    assert liquidation.symbol == "ETH/USDT:USDT"
    assert liquidation.price == pytest.approx(49_030.0 / 9.95)
    assert account.cash == pytest.approx(1_000.0 + 10.0 * (49_030.0 / 9.95 - 5_000.0))
    assert list(account.positions) == ["BTC/USDT:USDT"]


def test_a_short_its_account_cannot_carry_at_any_price_is_closed_at_the_mark() -> None:
    # A debt of 7,000 USDT and the BTC short alone: 0.1 (60,000 - P) - 7,000 = 0.0005 P has no positive P.
    # The account is under its maintenance margin whatever BTC's price: the short is liquidated at the mark.
    account, market = _two_legged(-7_000.0)
    del account.positions["ETH/USDT:USDT"]
    (liquidation,) = account.check_liquidations({"BTC/USDT:USDT": (59_900.0, 60_100.0)}, market)
    assert (liquidation.symbol, liquidation.price, liquidation.realised_pnl) == ("BTC/USDT:USDT", 60_000.0, 0.0)
    assert account.positions == {}
