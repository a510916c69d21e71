"""Funding is paid at the data's own stamps: a symbol that settles every hour pays 24 times a day.

The data is a real hourly settlement series (dYdX BTC-USD, January 2022) beside Binance's hourly BTC/USDT
candles (``tests/data/funding_1h/README.md``). The expected figures are summed here from the raw files:
``rate x amount x mark`` at every stamp after the hedge opened, the mark being the close of the bar that
ends at the stamp (the history has no mark-price file, so the bar's close is the mark).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.domain.instruments import parse_symbol
from trimtab.domain.portfolio import DerivativePosition, Portfolio, SpotHolding
from trimtab.feed.history import load_history
from trimtab.policy.config import Policy
from trimtab.session import GuardSettings
from trimtab.venues.paper import PaperVenue, ReplayFeed
from trimtab.venues.simulation import RealityModels

DATA = Path(__file__).resolve().parents[2] / "data" / "funding_1h"
HOUR_NS = 3600 * 1_000_000_000
PERP = "BTC/USDT:USDT"


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000_000


def _raw_funding() -> list[tuple[int, float]]:
    with (DATA / "perp_BTC-USDT_funding_1h.csv").open(newline="") as handle:
        return [(_ns(r["timestamp"]), float(r["funding_rate"])) for r in csv.DictReader(handle)]


def _closes_at_bar_end() -> dict[int, float]:
    """Spot close keyed by the bar's close time (open time + 1 h)."""
    with (DATA / "spot_BTC-USDT_1h.csv").open(newline="") as handle:
        return {_ns(r["timestamp"]) + HOUR_NS: float(r["close"]) for r in csv.DictReader(handle)}


def _expected(amount: float, after: int, until: int) -> tuple[float, int]:
    closes = _closes_at_bar_end()
    paid, stamps = 0.0, 0
    for stamp, rate in _raw_funding():
        if after < stamp <= until:
            paid += rate * amount * closes[stamp]
            stamps += 1
    return paid, stamps


def _hedged_policy() -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.2, "hedge": PERP},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.6, "cash": True},
            ],
            "strategy": {"kind": "delta-target", "deltas": {"BTC": 0.0}},
            "rebalance": {"hedge_leverage": 1.0, "max_leverage": 3.0, "margin_buffer": 0.5},
            "costs": {"taker_fee": 0.0005, "slippage_bps": 0.0},
        }
    )


def test_the_funding_history_quotes_its_own_hourly_interval() -> None:
    history = load_history(DATA, ["BTC", "USDT"], use_cache=False)
    rate, hours = history.funding_quote("BTC", _ns("2022-01-02T05:30:00Z"))
    assert hours == 1.0
    assert rate == pytest.approx(-0.0000033270, abs=0)  # the 05:00 settlement of the raw file
    assert not [g for g in history.gaps if "funding" in g]


def test_a_backtest_pays_an_hourly_symbol_at_every_hour() -> None:
    history = load_history(DATA, ["BTC", "USDT"], use_cache=False)
    # The settlement itself is under test: the funding monitor, which would swap the paying hedge for spot, is off.
    result = run_backtest(_hedged_policy(), history, guards=GuardSettings(funding_switch=False))
    perp_trades = [t for t in result.trades if t["instrument"] == "perp"]
    assert len(perp_trades) == 1, "the hedge is opened once and then left alone"
    short = perp_trades[0]
    assert short["side"] == "sell"
    opened, last_close = _ns(short["timestamp"]), int(result.timestamps[-1])
    expected, stamps = _expected(-short["amount"], opened, last_close)
    # every hour from the first close (01:00 on 1 January) to the last (00:00 on 4 January)
    assert stamps == 71 == len(result.timestamps) - 1
    assert result.metrics["funding"] == pytest.approx(expected, rel=1e-12)
    # An 8-hour grid would have paid 9 of those 71 settlements: the figure would be off by far more.
    grid_only = sum(
        rate * -short["amount"] * _closes_at_bar_end()[stamp]
        for stamp, rate in _raw_funding()
        if opened < stamp <= last_close and (stamp // HOUR_NS) % 8 == 0
    )
    assert abs(grid_only - expected) > 0.5 * abs(expected)


def test_a_paper_replay_pays_the_same_hourly_settlements_as_the_raw_file() -> None:
    history = load_history(DATA, ["BTC", "USDT"], use_cache=False)
    feed = ReplayFeed(history, (PERP,))
    entry = float(history.close[0, 0])
    portfolio = Portfolio(
        "USDT",
        (SpotHolding("BTC", 1.0), SpotHolding("USDT", 60_000.0)),
        (DerivativePosition(parse_symbol(PERP), -1.0, entry, 1.0),),
    )
    venue = PaperVenue(feed, base_currency="USDT", models=RealityModels(), initial=portfolio)
    first_close = feed.snapshot().timestamp
    while feed.advance():
        venue.fetch_balances()  # time passes: the venue settles what fell due
    last_close = feed.snapshot().timestamp
    expected, stamps = _expected(-1.0, _ns(first_close.isoformat()), _ns(last_close.isoformat()))
    assert first_close == datetime(2022, 1, 1, 1, tzinfo=UTC) and stamps == 71
    assert venue.account.funding_paid == pytest.approx(expected, rel=1e-12)
    assert venue.account.cash == pytest.approx(60_000.0 - expected, rel=1e-12)
    assert feed.snapshot().derivatives[PERP].funding_interval_hours == 1.0
