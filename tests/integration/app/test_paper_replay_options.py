"""A paper replay of a book holding options: the option is quoted every bar (Black-76 on the replayed close
with Deribit's DVOL, as the backtest marks it), so the loop plans with its delta instead of pausing.

Checked by hand from the raw files: the call's mark at a bar is ``F N(d1) - K N(d2)`` with F the BTC close of
the bar, sigma the DVOL of the day at or before the bar's close / 100, T the time to 08:00 UTC on the expiry
date in years of 365 days.
"""

from __future__ import annotations

import csv
import gzip
import math
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trimtab.app.wiring import RunSetup, build_run
from trimtab.execution.config import ExecutionConfig
from trimtab.loaders.policy import load_policy

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
CALL = "BTC/USDT:USDT-250328-100000-C"
PORTFOLIO = f"""
base_currency = "USDT"
[[spot]]
asset = "BTC"
amount = 1.0
[[spot]]
asset = "USDT"
amount = 50000.0
[[derivatives]]
symbol = "{CALL}"
amount = 2.0
entry_price = 3000.0
"""
POLICY = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.0
band = 0.02
hedge = "BTC/USDT:USDT"
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 1.0
band = 0.02
cash = true
[rebalance]
hedge_leverage = 5.0
[costs]
taker_fee = 0.0005
slippage_bps = 0.0
[strategy]
kind = "delta-target"
deltas = { BTC = 0.0 }
"""


def _rows(name: str) -> dict[str, dict[str, str]]:
    with gzip.open(DATA / name, "rt", newline="") as handle:
        return {r["timestamp"]: r for r in csv.DictReader(handle)}


def _call_by_hand(close: float, sigma: float, now: datetime) -> float:
    years = (datetime(2025, 3, 28, 8, tzinfo=UTC) - now).total_seconds() / (365 * 86400)
    d1 = (math.log(close / 100_000.0) + sigma * sigma * years / 2) / (sigma * math.sqrt(years))
    d2 = d1 - sigma * math.sqrt(years)
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    return close * cdf(d1) - 100_000.0 * cdf(d2)


def test_a_replayed_option_is_marked_by_black76_on_dvol_and_the_book_is_delta_hedged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("spot_BTC-USDT_1h.csv.gz", "iv_BTC-DVOL_1d.csv.gz"):
        shutil.copy(DATA / name, data)
    (tmp_path / "policy.toml").write_text(POLICY)
    (tmp_path / "portfolio.toml").write_text(PORTFOLIO)
    setup = RunSetup(
        portfolio=tmp_path / "portfolio.toml",
        data=data,
        at=datetime(2025, 3, 1, tzinfo=UTC),
        config=ExecutionConfig(algo="market", twap_threshold=1e12, max_order_fraction=2.0),
    )
    from trimtab.storage import open_store

    run = build_run(load_policy(tmp_path / "policy.toml"), open_store(f"sqlite:///{tmp_path / 'p.db'}"), setup)
    spot, dvol = _rows("spot_BTC-USDT_1h.csv.gz"), _rows("iv_BTC-DVOL_1d.csv.gz")
    for bar in range(6):
        result = run.loop.cycle()
        assert result.paused == [] and not result.halted
        assert run.feed is not None
        now = run.feed.snapshot().timestamp
        opened = (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        day = now.replace(hour=0).isoformat().replace("+00:00", "Z")
        close, sigma = float(spot[opened]["close"]), float(dvol[day]["dvol"]) / 100
        quote = run.feed.snapshot().derivatives[CALL]
        assert quote.iv == pytest.approx(sigma, rel=1e-12)
        assert quote.mark == pytest.approx(_call_by_hand(close, sigma, now), rel=1e-9)
        if bar == 0:
            # 1 BTC plus two calls made delta-neutral: 1 + 2 N(d1) of the perpetual sold (no perp file: marked at
            # the spot close)
            years = (datetime(2025, 3, 28, 8, tzinfo=UTC) - now).total_seconds() / (365 * 86400)
            d1 = (math.log(close / 100_000.0) + sigma * sigma * years / 2) / (sigma * math.sqrt(years))
            delta = 0.5 * (1 + math.erf(d1 / math.sqrt(2)))
            (hedge,) = [o for o in result.orders if o["symbol"] == "BTC/USDT:USDT"]
            assert hedge["side"] == "sell" and hedge["filled"] == pytest.approx(1.0 + 2.0 * delta, rel=1e-9)
        assert run.advance()
    positions = {p.symbol for p in run.loop.venue.fetch_positions()}
    assert positions == {CALL, "BTC/USDT:USDT"}
