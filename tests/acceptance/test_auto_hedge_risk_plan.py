"""`trimtab plan` under ``instrument = "auto"``: a hedge that would sit near liquidation is traded spot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trimtab.testing.cli import run_cli

PORTFOLIO = (
    'base_currency = "USDT"\n[[spot]]\nasset = "BTC"\namount = 1.0\n[[spot]]\nasset = "USDT"\namount = 38000.0\n'
)
POLICY = """\
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.5
band = 0.05
hedge = "BTC/USDT:USDT"
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.5
band = 0.05
cash = true
[rebalance]
instrument = "auto"
hedge_leverage = {leverage}
max_leverage = 60
[costs]
taker_fee = 0.001
slippage_bps = 5.0
funding_horizon_days = 7
"""
MARKET = {
    "timestamp": "2026-11-21T00:00:00Z",
    "prices": {"BTC": 58000.0},
    "derivatives": {"BTC/USDT:USDT": {"mark": 58000.0, "funding_rate": 0.0003, "funding_interval_hours": 8}},
}


def _plan(folder: Path, leverage: int) -> dict[str, Any]:
    (folder / "portfolio.toml").write_text(PORTFOLIO)
    (folder / "policy.toml").write_text(POLICY.format(leverage=leverage))
    (folder / "market.json").write_text(json.dumps(MARKET))
    done = run_cli(
        "plan", "--portfolio", "portfolio.toml", "--policy", "policy.toml", "--market", "market.json",
        "--format", "json", cwd=folder,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


@pytest.mark.parametrize(("leverage", "instrument"), [(2, "perp"), (50, "spot")])
def test_auto_hedges_at_a_safe_leverage_and_trades_spot_near_liquidation(
    tmp_path: Path, leverage: int, instrument: str
) -> None:
    # BTC is 58 000 of 96 000 (60.4 %): 10 000 to sell. Spot costs 15; the short hedge 30 to open and close,
    # less 10 000 x 0.09 % x 7 = 63 of funding received: -33 at 2x. At 50x its liquidation price is 1.48 %
    # away: hit with probability 0.894 over 7 days at 80 % volatility, 0.894 x 65 = 58.1 expected loss: 25.
    document = _plan(tmp_path, leverage)
    (trade,) = document["trades"]
    assert trade["instrument"] == instrument and trade["side"] == "sell"
    assert trade["notional"] == pytest.approx(10_000.0, rel=0.01)
    (note,) = [n for n in document["notes"] if n.startswith("auto: BTC")]
    assert "liquidation risk" in note and f"at {leverage}x" in note
