"""``trimtab backtest`` with a ``[[cash_flow]]`` schedule: the steered trades and the time-weighted return,
computed here by hand on four daily bars of a made-up market (BTC closes 100, 110, 99, 120).

Policy: BTC 50 % and USDT 50 %, bands +/- 40 points (the trigger never fires), taker fee 0.1 %, no slippage,
capital 1 000. A deposit of 1 000 reaches the account at the second close, a withdrawal of 500 at the fourth.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from trimtab.testing.cli import run_cli

CLOSES = (100.0, 110.0, 99.0, 120.0)
FEE = 0.001
POLICY = """\
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.5
band = 0.4

[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.5
band = 0.4
cash = true

[rebalance]
min_notional = 0.0

[costs]
taker_fee = 0.001
slippage_bps = 0.0

[[cash_flow]]
at = 2026-01-03T00:00:00Z      # the second bar's close
amount = 1000.0

[[cash_flow]]
at = "2026-01-04T12:00:00Z"    # between the third and fourth closes: applied at the fourth
amount = -500.0
"""


def _data(folder: Path) -> Path:
    folder.mkdir()
    rows = ["timestamp,open,high,low,close,volume"]
    rows += [f"2026-01-0{day + 1}T00:00:00Z,{c},{c},{c},{c},1000" for day, c in enumerate(CLOSES)]
    with gzip.open(folder / "spot_BTC-USDT_1d.csv.gz", "wt") as stream:
        stream.write("\n".join(rows) + "\n")
    return folder


def _by_hand() -> tuple[list[float], list[float], float]:
    """Equity after each close, the flows, and the time-weighted return, step by step."""
    btc, usdt = 500.0 / 100.0, 1000.0 - 500.0 - 500.0 * FEE  # the initial purchase
    equity = [btc * 100.0 + usdt]
    flows = [0.0, 1000.0, 0.0, -500.0]
    for bar in (1, 2, 3):
        price = CLOSES[bar]
        usdt += flows[bar]
        if flows[bar]:
            # Two classes: the flow's whole share for BTC is its gap to 50 % of the equity after the flow.
            total = btc * price + usdt
            trade = 0.5 * total - btc * price  # > 0 buys (the deposit), < 0 sells (the withdrawal)
            btc += trade / price
            usdt -= trade + abs(trade) * FEE
        equity.append(btc * price + usdt)
    growth = 1.0
    for bar in (1, 2, 3):
        growth *= (equity[bar] - flows[bar]) / equity[bar - 1]
    return equity, flows, equity[0] * growth / 1000.0 - 1.0


def test_a_backtest_with_a_deposit_and_a_withdrawal_reports_the_hand_computed_time_weighted_return(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    data = _data(tmp_path / "market")
    env = {**os.environ, "TRIMTAB_CACHE_DIR": str(tmp_path / "cache")}
    done = run_cli("backtest", "--policy", policy, "--data", data, "--capital", "1000", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    equity, flows, twr = _by_hand()
    # The deposit buys BTC 474.75 (its shortfall: half of 2 049.50 less 550 held); the withdrawal sells.
    assert twr == pytest.approx(0.096567, abs=1e-6)  # 0.9995 x 1.049550 x 0.949988 x 1.100350 - 1
    assert summary["final_equity"] == pytest.approx(equity[-1], rel=1e-12)
    assert summary["time_weighted_return"] == pytest.approx(twr, rel=1e-12)
    assert summary["total_return"] == pytest.approx(twr, rel=1e-12)
    assert summary["net_flows"] == pytest.approx(sum(flows)) == 500.0
    assert summary["used_fast_path"] is False
    assert summary["rebalances"] == 0  # the steered flows traded; the trigger never fired
    assert summary["turnover"] > 0.0
    assert [f["amount"] for f in summary["cash_flows"]] == [1000.0, -500.0]
    # Not the money-weighted figure: final / capital - 1 would count the deposit as a gain.
    assert summary["total_return"] != pytest.approx(equity[-1] / 1000.0 - 1.0, rel=1e-3)


def test_the_table_says_the_returns_are_time_weighted(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    data = _data(tmp_path / "market")
    env = {**os.environ, "TRIMTAB_CACHE_DIR": str(tmp_path / "cache")}
    done = run_cli("backtest", "--policy", policy, "--data", data, "--capital", "1000", env=env)
    assert done.returncode == 0, done.stderr
    assert "cash flows +500.00 USDT in all" in done.stdout and "time-weighted" in done.stdout
    assert "9.66 %" in done.stdout  # the total return row


def test_a_withdrawal_of_the_whole_equity_is_refused_naming_the_flow(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.replace("amount = -500.0", "amount = -99999.0"))
    data = _data(tmp_path / "market")
    env = {**os.environ, "TRIMTAB_CACHE_DIR": str(tmp_path / "cache")}
    done = run_cli("backtest", "--policy", policy, "--data", data, "--capital", "1000", env=env)
    assert done.returncode == 2
    assert "cash_flow[1].amount" in done.stderr and len(done.stderr.strip().splitlines()) == 1
