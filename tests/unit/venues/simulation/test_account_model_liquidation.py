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
from trimtab.venues.simulation import PerpPosition, RealityModels, SimulatedAccount

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
