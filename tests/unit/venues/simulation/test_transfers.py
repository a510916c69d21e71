"""What may leave a simulated account by transfer: the account model's free collateral, worked by hand.

The contract (*Accounts, collateral and margin*): collateral value = balances x price x haircut + unrealised
PnL; initial margin = |notional| / leverage at the mark; maintenance = |notional| x rate - amount of the
tier. A transfer may take a collateral asset down to what the free collateral (and, with tiers, the room
above the maintenance margin) allows, never more than the balance.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trimtab.domain import DerivativeQuote, MarketRules, MarketSnapshot
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.instruments import parse_symbol
from trimtab.domain.market import MarginTier
from trimtab.venues.simulation import PerpPosition, RealityModels, SimulatedAccount
from trimtab.venues.simulation.transfers import move, withdrawable

PERP = "BTC/USDT:USDT"
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def _account(
    balances: dict[str, float], amount: float, entry: float, leverage: float, **collateral: float
) -> SimulatedAccount:
    account = SimulatedAccount("USDT", RealityModels(), dict(balances))
    account.positions[PERP] = PerpPosition(parse_symbol(PERP), amount, entry, leverage)
    account.account = Account("usdm", "binance", AccountKind.DERIVATIVES, MarginMode.CROSS, collateral or {"USDT": 1.0})
    return account


def _market(mark: float, tiers: tuple[MarginTier, ...] = ()) -> MarketSnapshot:
    return MarketSnapshot(
        NOW,
        {"BTC": mark, "USDT": 1.0, "USDC": 1.0},
        {PERP: DerivativeQuote(mark=mark)},
        markets={PERP: MarketRules(margin_tiers=tiers)} if tiers else {},
    )


def test_a_position_held_above_its_tiers_leverage_keeps_its_maintenance_margin() -> None:
    # Tiers: 0.4 % below 100,000 of notional; 10 % above, amount 9,600 (100,000 x 0.1 - 400, continuous),
    # max leverage 5. 4 BTC long at 50,000 (200,000) at 20x on 12,000 USDT:
    # initial 200,000 / 20 = 10,000; maintenance 200,000 x 10 % - 9,600 = 10,400, more than the initial.
    # Free collateral 12,000 - 10,000 = 2,000 (what balance + PnL - initial margin also gives), but taking it
    # would leave 10,000 of collateral under 10,400 of maintenance: only 12,000 - 10,400 = 1,600 may leave.
    tiers = (MarginTier(0.0, 0.004, 0.0, 125.0), MarginTier(100_000.0, 0.1, 9_600.0, 5.0))
    account = _account({"USDT": 12_000.0}, 4.0, 50_000.0, 20.0)
    market = _market(50_000.0, tiers)
    assert withdrawable(account, "USDT", market) == pytest.approx(1_600.0)
    with pytest.raises(ValueError, match="1600 may leave"):
        move(account, SimulatedAccount("USDT", RealityModels(), {}), "USDT", 2_000.0, market)
    # Without tiers (0.5 %: maintenance 1,000) the free collateral is the limit.
    assert withdrawable(account, "USDT", _market(50_000.0)) == pytest.approx(2_000.0)


def test_initial_margin_is_held_at_the_mark_not_the_entry() -> None:
    # A 0.2 BTC short at 1x entered at 50,000, marked 60,000, on 20,000 USDT: collateral 20,000 - 2,000 =
    # 18,000; initial margin 0.2 x 60,000 = 12,000; 6,000 may leave (at the entry price it would be 8,000).
    account = _account({"USDT": 20_000.0}, -0.2, 50_000.0, 1.0)
    assert withdrawable(account, "USDT", _market(60_000.0)) == pytest.approx(6_000.0)


def test_a_haircut_collateral_asset_leaves_only_as_far_as_the_free_collateral_allows() -> None:
    # Collateral {USDT 1.0, USDC 0.95}: 1,000 USDT and 10,000 USDC; 1 BTC long at 50,000 at 10x.
    # Collateral 1,000 + 9,500 = 10,500; initial 5,000; free 5,500; maintenance 250.
    # USDC: 5,500 / 0.95 = 5,789.47 may leave (not all 10,000); USDT: its whole balance; BTC is no collateral.
    account = _account({"USDT": 1_000.0, "USDC": 10_000.0, "BTC": 0.5}, 1.0, 50_000.0, 10.0, USDT=1.0, USDC=0.95)
    market = _market(50_000.0)
    assert withdrawable(account, "USDC", market) == pytest.approx(5_500.0 / 0.95)
    assert withdrawable(account, "USDT", market) == pytest.approx(1_000.0)
    assert withdrawable(account, "BTC", market) == pytest.approx(0.5)


def test_nothing_leaves_an_account_past_its_free_collateral() -> None:
    # 1 BTC long at 10x entered at 50,000, marked 46,000, on 8,000 USDT: collateral 4,000, initial 4,600.
    account = _account({"USDT": 8_000.0}, 1.0, 50_000.0, 10.0)
    assert withdrawable(account, "USDT", _market(46_000.0)) == 0.0
