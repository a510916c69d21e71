"""The contract's ``trimtab plan`` checked from outside: the installed command, small files, numbers worked by hand.

Each test states one promise of the public contract (field names and types, the semantics every command
shares, the instrument modes, the guards) and computes the expected figures independently of the planner.
"""

from __future__ import annotations

import json
import math
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from trimtab.testing.cli import run_cli
from trimtab.testing.plan_inputs import BTC_AND_CASH, HEDGED_HALVES, btc_market, plan_document

POLICY = (
    HEDGED_HALVES
    + """
[trigger]
kind = "threshold"

[rebalance]
scope = "all"
to = "target"
instrument = "spot"
min_notional = 10.0
max_leverage = 3.0
margin_buffer = 0.5

[costs]
taker_fee = 0.0010
maker_fee = 0.0002
slippage_bps = 5.0
funding_horizon_days = 7
"""
)

# The base currency's own price is left out on purpose: the contract says it is 1 and may be omitted.
MARKET = btc_market(mark=58_020.0)

THREE_CLASS_PORTFOLIO = """\
base_currency = "USDT"

[[spot]]
asset = "BTC"
amount = 1.0

[[spot]]
asset = "ETH"
amount = 13.0

[[spot]]
asset = "USDT"
amount = 12000.0
"""

THREE_CLASS_MARKET: dict[str, Any] = {
    "timestamp": "2026-11-21T00:00:00Z",
    "prices": {"BTC": 58000.0, "ETH": 3000.0},
    "derivatives": {"BTC/USDT:USDT": {"mark": 58000.0, "funding_rate": 0.0001, "funding_interval_hours": 8}},
}


def three_class_policy(
    scope: str = "all", to: str = "target", instrument: str = "spot", min_notional: float = 10.0, horizon: float = 7
) -> str:
    """BTC (hedged by its perpetual) 50 +/- 5 %, ETH (no hedge) 30 +/- 3 %, cash 20 +/- 5 %."""
    return f"""\
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.5
band = 0.05
hedge = "BTC/USDT:USDT"

[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.3
band = 0.03

[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.2
band = 0.05
cash = true

[rebalance]
scope = "{scope}"
to = "{to}"
instrument = "{instrument}"
min_notional = {min_notional}
max_leverage = 3.0
margin_buffer = 0.5

[costs]
taker_fee = 0.0010
maker_fee = 0.0002
slippage_bps = 5.0
funding_horizon_days = {horizon}
"""


def trimtab(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed command line as a user would (``python -m trimtab``, the console script's twin)."""
    return run_cli(*args, cwd=cwd)


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in document["classes"]}


def test_the_contract_example_has_every_field_with_its_type_and_number(tmp_path: Path) -> None:
    document = plan_document(tmp_path, BTC_AND_CASH, POLICY, MARKET)
    assert document["base_currency"] == "USDT"
    assert isinstance(document["equity"], float) and document["equity"] == pytest.approx(100_000.0)
    assert document["triggered"] is True
    btc = by_name(document)["BTC"]
    for key, kind in {
        "name": str, "target": float, "lower": float, "upper": float, "weight": float,
        "net_exposure": float, "breached": bool, "goal": float,
    }.items():  # fmt: skip
        assert isinstance(btc[key], kind), key
    assert (btc["target"], btc["lower"], btc["upper"]) == pytest.approx((0.5, 0.45, 0.55))
    assert (btc["weight"], btc["net_exposure"], btc["goal"]) == pytest.approx((0.58, 58_000.0, 0.5))
    assert btc["breached"] is True
    [trade] = document["trades"]
    assert {key: trade[key] for key in ("class", "symbol", "instrument", "side", "venue")} == {
        "class": "BTC", "symbol": "BTC/USDT", "instrument": "spot", "side": "sell", "venue": "default",
    }  # fmt: skip
    assert trade["amount"] == pytest.approx(8000.0 / 58000.0)
    assert trade["notional"] == pytest.approx(8000.0)
    assert set(document["post_trade"]) == {"BTC", "STABLE"}
    assert document["post_trade"]["BTC"] == pytest.approx(0.5, abs=1e-3)
    assert sum(document["post_trade"].values()) == pytest.approx(1.0)
    costs = {"fees": 8.0, "slippage": 4.0, "funding_per_day": 0.0}
    assert document["costs"] == pytest.approx({**costs, "tax": None, "realised_gain": None, "realised_loss": None})
    margin = document["margin"]
    assert margin["initial"] == 0.0 and margin["ok"] is True and isinstance(margin["free_collateral"], float)
    assert document["notes"] == []


def test_toml_and_json_files_give_the_same_plan(tmp_path: Path) -> None:
    toml_plan = plan_document(tmp_path, BTC_AND_CASH, POLICY, MARKET)
    (tmp_path / "portfolio.json").write_text(
        json.dumps(
            {"base_currency": "USDT", "spot": [{"asset": "BTC", "amount": 1.0}, {"asset": "USDT", "amount": 42000.0}]}
        )
    )
    import tomllib

    (tmp_path / "policy.json").write_text(json.dumps(tomllib.loads(POLICY)))
    market_toml = (
        'timestamp = "2026-11-21T00:00:00Z"\n[prices]\nBTC = 58000.0\n[derivatives."BTC/USDT:USDT"]\n'
        "mark = 58020.0\nfunding_rate = 0.0001\nfunding_interval_hours = 8\n"
    )
    (tmp_path / "market.toml").write_text(market_toml)
    done = trimtab(
        "plan", "--portfolio", "portfolio.json", "--policy", "policy.json", "--market", "market.toml",
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == toml_plan


def _black76_call_delta(forward: float, strike: float, vol: float, years: float) -> float:
    d1 = (math.log(forward / strike) + 0.5 * vol * vol * years) / (vol * math.sqrt(years))
    return 0.5 * (1.0 + math.erf(d1 / math.sqrt(2.0)))


def test_band_relative_weights_a_basket_hedge_and_an_option_delta(tmp_path: Path) -> None:
    portfolio = """\
base_currency = "USDT"
[[spot]]
asset = "BTC"
amount = 1.0
[[spot]]
asset = "SOL"
amount = 100.0
[[spot]]
asset = "BNB"
amount = 10.0
[[spot]]
asset = "USDT"
amount = 30000.0
[[derivatives]]
symbol = "ALTS/USDT:USDT"
amount = -10.0
entry_price = 100.0
leverage = 2
[[derivatives]]
symbol = "BTC/USDT:USDT-261225-70000-C"
amount = 1.0
entry_price = 1000.0
"""
    policy = """\
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.5
band_relative = 0.1
[[class]]
name = "ALTS"
assets = ["SOL", "BNB"]
target = 0.2
band = 0.02
weights = {SOL = 0.75, BNB = 0.25}
hedge = "ALTS/USDT:USDT"
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.3
band = 0.05
cash = true
"""
    market = {
        "timestamp": "2026-11-21T00:00:00Z",
        "prices": {"BTC": 58000.0, "SOL": 140.0, "BNB": 600.0, "USDT": 1.0},
        "derivatives": {
            "ALTS/USDT:USDT": {"mark": 110.0, "funding_rate": 0.0001, "funding_interval_hours": 8},
            "BTC/USDT:USDT-261225-70000-C": {"mark": 1450.0, "iv": 0.55},
        },
    }
    document = plan_document(tmp_path, portfolio, policy, market)
    # Equity: spot + the perpetual's unrealised PnL + the option's market value.
    equity = 58000.0 + 14000.0 + 6000.0 + 30000.0 + (110.0 - 100.0) * -10.0 + 1450.0
    assert document["equity"] == pytest.approx(equity)
    classes = by_name(document)
    # band_relative: +/- 10 % of the 50 % target.
    assert (classes["BTC"]["lower"], classes["BTC"]["upper"]) == pytest.approx((0.45, 0.55))
    # The option's delta is Black-76 on the spot price, to 08:00 UTC on the expiry date, years of 365 days.
    years = (datetime(2026, 12, 25, 8, tzinfo=UTC) - datetime(2026, 11, 21, tzinfo=UTC)).total_seconds() / (365 * 86400)
    delta = _black76_call_delta(58000.0, 70000.0, 0.55, years)
    assert classes["BTC"]["net_exposure"] == pytest.approx(58000.0 + delta * 58000.0, rel=1e-9)
    # The index perpetual counts toward the class whose hedge it is (its base, ALTS, is no asset).
    assert classes["ALTS"]["net_exposure"] == pytest.approx(20000.0 - 1100.0)
    # The cash class is the remainder.
    assert classes["STABLE"]["weight"] == pytest.approx(
        1.0 - classes["BTC"]["weight"] - classes["ALTS"]["weight"], abs=1e-12
    )
    # weights: ALTS's goal is split 75/25 between SOL and BNB.
    spot_after = {"SOL": 14000.0, "BNB": 6000.0}
    for trade in document["trades"]:
        asset = trade["symbol"].split("/")[0]
        if trade["instrument"] == "spot" and asset in spot_after:
            spot_after[asset] += trade["notional"] if trade["side"] == "buy" else -trade["notional"]
    alts_goal = 0.2 * equity
    assert spot_after["SOL"] == pytest.approx(0.75 * alts_goal)
    assert spot_after["BNB"] == pytest.approx(0.25 * alts_goal)


def test_auto_takes_the_cheaper_instrument_and_says_why(tmp_path: Path) -> None:
    # Over 7 days the short hedge earns funding and beats spot; over a tenth of a day it does not.
    long_hold = plan_document(
        tmp_path, THREE_CLASS_PORTFOLIO, three_class_policy(instrument="auto"), THREE_CLASS_MARKET
    )
    short_hold = plan_document(
        tmp_path, THREE_CLASS_PORTFOLIO, three_class_policy(instrument="auto", horizon=0.1), THREE_CLASS_MARKET
    )
    btc_long = [trade for trade in long_hold["trades"] if trade["class"] == "BTC"]
    btc_short = [trade for trade in short_hold["trades"] if trade["class"] == "BTC"]
    assert [(t["symbol"], t["instrument"], t["side"]) for t in btc_long] == [("BTC/USDT:USDT", "perp", "sell")]
    assert [(t["symbol"], t["instrument"], t["side"]) for t in btc_short] == [("BTC/USDT", "spot", "sell")]
    assert any(note.startswith("auto: BTC uses BTC/USDT:USDT") for note in long_hold["notes"])
    assert any(note.startswith("auto: BTC uses spot") for note in short_hold["notes"])


def test_perp_moves_the_hedge_and_a_class_without_one_is_traded_spot_with_a_note(tmp_path: Path) -> None:
    document = plan_document(tmp_path, THREE_CLASS_PORTFOLIO, three_class_policy(instrument="perp"), THREE_CLASS_MARKET)
    equity = 58000.0 + 39000.0 + 12000.0
    trades = {trade["class"]: trade for trade in document["trades"]}
    assert (trades["BTC"]["symbol"], trades["BTC"]["instrument"], trades["BTC"]["side"]) == (
        "BTC/USDT:USDT", "perp", "sell",
    )  # fmt: skip
    assert trades["BTC"]["notional"] == pytest.approx(58000.0 - 0.5 * equity)
    assert (trades["ETH"]["symbol"], trades["ETH"]["instrument"]) == ("ETH/USDT", "spot")
    assert trades["ETH"]["notional"] == pytest.approx(39000.0 - 0.3 * equity)
    assert any("ETH has no hedge" in note and "spot" in note for note in document["notes"])
    # The cash class's target and goal are the figure written in the policy, not 1 - 0.8 = 0.19999999999999996.
    assert (by_name(document)["STABLE"]["target"], by_name(document)["STABLE"]["goal"]) == (0.2, 0.2)


def test_min_notional_drops_small_orders_and_says_so(tmp_path: Path) -> None:
    document = plan_document(
        tmp_path, THREE_CLASS_PORTFOLIO, three_class_policy(min_notional=4000.0), THREE_CLASS_MARKET
    )
    # BTC's 3,500 sell is below 4,000; ETH's 6,300 sell is not.
    assert [(t["symbol"], round(t["notional"], 6)) for t in document["trades"]] == [("ETH/USDT", 6300.0)]
    assert any("BTC/USDT" in note and "min_notional" in note for note in document["notes"])


def test_the_margin_guard_cuts_a_hedge_and_the_json_says_why(tmp_path: Path) -> None:
    portfolio = (
        'base_currency = "USDT"\n[[spot]]\nasset = "BTC"\namount = 1.0\n[[spot]]\nasset = "USDT"\namount = 2000.0\n'
    )
    policy = (
        POLICY.replace('instrument = "spot"', 'instrument = "perp"')
        .replace("target = 0.5\nband = 0.05\nhedge", "target = 0.3\nband = 0.05\nhedge")
        .replace("target = 0.5\nband = 0.05\ncash", "target = 0.7\nband = 0.05\ncash")
    )
    document = plan_document(tmp_path, portfolio, policy, MARKET)
    margin = document["margin"]
    # A short of ~41,000 needs more collateral than 2,000 of cash plus what the hedge frees: the guard cuts it.
    assert any(note.startswith("margin guard:") for note in document["notes"])
    assert margin["free_collateral"] >= 1.5 * margin["initial"] - 1e-6
    [trade] = document["trades"]
    # Uncut, the short would be 58,000 - 30 % x 60,000 = 40,000; the 2,000 of free collateral carries
    # at most 2,000 / 1.5 of initial margin at leverage 1.
    assert trade["instrument"] == "perp" and trade["side"] == "sell"
    assert 0.0 < trade["notional"] <= 2000.0 / 1.5 + 1e-6


def test_scope_breached_and_band_edge_move_only_what_must_move(tmp_path: Path) -> None:
    # Weights: BTC 53.2 % (inside 45-55), ETH 35.8 % (above 33), cash 11.0 % (below 15).
    equity = 109000.0
    to_target = plan_document(tmp_path, THREE_CLASS_PORTFOLIO, three_class_policy(scope="breached"), THREE_CLASS_MARKET)
    assert [(t["symbol"], t["side"]) for t in to_target["trades"]] == [("ETH/USDT", "sell")]
    assert to_target["trades"][0]["notional"] == pytest.approx(39000.0 - 0.3 * equity)
    assert by_name(to_target)["BTC"]["goal"] == pytest.approx(58000.0 / equity)

    to_edge = plan_document(
        tmp_path, THREE_CLASS_PORTFOLIO, three_class_policy(scope="breached", to="band-edge"), THREE_CLASS_MARKET
    )
    # The least traded notional that puts ETH and cash inside their bands: cash to its lower edge, 15 %, after
    # the sale's 0.10 % fee and 5 bp slippage (r = 0.0015, paid from cash): (12,000 + x - r x) / (E - r x) = 0.15
    # gives x = (0.15 E - 12,000) / (1 - 0.85 r).
    rate = 0.0015
    sale = (0.15 * equity - 12000.0) / (1.0 - 0.85 * rate)
    [trade] = to_edge["trades"]
    assert (trade["symbol"], trade["side"]) == ("ETH/USDT", "sell")
    assert trade["notional"] == pytest.approx(sale, rel=1e-9)
    assert (12000.0 + sale * (1.0 - rate)) / (equity - rate * sale) == pytest.approx(0.15, abs=1e-12)
    goals = by_name(to_edge)
    assert goals["STABLE"]["goal"] == pytest.approx((12000.0 + sale) / equity, abs=1e-12)
    assert goals["ETH"]["lower"] <= goals["ETH"]["goal"] <= goals["ETH"]["upper"]
