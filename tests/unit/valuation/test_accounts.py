"""The account model, by hand: collateral, margin, free collateral and liquidation per account kind.

Every figure is worked out in the comments from the contract's definitions (section *Accounts, collateral
and margin*); the same examples are in docs/valuation.md.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trimtab.domain import DerivativePosition, DerivativeQuote, MarketRules, MarketSnapshot, Portfolio, SpotHolding
from trimtab.domain import parse_symbol as sym
from trimtab.domain.accounts import Account, AccountKind, MarginMode, default_account
from trimtab.domain.market import MarginTier
from trimtab.valuation import account_margins, account_ok

NOW = datetime(2026, 11, 21, tzinfo=UTC)
PRICES = {"BTC": 60000.0, "ETH": 3000.0, "USDC": 1.0}
QUOTES = {
    "BTC/USDT:USDT": DerivativeQuote(60000.0),
    "ETH/USDT:USDT": DerivativeQuote(3000.0),
    "BTC/USDT:USDT-261225-50000-P": DerivativeQuote(400.0, iv=0.6),
    "BTC/USDT:USDT-261225-70000-C": DerivativeQuote(900.0, iv=0.6),
}
# Binance USD-M BTCUSDT's first two brackets (recorded fapi/v1/leverageBracket answer; see the acceptance test).
BTC_TIERS = (MarginTier(0.0, 0.004, 0.0, 125.0), MarginTier(50000.0, 0.005, 50.0, 100.0))


def _market(**rules: MarketRules) -> MarketSnapshot:
    return MarketSnapshot(NOW, PRICES, QUOTES, markets=rules)


def test_a_venue_without_a_table_is_one_unified_cross_wallet_of_the_base_currency() -> None:
    account = default_account("binance", "USDT")
    assert (account.kind, account.margin_mode, dict(account.collateral)) == (
        AccountKind.UNIFIED,
        MarginMode.CROSS,
        {"USDT": 1.0},
    )
    # The measured case: 1 BTC long at 10x on 50,000 USDT, mark 96,000: 50,000 - 96,000 / 10 free.
    book = Portfolio(
        "USDT", (SpotHolding("USDT", 50000.0),), (DerivativePosition(sym("BTC/USDT:USDT"), 1.0, 96000.0, 10.0),)
    )
    market = MarketSnapshot(NOW, {"BTC": 96000.0}, {"BTC/USDT:USDT": DerivativeQuote(96000.0)})
    (margin,) = account_margins(book, market).accounts
    assert margin.free_collateral == pytest.approx(40400.0)
    # Cross: 50,000 + (P - 96,000) = 0.005 P.
    (position,) = account_margins(book, market).positions
    assert position.liquidation_price == pytest.approx(46000.0 / 0.995)


def test_two_btc_and_no_usdt_margin_nothing() -> None:
    # The other case: BTC is not collateral of a default account, so a short has no margin at all.
    book = Portfolio(
        "USDT", (SpotHolding("BTC", 2.0),), (DerivativePosition(sym("BTC/USDT:USDT"), -0.5, 60000.0, 5.0),)
    )
    (margin,) = account_margins(book, _market()).accounts
    assert margin.collateral == pytest.approx(0.0)
    assert margin.free_collateral == pytest.approx(-6000.0)
    assert not account_ok(margin, 0.5)


def test_spot_account_holds_balances_and_no_margin() -> None:
    spot = Account("binance-spot", "binance", AccountKind.SPOT, MarginMode.CROSS, {"USDT": 1.0})
    book = Portfolio(
        "USDT", (SpotHolding("BTC", 0.5, "binance-spot"), SpotHolding("USDT", 10000.0, "binance-spot")), (), (spot,)
    )
    result = account_margins(book, _market())
    (margin,) = result.accounts
    assert (margin.kind, margin.initial, margin.maintenance, margin.positions) == (AccountKind.SPOT, 0.0, 0.0, 0)
    assert result.margining == ()
    assert result.free_collateral == 0.0


def test_derivatives_cross_account_worked_example() -> None:
    usdm = Account("binance-usdm", "binance", AccountKind.DERIVATIVES, MarginMode.CROSS, {"USDT": 1.0, "USDC": 0.95})
    book = Portfolio(
        "USDT",
        (SpotHolding("USDT", 20000.0, "binance-usdm"), SpotHolding("USDC", 5000.0, "binance-usdm")),
        (
            DerivativePosition(sym("BTC/USDT:USDT"), 1.0, 58000.0, 10.0, "binance-usdm"),
            DerivativePosition(sym("ETH/USDT:USDT"), -2.0, 3100.0, 5.0, "binance-usdm"),
        ),
        (usdm,),
    )
    result = account_margins(book, _market())
    margin = result.account("binance-usdm")
    # 20,000 + 5,000 x 0.95 + 2,000 of BTC PnL + 200 of ETH PnL.
    assert margin.collateral == pytest.approx(26950.0)
    assert margin.initial == pytest.approx(6000.0 + 1200.0)
    assert margin.maintenance == pytest.approx(330.0)
    assert margin.free_collateral == pytest.approx(19750.0)
    btc, eth = result.positions
    # BTC: 26,950 + (P - 60,000) = 30 + 0.005 P  ->  P = 33,080 / 0.995.
    assert btc.liquidation_price == pytest.approx(33080.0 / 0.995)
    assert btc.liquidation_distance == pytest.approx((60000.0 - 33080.0 / 0.995) / 60000.0)
    # ETH short: 26,950 - 2 (P - 3,000) = 300 + 0.01 P  ->  P = 32,650 / 2.01.
    assert eth.liquidation_price == pytest.approx(32650.0 / 2.01)


def test_derivatives_isolated_account_with_tiers() -> None:
    iso = Account("iso", "binance", AccountKind.DERIVATIVES, MarginMode.ISOLATED, {"USDT": 1.0})
    book = Portfolio(
        "USDT",
        (SpotHolding("USDT", 5000.0, "iso"),),
        (DerivativePosition(sym("BTC/USDT:USDT"), 0.5, 60000.0, 20.0, "iso"),),
        (iso,),
    )
    result = account_margins(book, _market(**{"BTC/USDT:USDT": MarketRules(margin_tiers=BTC_TIERS)}))
    (margin,) = result.accounts
    assert margin.initial == pytest.approx(1500.0)
    assert margin.maintenance == pytest.approx(30000.0 * 0.004)
    assert margin.free_collateral == pytest.approx(3500.0)
    (position,) = result.positions
    # (0.5 x 60,000 - 1,500 - 0) / (0.5 x 0.996); 0.5 x P = 28,614 stays in the first tier.
    assert position.liquidation_price == pytest.approx(28500.0 / 0.498)


def test_unified_account_counts_coins_at_their_haircut_and_holds_other_prices() -> None:
    bybit = Account("bybit", "bybit", AccountKind.UNIFIED, MarginMode.CROSS, {"USDT": 1.0, "BTC": 0.9})
    book = Portfolio(
        "USDT",
        (SpotHolding("BTC", 1.0, "bybit"), SpotHolding("USDT", 10000.0, "bybit")),
        (DerivativePosition(sym("BTC/USDT:USDT"), -1.0, 60000.0, 5.0, "bybit"),),
        (bybit,),
    )
    result = account_margins(book, _market())
    (margin,) = result.accounts
    assert margin.collateral == pytest.approx(64000.0)
    assert margin.free_collateral == pytest.approx(52000.0)
    (position,) = result.positions
    # 64,000 - (P - 60,000) = 0.005 P  ->  P = 124,000 / 1.005.
    assert position.liquidation_price == pytest.approx(124000.0 / 1.005)


def test_options_long_is_not_collateral_and_short_counts_against_it() -> None:
    book = Portfolio(
        "USDT",
        (SpotHolding("USDT", 10000.0),),
        (
            DerivativePosition(sym("BTC/USDT:USDT-261225-70000-C"), 1.0, 800.0, 1.0),
            DerivativePosition(sym("BTC/USDT:USDT-261225-50000-P"), -2.0, 500.0, 4.0),
        ),
    )
    result = account_margins(book, _market())
    (margin,) = result.accounts
    # 10,000 USDT - 2 x 400 for the short puts; the long call's 900 is equity, not collateral.
    assert margin.collateral == pytest.approx(10000.0 - 800.0)
    # Only the short needs margin: |2 x 60,000| / 4.
    assert margin.initial == pytest.approx(30000.0)
    assert all(p.liquidation_price is None for p in result.positions)


def test_a_reported_liquidation_price_is_used_as_is() -> None:
    book = Portfolio(
        "USDT",
        (SpotHolding("USDT", 1000.0),),
        (DerivativePosition(sym("BTC/USDT:USDT"), 0.1, 60000.0, 80.0, "default", 59350.0),),
    )
    (position,) = account_margins(book, _market()).positions
    assert position.liquidation_price == 59350.0
    assert position.liquidation_distance == pytest.approx(650.0 / 60000.0)


def test_each_account_keeps_its_own_collateral() -> None:
    # USDT in the spot wallet does not margin the futures wallet.
    spot = Account("s", "binance", AccountKind.SPOT, MarginMode.CROSS, {"USDT": 1.0})
    futures = Account("f", "binance", AccountKind.DERIVATIVES, MarginMode.CROSS, {"USDT": 1.0})
    book = Portfolio(
        "USDT",
        (SpotHolding("USDT", 50000.0, "s"), SpotHolding("USDT", 100.0, "f")),
        (DerivativePosition(sym("BTC/USDT:USDT"), -0.1, 60000.0, 2.0, "f"),),
        (spot, futures),
    )
    result = account_margins(book, _market())
    assert result.account("f").free_collateral == pytest.approx(100.0 - 3000.0)
    assert result.free_collateral == pytest.approx(100.0 - 3000.0)
    assert result.account("s").collateral == pytest.approx(50000.0)


def test_a_debt_counts_in_full_whatever_the_haircut() -> None:
    account = Account("u", "x", AccountKind.UNIFIED, MarginMode.CROSS, {"USDT": 1.0, "BTC": 0.5})
    book = Portfolio("USDT", (SpotHolding("BTC", -0.1, "u"), SpotHolding("USDT", 10000.0, "u")), (), (account,))
    (margin,) = account_margins(book, _market()).accounts
    assert margin.collateral == pytest.approx(10000.0 - 6000.0)


# A COIN-M table built by Binance's rule (amount_k = amount_{k-1} + floor_k x (rate_k - rate_{k-1})), in coins.
COIN_TIERS = (MarginTier(0.0, 0.004, 0.0, 125.0), MarginTier(5.0, 0.005, 0.005, 100.0))


def _binance_coin_m(side: int, face: float, entry: float, leverage: float) -> float:
    """Binance's COIN-M formula, isolated: LP = (MMR x size + side x size) / (WB + cum + side x size / EP), size
    the face value in USD, WB = size / (EP x leverage) coins; the bracket re-read at the liquidation price."""
    wallet = face / (entry * leverage)
    tier = COIN_TIERS[1] if face / entry >= 5.0 else COIN_TIERS[0]
    for _ in range(3):
        price = (tier.rate * face + side * face) / (wallet + tier.amount + side * face / entry)
        at_price = COIN_TIERS[1] if face / price >= 5.0 else COIN_TIERS[0]
        if at_price is tier:
            return price
        tier = at_price
    raise AssertionError("no consistent bracket")


@pytest.mark.parametrize(("contracts", "leverage"), [(3000.0, 10.0), (-2600.0, 5.0), (200.0, 20.0)])
def test_inverse_isolated_liquidation_follows_binances_coin_m_formula(contracts: float, leverage: float) -> None:
    iso = Account("dm", "binance", AccountKind.DERIVATIVES, MarginMode.ISOLATED, {"BTC": 1.0})
    book = Portfolio(
        "USDT",
        (SpotHolding("BTC", 10.0, "dm"),),
        (DerivativePosition(sym("BTC/USD:BTC"), contracts, 50000.0, leverage, "dm"),),
        (iso,),
    )
    quotes = {"BTC/USD:BTC": DerivativeQuote(50000.0)}
    rules = {"BTC/USD:BTC": MarketRules(contract_size=100.0, margin_tiers=COIN_TIERS)}
    market = MarketSnapshot(NOW, {"BTC": 50000.0}, quotes, markets=rules)
    (position,) = account_margins(book, market).positions
    face = abs(contracts) * 100.0
    expected = _binance_coin_m(1 if contracts > 0 else -1, face, 50000.0, leverage)
    assert position.liquidation_price == pytest.approx(expected, rel=1e-12)
    # Maintenance at the mark: the size in coins (face / mark) in its bracket, valued at the coin's price.
    coins = face / 50000.0
    tier = COIN_TIERS[1] if coins >= 5.0 else COIN_TIERS[0]
    assert position.maintenance_margin == pytest.approx((coins * tier.rate - tier.amount) * 50000.0, rel=1e-12)


def test_a_short_whose_liquidation_falls_in_the_lower_coin_bracket() -> None:
    # 5.2 BTC at entry (second bracket); at the liquidation price, about 62,250, it is 4.18 BTC (first).
    assert _binance_coin_m(-1, 260000.0, 50000.0, 5.0) == pytest.approx(258960.0 / 4.16)
