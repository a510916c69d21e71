"""The contract's *Accounts, collateral and margin* checked from outside: ``trimtab plan`` on small files.

Every expected figure is computed here, independently of trimtab's code: Binance's published USD-M
liquidation formula with its BTCUSDT leverage brackets, hand-worked cross-margin cases, and the two books
the issue measured.

Sources
-------
* Binance, "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts" (support FAQ
  b3c689c1f50a44cabb3a84e663b81d93): ``LP = (WB - TMM1 + UPNL1 + cumB - Side1 x Position1 x EP1) /
  (Position1 x MMR1 - Side1 x Position1)``; isolated: ``TMM1 = UPNL1 = 0`` and ``WB`` is the isolated
  wallet balance; if the position's bracket at the liquidation price differs from the one at entry, the
  bracket *at the liquidation price* is substituted and the price recomputed.
* The BTCUSDT brackets below are a recorded answer of Binance's ``GET /fapi/v1/leverageBracket``
  (public repository boolean404/heikin-ashi-trading-bot, json/fapiPrivate_get_leverage_bracket.py), mapped
  to the snapshot's ``margin_tiers`` the way ccxt's ``fetch_leverage_tiers`` maps them
  (``notionalFloor`` -> ``floor``, ``maintMarginRatio`` -> ``rate``, ``cum`` -> ``amount``,
  ``initialLeverage`` -> ``max_leverage``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trimtab.testing.cli import run_cli

# (bracket, initialLeverage, notionalFloor, notionalCap, maintMarginRatio, cum), as Binance answered.
_RECORDED = [
    (1, 125, 0, 50_000, 0.004, 0.0),
    (2, 100, 50_000, 250_000, 0.005, 50.0),
    (3, 50, 250_000, 3_000_000, 0.01, 1_300.0),
    (4, 20, 3_000_000, 20_000_000, 0.025, 46_300.0),
    (5, 10, 20_000_000, 40_000_000, 0.05, 546_300.0),
    (6, 5, 40_000_000, 100_000_000, 0.1, 2_546_300.0),
    (7, 4, 100_000_000, 120_000_000, 0.125, 5_046_300.0),
    (8, 3, 120_000_000, 200_000_000, 0.15, 8_046_300.0),
    (9, 2, 200_000_000, 300_000_000, 0.25, 28_046_300.0),
    (10, 1, 300_000_000, 500_000_000, 0.5, 103_046_300.0),
]
BTCUSDT_BRACKETS = [
    dict(
        zip(("bracket", "initialLeverage", "notionalFloor", "notionalCap", "maintMarginRatio", "cum"), row, strict=True)
    )
    for row in _RECORDED
]
TIERS = [
    {
        "floor": b["notionalFloor"],
        "rate": b["maintMarginRatio"],
        "amount": b["cum"],
        "max_leverage": b["initialLeverage"],
    }
    for b in BTCUSDT_BRACKETS
]
PERP = "BTC/USDT:USDT"

POLICY = """\
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = {target}
band = {band}
hedge = "BTC/USDT:USDT"

[[class]]
name = "STABLE"
assets = ["USDT"]
target = {cash}
band = {band}
cash = true

[rebalance]
instrument = "{instrument}"
min_notional = 0.0
max_leverage = {max_leverage}
margin_buffer = {buffer}
hedge_leverage = {hedge_leverage}
transfers = {transfers}

[costs]
taker_fee = 0.001
slippage_bps = 0.0
"""


def _policy(
    target: float = 0.5,
    band: float = 0.05,
    instrument: str = "spot",
    max_leverage: float = 3.0,
    buffer: float = 0.5,
    hedge_leverage: float = 1.0,
    transfers: bool = True,
) -> str:
    return POLICY.format(
        target=target,
        cash=round(1.0 - target, 10),
        band=band,
        instrument=instrument,
        max_leverage=max_leverage,
        buffer=buffer,
        hedge_leverage=hedge_leverage,
        transfers="true" if transfers else "false",
    )


def _market(price: float, funding_rate: float = 0.0, hours: float = 8.0, tiers: bool = False, **extra: Any) -> str:
    market: dict[str, Any] = {
        "timestamp": "2026-11-21T00:00:00Z",
        "prices": {"BTC": price, "USDT": 1.0},
        "derivatives": {PERP: {"mark": price, "funding_rate": funding_rate, "funding_interval_hours": hours}},
        **extra,
    }
    if tiers:
        market["markets"] = {PERP: {"margin_tiers": TIERS}}
    return json.dumps(market)


def _plan(tmp_path: Path, portfolio: str, policy: str, market: str) -> Any:
    result = _run(tmp_path, portfolio, policy, market)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _run(tmp_path: Path, portfolio: str, policy: str, market: str) -> Any:
    (tmp_path / "portfolio.toml").write_text(portfolio, encoding="utf-8")
    (tmp_path / "policy.toml").write_text(policy, encoding="utf-8")
    (tmp_path / "market.json").write_text(market, encoding="utf-8")
    return run_cli(
        "plan",
        "--portfolio",
        tmp_path / "portfolio.toml",
        "--policy",
        tmp_path / "policy.toml",
        "--market",
        tmp_path / "market.json",
        "--format",
        "json",
    )


def _bracket(notional: float) -> dict[str, Any]:
    return next(b for b in BTCUSDT_BRACKETS if b["notionalFloor"] <= notional < b["notionalCap"])


def binance_isolated_liquidation(side: int, size: float, entry: float, leverage: float) -> float:
    """Binance's published formula, isolated (TMM1 = UPNL1 = 0), WB = the position's initial margin.

    Starts from the bracket at entry and, as Binance's FAQ says, substitutes the bracket at the
    liquidation price until the two agree.
    """
    wallet = size * entry / leverage
    bracket = _bracket(size * entry)
    for _ in range(len(BTCUSDT_BRACKETS)):
        mmr, cum = bracket["maintMarginRatio"], bracket["cum"]
        price = (wallet + cum - side * size * entry) / (size * mmr - side * size)
        at_price = _bracket(size * price)
        if at_price is bracket:
            return price
        bracket = at_price
    raise AssertionError("no consistent bracket")


ISOLATED = """\
base_currency = "USDT"

[[account]]
name = "binance-usdm"
exchange = "binance"
kind = "derivatives"
margin_mode = "isolated"

[[spot]]
asset = "USDT"
amount = {usdt}
venue = "binance-usdm"

[[spot]]
asset = "BTC"
amount = {btc}
venue = "binance-usdm"

[[derivatives]]
symbol = "BTC/USDT:USDT"
amount = {amount}
entry_price = 50000.0
leverage = {leverage}
venue = "binance-usdm"
"""


@pytest.mark.parametrize(
    ("amount", "leverage", "bracket_at_entry", "bracket_at_liquidation"),
    [
        (0.2, 20.0, 1, 1),  # 10,000 of notional
        (20.0, 10.0, 3, 3),  # 1,000,000
        (-1000.0, 4.0, 6, 6),  # 50,000,000 short
        (5.1, 10.0, 3, 2),  # 255,000: the liquidation price falls in the bracket below
    ],
)
def test_isolated_liquidation_follows_binances_formula_with_its_brackets(
    tmp_path: Path, amount: float, leverage: float, bracket_at_entry: int, bracket_at_liquidation: int
) -> None:
    usdt = max(abs(amount) * 50000.0, 100_000.0)
    btc = 2.0 * abs(amount) if amount < 0 else 0.0  # a short is held against spot, so weights stay in [0, 1]
    portfolio = ISOLATED.format(usdt=usdt, btc=btc, amount=amount, leverage=leverage)
    # The target is the book's own weight: nothing is traded and the positions are reported as they are.
    weight = round((btc + amount) * 50000.0 / (usdt + btc * 50000.0), 9)
    plan = _plan(tmp_path, portfolio, _policy(target=weight, band=0.5), _market(50000.0, tiers=True))
    assert plan["trades"] == []
    (position,) = plan["positions"]
    side, size = (1 if amount > 0 else -1), abs(amount)
    expected = binance_isolated_liquidation(side, size, 50000.0, leverage)
    assert _bracket(size * 50000.0)["bracket"] == bracket_at_entry
    assert _bracket(size * expected)["bracket"] == bracket_at_liquidation
    assert position["liquidation_price"] == pytest.approx(expected, rel=1e-9)
    assert position["liquidation_distance"] == pytest.approx(abs(50000.0 - expected) / 50000.0, rel=1e-9)
    # Maintenance margin at the mark: notional x rate - amount of the bracket at entry.
    entry_bracket = _bracket(size * 50000.0)
    maintenance = size * 50000.0 * entry_bracket["maintMarginRatio"] - entry_bracket["cum"]
    assert position["maintenance_margin"] == pytest.approx(maintenance, rel=1e-9)
    assert position["initial_margin"] == pytest.approx(size * 50000.0 / leverage, rel=1e-12)
    assert position["max_leverage"] == entry_bracket["initialLeverage"]


COIN_M = """\
base_currency = "USDT"

[[account]]
name = "binance-coinm"
exchange = "binance"
kind = "derivatives"
margin_mode = "isolated"
collateral = {BTC = 1.0}

[[spot]]
asset = "BTC"
amount = 7.0
venue = "binance-coinm"

[[derivatives]]
symbol = "BTC/USD:BTC"
amount = -3600
entry_price = 60000.0
leverage = 20
venue = "binance-coinm"
"""

# BTCUSD_PERP's COIN-M brackets in BTC: the floors and rates of ccxt's recorded Binance answer
# (ts/src/test/static/response/binance.json, options.leverageBrackets), ``qtyFloor`` -> ``floor``,
# ``maintMarginRatio`` -> ``rate``; ``cum`` by Binance's continuity rule, cum_2 = 5 x (0.005 - 0.004) = 0.005
# and cum_3 = 0.005 + 10 x (0.01 - 0.005) = 0.055 BTC; the maximum leverage 1 / (2 x rate).
COIN_TIERS = [
    {"floor": 0, "rate": 0.004, "amount": 0.0, "max_leverage": 125},
    {"floor": 5, "rate": 0.005, "amount": 0.005, "max_leverage": 100},
    {"floor": 10, "rate": 0.01, "amount": 0.055, "max_leverage": 50},
]


def test_coin_m_tiers_are_counted_in_coins(tmp_path: Path) -> None:
    # An inverse market's margin_tiers are in its settlement coin, as Binance's COIN-M brackets and ccxt's
    # fetch_leverage_tiers give them: the position's tier is the one its size in coins falls in.
    market = json.dumps(
        {
            "timestamp": "2026-11-21T00:00:00Z",
            "prices": {"BTC": 60000.0, "USDT": 1.0},
            "derivatives": {PERP: {"mark": 60000.0}, "BTC/USD:BTC": {"mark": 60000.0}},
            "markets": {"BTC/USD:BTC": {"contract_size": 100, "margin_tiers": COIN_TIERS}},
        }
    )
    # 7 BTC against a 360,000 USD short: BTC is 60,000 of 420,000 (14.3 %), inside 15 % +/- 5: nothing trades.
    plan = _plan(tmp_path, COIN_M, _policy(target=0.15, band=0.05), market)
    assert plan["trades"] == []
    (position,) = plan["positions"]
    # By hand: 3,600 contracts x 100 USD = 360,000 USD = 6 BTC at 60,000, the second bracket (5 to 10 BTC):
    # maintenance 6 x 0.5 % - 0.005 = 0.025 BTC = 1,500 USDT; at most 100x. (Read as quote notional, 360,000
    # would have fallen in the last bracket, 1 %, with 3,600 - 0.055 "USD" of maintenance.)
    assert position["maintenance_margin"] == pytest.approx(0.025 * 60000.0, rel=1e-12)
    assert position["max_leverage"] == 100
    # Binance's COIN-M formula, isolated (support FAQ "How to Calculate Liquidation Price of COIN-M Futures
    # Contracts"): LP = (MMR x size + side x size) / (WB + cum + side x size / EP), size the face value in USD,
    # WB = size / (EP x leverage) = 0.3 BTC: (0.005 x 360,000 - 360,000) / (0.3 + 0.005 - 6) = 62,897.28,
    # where the short is 360,000 / 62,897.28 = 5.72 BTC, still the second bracket.
    expected = (0.005 * 360_000.0 - 360_000.0) / (0.3 + 0.005 - 6.0)
    assert 5.0 <= 360_000.0 / expected < 10.0
    assert position["liquidation_price"] == pytest.approx(expected, rel=1e-12)
    assert position["liquidation_price"] == pytest.approx(62_897.28, abs=0.01)


CROSS = """\
base_currency = "USDT"

[[account]]
name = "binance-usdm"
exchange = "binance"
kind = "derivatives"
collateral = {USDT = 1.0, USDC = 0.95}

[[account]]
name = "treasury"
exchange = "kraken"
kind = "spot"

[[spot]]
asset = "USDT"
amount = 80000.0
venue = "treasury"

[[spot]]
asset = "USDT"
amount = 20000.0
venue = "binance-usdm"

[[spot]]
asset = "USDC"
amount = 5000.0
venue = "binance-usdm"

[[derivatives]]
symbol = "BTC/USDT:USDT"
amount = 1.0
entry_price = 58000.0
leverage = 10
venue = "binance-usdm"

[[derivatives]]
symbol = "ETH/USDT:USDT"
amount = -2.0
entry_price = 3100.0
leverage = 5
venue = "binance-usdm"
"""


def test_a_cross_account_by_hand(tmp_path: Path) -> None:
    policy = """\
base_currency = "USDT"
[[class]]
name = "CRYPTO"
assets = ["BTC", "ETH"]
target = 0.5
band = 0.5
[[class]]
name = "STABLE"
assets = ["USDT", "USDC"]
target = 0.5
band = 0.5
cash = true
"""
    market = json.dumps(
        {
            "timestamp": "2026-11-21T00:00:00Z",
            "prices": {"BTC": 60000.0, "ETH": 3000.0, "USDC": 1.0},
            "derivatives": {"BTC/USDT:USDT": {"mark": 60000.0}, "ETH/USDT:USDT": {"mark": 3000.0}},
        }
    )
    plan = _plan(tmp_path, CROSS, policy, market)
    # Equity 107,200 with 54,000 of net crypto exposure: inside its band, so the book is reported as it is.
    assert plan["trades"] == []
    # The spot treasury is not a margin account: only binance-usdm is listed and summed.
    (account,) = plan["margin"]["accounts"]
    # Collateral: 20,000 + 5,000 x 0.95 + BTC PnL (60,000 - 58,000) + ETH PnL 2 x (3,100 - 3,000) = 26,950.
    # Initial: 60,000 / 10 + 6,000 / 5 = 7,200; maintenance 0.5 % of 66,000 = 330 (no tiers).
    assert account["name"] == "binance-usdm" and account["kind"] == "derivatives"
    assert account["collateral"] == pytest.approx(26950.0)
    assert account["initial"] == pytest.approx(7200.0)
    assert account["maintenance"] == pytest.approx(330.0)
    assert account["free_collateral"] == pytest.approx(19750.0)
    assert account["ok"] is True
    assert plan["margin"]["free_collateral"] == pytest.approx(19750.0)
    assert plan["margin"]["initial"] == pytest.approx(7200.0)
    btc, eth = plan["positions"]
    # BTC, ETH's price held: 26,950 + (P - 60,000) = 30 + 0.005 P.
    assert btc["liquidation_price"] == pytest.approx((60000.0 - 26950.0 + 30.0) / 0.995)
    # ETH, BTC's price held: 26,950 - 2 (P - 3,000) = 300 + 0.01 P.
    assert eth["liquidation_price"] == pytest.approx((26950.0 - 300.0 + 6000.0) / 2.01)
    assert set(btc) >= {
        "symbol", "venue", "amount", "notional", "leverage", "initial_margin", "maintenance_margin",
        "liquidation_price", "liquidation_distance",
    }  # fmt: skip


DEFAULT_BOOK = """\
base_currency = "USDT"

[[spot]]
asset = "{asset}"
amount = {spot}

[[derivatives]]
symbol = "BTC/USDT:USDT"
amount = {amount}
entry_price = {entry}
leverage = {leverage}
"""


def test_one_btc_long_at_10x_on_50000_usdt_has_about_40400_free(tmp_path: Path) -> None:
    portfolio = DEFAULT_BOOK.format(asset="USDT", spot=50000.0, amount=1.0, entry=96000.0, leverage=10)
    plan = _plan(tmp_path, portfolio, _policy(target=0.5, band=0.5), _market(96000.0))
    # As an exchange computes it: 50,000 of collateral - 96,000 / 10 of initial margin.
    assert plan["margin"]["free_collateral"] == pytest.approx(40400.0)
    assert plan["margin"]["initial"] == pytest.approx(9600.0)
    (account,) = plan["margin"]["accounts"]
    assert (account["name"], account["kind"]) == ("default", "unified")


def test_two_btc_and_no_usdt_cannot_open_a_5x_short(tmp_path: Path) -> None:
    portfolio = 'base_currency = "USDT"\n[[spot]]\nasset = "BTC"\namount = 2.0\n'
    policy = _policy(target=0.5, instrument="perp", hedge_leverage=5.0)
    plan = _plan(tmp_path, portfolio, policy, _market(50000.0))
    # The default account's collateral is its USDT: none. A short of 50,000 at 5x needs 10,000 of margin
    # (15,000 with the 50 % buffer) that the account does not have; no other account can lend it.
    assert plan["margin"]["free_collateral"] == 0.0
    assert not [t for t in plan["trades"] if t["instrument"] == "perp"]
    assert plan["transfers"] == []
    assert any(note.startswith("margin guard: account default") for note in plan["notes"])
    for account in plan["margin"]["accounts"]:
        assert account["free_collateral"] >= 0.5 * account["initial"]


TWO_ACCOUNTS = """\
base_currency = "USDT"

[[account]]
name = "binance-spot"
exchange = "binance"
kind = "spot"

[[account]]
name = "binance-usdm"
exchange = "binance"
kind = "derivatives"

[[spot]]
asset = "BTC"
amount = 1.0
venue = "binance-spot"

[[spot]]
asset = "USDT"
amount = 40000.0
venue = "binance-spot"
"""


def test_a_transfer_funds_the_hedge_before_the_orders(tmp_path: Path) -> None:
    policy = _policy(target=0.5, instrument="perp", hedge_leverage=2.0)
    plan = _plan(tmp_path, TWO_ACCOUNTS, policy, _market(60000.0))
    # Equity 100,000, BTC at 60 %: a 10,000 short on the derivatives account (the only one that margins).
    (trade,) = plan["trades"]
    assert (trade["symbol"], trade["side"], trade["venue"]) == (PERP, "sell", "binance-usdm")
    assert trade["notional"] == pytest.approx(10000.0)
    # It needs 1.5 x 10,000 / 2 = 7,500 of collateral after its 10 of fee: 7,510 moves from the spot wallet.
    (transfer,) = plan["transfers"]
    assert (transfer["asset"], transfer["from"], transfer["to"]) == ("USDT", "binance-spot", "binance-usdm")
    assert transfer["amount"] == pytest.approx(7510.0, abs=1e-7)
    (account,) = plan["margin"]["accounts"]
    assert account["collateral"] == pytest.approx(7500.0, abs=1e-7)
    assert account["ok"] is True and plan["margin"]["ok"] is True
    assert any(note.startswith("transfer 7510") for note in plan["notes"])


def test_without_transfers_the_opening_is_cut(tmp_path: Path) -> None:
    policy = _policy(target=0.5, instrument="perp", hedge_leverage=2.0, transfers=False)
    plan = _plan(tmp_path, TWO_ACCOUNTS, policy, _market(60000.0))
    assert plan["transfers"] == []
    assert plan["trades"] == []
    assert any("transfers = false" in note for note in plan["notes"])


def test_a_transfer_takes_only_what_the_plans_own_orders_leave(tmp_path: Path) -> None:
    # Spot buys on the spot wallet spend its USDT first; the transfer cannot exceed what is left.
    portfolio = TWO_ACCOUNTS.replace("amount = 1.0\n", "amount = 0.1\n").replace("amount = 40000.0", "amount = 5000.0")
    policy = _policy(target=0.2, instrument="perp", hedge_leverage=1.0)
    plan = _plan(tmp_path, portfolio, policy, _market(60000.0))
    # Equity 11,000, BTC 6,000 = 54.5 %: short 3,800 of notional needs 1.5 x 3,800 + 3.80 of fee = 5,703.80,
    # more than the 5,000 USDT: all 5,000 move and the guard cuts the short to what 5,000 carries.
    (transfer,) = plan["transfers"]
    assert transfer["amount"] <= 5000.0 + 1e-9
    (trade,) = plan["trades"]
    # 5,000 - 0.001 x >= 1.5 x  ->  x <= 5,000 / 1.501.
    assert trade["notional"] == pytest.approx(5000.0 / 1.501, rel=1e-6)
    assert plan["margin"]["ok"] is True


def test_a_position_above_its_tiers_max_leverage_is_cut(tmp_path: Path) -> None:
    portfolio = """\
base_currency = "USDT"

[[account]]
name = "usdm"
exchange = "binance"
kind = "derivatives"
collateral = {USDT = 1.0}

[[spot]]
asset = "BTC"
amount = 500.0
venue = "usdm"

[[spot]]
asset = "USDT"
amount = 50000000.0
venue = "usdm"
"""
    policy = _policy(target=0.25, band=0.05, instrument="perp", hedge_leverage=20.0)
    plan = _plan(tmp_path, portfolio, policy, _market(100000.0, tiers=True))
    # Equity 100 M with BTC at 50 %: a 25 M short. At 20x Binance allows notional up to the floor of
    # bracket 5 (20 M, max 10x), so the short is cut to just under 20 M.
    (trade,) = plan["trades"]
    assert trade["notional"] <= 20_000_000.0
    assert trade["notional"] == pytest.approx(20_000_000.0, rel=1e-6)
    (position,) = plan["positions"]
    assert position["leverage"] == 20.0 and position["max_leverage"] == 20
    assert any("max_leverage 10" in note and "margin guard" in note for note in plan["notes"])
    assert plan["margin"]["ok"] is True


@pytest.mark.parametrize(
    ("timestamp", "refused"),
    [("2026-11-21T00:00:00Z", True), ("2026-11-20T08:00:00Z", True), ("2026-11-20T07:59:00Z", False)],
)
def test_an_expired_future_is_refused_naming_its_row(tmp_path: Path, timestamp: str, refused: bool) -> None:
    symbol = "BTC/USDT:USDT-261120"
    portfolio = DEFAULT_BOOK.format(asset="USDT", spot=50000.0, amount=0.1, entry=50000.0, leverage=1).replace(
        PERP, symbol
    )
    market = json.dumps(
        {"timestamp": timestamp, "prices": {"BTC": 50000.0}, "derivatives": {symbol: {"mark": 50000.0}}}
    )
    result = _run(tmp_path, portfolio, _policy(band=0.5), market)
    if refused:
        assert result.returncode == 2
        assert result.stderr.startswith("portfolio.toml: derivatives[0].symbol:")
        assert "expired" in result.stderr and result.stderr.count("\n") == 1
    else:
        assert result.returncode == 0, result.stderr


def test_a_spot_account_holding_a_derivative_is_an_input_error(tmp_path: Path) -> None:
    portfolio = TWO_ACCOUNTS + (
        '\n[[derivatives]]\nsymbol = "BTC/USDT:USDT"\namount = -0.1\nentry_price = 60000.0\nvenue = "binance-spot"\n'
    )
    result = _run(tmp_path, portfolio, _policy(), _market(60000.0))
    assert result.returncode == 2
    assert result.stderr.startswith("portfolio.toml: derivatives[0].venue:")
    assert "spot account" in result.stderr


def test_a_venue_reported_liquidation_price_is_used_as_is(tmp_path: Path) -> None:
    portfolio = DEFAULT_BOOK.format(asset="USDT", spot=1000.0, amount=0.1, entry=60000.0, leverage=80) + (
        "liquidation_price = 59350.0\n"
    )
    plan = _plan(tmp_path, portfolio, _policy(band=0.5), _market(60000.0))
    (position,) = plan["positions"]
    assert position["liquidation_price"] == 59350.0
    assert position["liquidation_distance"] == pytest.approx(650.0 / 60000.0)


@pytest.mark.parametrize(("hours", "factor"), [(8.0, 1.0), (4.0, 2.0), (1.0, 8.0)])
def test_funding_is_priced_at_the_markets_own_interval(tmp_path: Path, hours: float, factor: float) -> None:
    portfolio = DEFAULT_BOOK.format(asset="USDT", spot=100000.0, amount=-1.0, entry=50000.0, leverage=1)
    portfolio += '[[spot]]\nasset = "BTC"\namount = 2.0\n'
    # Net BTC 50,000 of equity 200,000: at its 25 % target, so the short is kept as it is.
    market = _market(50000.0, funding_rate=0.0001, hours=hours)
    plan = _plan(tmp_path, portfolio, _policy(target=0.25, band=0.05), market)
    assert plan["trades"] == []
    # A 50,000 short receives 0.01 % per interval: 3 intervals a day at 8 h = 15 a day.
    assert plan["costs"]["funding_per_day"] == pytest.approx(-15.0 * factor)


def test_without_account_tables_the_wallet_is_unified_cross_in_the_base_currency(tmp_path: Path) -> None:
    portfolio = (
        'base_currency = "USDT"\n[[spot]]\nasset = "BTC"\namount = 1.0\n[[spot]]\nasset = "USDT"\namount = 42000.0\n'
    )
    plan = _plan(tmp_path, portfolio, _policy(), _market(58000.0))
    (account,) = plan["margin"]["accounts"]
    assert set(account) == {
        "name", "exchange", "kind", "margin_mode", "collateral", "initial", "maintenance", "free_collateral", "ok",
        "at_liquidation",
    }  # fmt: skip
    assert (account["name"], account["initial"], account["ok"]) == ("default", 0.0, True)
    # Before the plan: the contract's example, 42,000 free; after selling 8,000 of BTC (8 of fee): 49,992.
    assert plan["margin"]["free_collateral"] == pytest.approx(42000.0)
    assert account["collateral"] == pytest.approx(49992.0)
    assert (account["kind"], account["margin_mode"]) == ("unified", "cross")


def test_an_expired_future_as_a_hedge_is_refused_naming_the_class(tmp_path: Path) -> None:
    expired = "BTC/USDT:USDT-261120"
    policy = _policy(instrument="perp").replace(f'hedge = "{PERP}"', f'hedge = "{expired}"')
    market = json.dumps(
        {"timestamp": "2026-11-21T00:00:00Z", "prices": {"BTC": 50000.0}, "derivatives": {expired: {"mark": 1.0}}}
    )
    portfolio = 'base_currency = "USDT"\n[[spot]]\nasset = "BTC"\namount = 1.0\n'
    result = _run(tmp_path, portfolio, policy, market)
    assert result.returncode == 2
    assert result.stderr.startswith("policy.toml: class[0].hedge:") and "expired" in result.stderr


def test_a_cross_account_below_its_maintenance_margin_is_at_liquidation_and_its_short_0_away(tmp_path: Path) -> None:
    # The default account (collateral: USDT only) holds 1,000 USDT and 200,000 USDC that it cannot use as
    # margin; an ETH long of 10 entered at 5,000 (mark 3,000: -20,000) and a BTC short of 0.1 at 60,000.
    portfolio = """\
base_currency = "USDT"
[[spot]]
asset = "USDT"
amount = 1000.0
[[spot]]
asset = "USDC"
amount = 200000.0
[[derivatives]]
symbol = "ETH/USDT:USDT"
amount = 10.0
entry_price = 5000.0
leverage = 10
[[derivatives]]
symbol = "BTC/USDT:USDT"
amount = -0.1
entry_price = 60000.0
leverage = 10
"""
    policy = """\
base_currency = "USDT"
[[class]]
name = "CRYPTO"
assets = ["BTC", "ETH"]
target = 0.2
band = 0.2
[[class]]
name = "STABLE"
assets = ["USDT", "USDC"]
target = 0.8
band = 0.2
cash = true
"""
    market = json.dumps(
        {
            "timestamp": "2026-11-21T00:00:00Z",
            "prices": {"BTC": 60000.0, "ETH": 3000.0, "USDC": 1.0},
            "derivatives": {"BTC/USDT:USDT": {"mark": 60000.0}, "ETH/USDT:USDT": {"mark": 3000.0}},
        }
    )
    plan = _plan(tmp_path, portfolio, policy, market)
    # Equity 201,000 - 20,000 = 181,000; net crypto 30,000 - 6,000 = 24,000 (13.3 %): inside its band.
    assert plan["trades"] == []
    (account,) = plan["margin"]["accounts"]
    # Collateral 1,000 - 20,000 = -19,000; maintenance 0.5 % x (30,000 + 6,000) = 180: at liquidation.
    assert account["collateral"] == pytest.approx(-19000.0)
    assert account["maintenance"] == pytest.approx(180.0)
    assert account["at_liquidation"] is True and account["ok"] is False
    eth, btc = plan["positions"]
    # ETH, BTC held: 1,000 + 10 (P - 5,000) = 30 + 0.05 P  ->  P = 49,030 / 9.95, above the 3,000 mark.
    assert eth["liquidation_price"] == pytest.approx(49030.0 / 9.95)
    assert eth["liquidation_distance"] == 0.0
    # BTC, ETH held: -19,000 - 0.1 (P - 60,000) = 150 + 0.0005 P  ->  P = -13,150 / 0.1005 < 0: no price
    # carries the account, so the short is liquidated now: its mark, 0 away (not null, which reads as safe).
    assert btc["liquidation_price"] == pytest.approx(60000.0)
    assert btc["liquidation_distance"] == 0.0
    assert any("default is at or past liquidation" in note for note in plan["notes"])
