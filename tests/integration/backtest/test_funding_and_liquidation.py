"""Derivatives in the event engine, checked by hand against the history files.

* A short perpetual held through a period of positive funding receives, at every 8-hour stamp, exactly
  ``rate x amount x mark`` read from ``perp_BTC-USDT_funding_8h`` and ``perp_BTC-USDT_mark_8h``.
* The backtest's account is the contract's default (unified, cross, collateral the USDT balance at 1.0
  plus the perpetual's PnL): a short hedge of spot BTC margined by 10 % of the capital in USDT is liquidated
  at the first bar whose high crosses ``(cash + size x entry) / (size x (1 + maintenance rate))``, the cash
  worked from the trades and the funding files, and closed at that price.
* Under the session's guards the deleveraging ladder halves that short instead, the cross liquidation price
  recomputed by hand before and after the step.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.feed import MarketHistory
from trimtab.policy.config import Policy
from trimtab.session import GuardSettings
from trimtab.valuation.valuate import MAINTENANCE_MARGIN_RATE

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
PERP = "BTC/USDT:USDT"


def _rows(name: str) -> list[dict[str, str]]:
    with gzip.open(DATA / name, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000_000


def _delta_policy(delta: float, btc_target: float, leverage: float, band: float) -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": btc_target, "band": band, "hedge": "BTC/USDT:USDT"},
                {"name": "CASH", "assets": ["USDT"], "target": 1.0 - btc_target, "band": 0.6, "cash": True},
            ],
            "strategy": {"kind": "delta-target", "deltas": {"BTC": delta}},
            "rebalance": {"hedge_leverage": leverage, "max_leverage": 3.0, "margin_buffer": 0.5},
            "costs": {"taker_fee": 0.0005, "slippage_bps": 0.0},
        }
    )


def test_a_short_perp_through_positive_funding_receives_rate_times_notional_at_each_stamp(
    load: Callable[..., MarketHistory],
) -> None:
    # A quarter of the capital in spot BTC, hedged to zero delta with a 1x short perpetual: nothing else moves.
    history = load(["BTC", "USDT"], "1d", "2024-02-01", "2024-03-31")
    result = run_backtest(_delta_policy(0.0, 0.25, 1.0, 0.1), history)
    perp_trades = [t for t in result.trades if t["instrument"] == "perp"]
    assert len(perp_trades) == 1, "the hedge is opened once and then left alone"
    short = perp_trades[0]
    assert short["side"] == "sell"
    opened = _ns(short["timestamp"])
    last_close = int(result.timestamps[-1])

    marks = {_ns(r["timestamp"]): float(r["open"]) for r in _rows("perp_BTC-USDT_mark_8h.csv.gz")}
    expected_paid = 0.0
    stamps = 0
    for row in _rows("perp_BTC-USDT_funding_8h.csv.gz"):
        stamp = _ns(row["timestamp"])
        if opened < stamp <= last_close:
            rate = float(row["funding_rate"])
            assert rate > 0.0  # February-March 2024: longs paid shorts at every settlement
            expected_paid += rate * (-short["amount"]) * marks[stamp]
            stamps += 1
    # The hedge opens with the initial allocation at the first bar's close: every later stamp counts.
    assert stamps == 3 * (len(result.timestamps) - 1)
    assert expected_paid < 0.0  # the short receives
    assert result.funding[-1] == pytest.approx(expected_paid, rel=1e-12)
    assert result.metrics["funding"] == pytest.approx(expected_paid, rel=1e-12)
    # Hand figure, pinned: what the short received over the two months (opened at the first close).
    assert -expected_paid == pytest.approx(1650.6421, abs=1e-3)


HOUR = 3600 * 1_000_000_000
SHORT_HEDGE = (0.4, 0.9, 10.0, 0.05)
"""90 % of the capital in spot BTC, 10 % in USDT, BTC's net delta held at 40 % with a 10x short perpetual."""


def _cross_short_liquidation(cash: float, size: float, entry: float) -> float:
    """Where a short of ``size`` entered at ``entry`` in a cross account of ``cash`` USDT is liquidated:
    ``cash - size x (P - entry) = 0.005 x size x P`` (the contract's default account; flat 0.5 %)."""
    return (cash + size * entry) / (size * (1.0 + MAINTENANCE_MARGIN_RATE))


def test_a_short_hedge_on_thin_cash_is_liquidated_where_the_cross_accounts_collateral_runs_out(
    load: Callable[..., MarketHistory],
    btc_funding_paid: Callable[[float, int, int], float],
    closes: Callable[[str], dict[int, tuple[float, float, float]]],
) -> None:
    # The backtest's account is the contract's default: unified, cross, its collateral the USDT balance plus
    # the perpetual's PnL. The spot BTC is no collateral, so the February 2024 rally liquidates the hedge
    # although the book as a whole gains. The account's own liquidation is under test: the guards are off.
    history = load(["BTC", "USDT"], "1d", "2024-02-01", "2024-03-31")
    unguarded = GuardSettings(liquidation_buffer=0.0, funding_switch=False)
    result = run_backtest(_delta_policy(*SHORT_HEDGE), history, guards=unguarded)
    buy, short = result.trades[0], result.trades[1]
    assert (buy["symbol"], buy["side"], short["symbol"], short["side"]) == ("BTC/USDT", "buy", PERP, "sell")
    liquidation = next(e for e in result.events if e["kind"] == "liquidation")
    assert [t for t in result.trades if _ns(t["timestamp"]) < _ns(liquidation["timestamp"])] == [buy, short]

    # By hand: the USDT left after the purchase and the short, each paying 0.05 % of its notional, plus the
    # funding the short received at every stamp since; the liquidation price of that cash and the short, and
    # the first close whose bar high (the spot high moved by the perpetual's basis) reaches it.
    fee = 0.0005
    size, entry, opened = short["amount"], short["price"], _ns(short["timestamp"])  # the log: unsigned, with a side
    cash_after_trades = 100_000.0 - buy["amount"] * buy["price"] * (1 + fee) - size * entry * fee
    spot, perp = closes("spot_BTC-USDT_1d.csv.gz"), closes("perp_BTC-USDT_1h.csv.gz")
    expected = None
    for close_time in (int(t) for t in result.timestamps):
        if close_time <= opened:
            continue
        cash = cash_after_trades - btc_funding_paid(-size, opened, close_time)
        price = _cross_short_liquidation(cash, size, entry)
        close, _low, high = spot[close_time - 24 * HOUR]
        if high * perp[close_time - HOUR][0] / close >= price:
            expected = (close_time, price, cash)
            break
    assert expected is not None
    close_time, price, cash = expected
    assert liquidation["timestamp"] == "2024-02-15T00:00:00Z" and _ns(liquidation["timestamp"]) == close_time
    assert liquidation["amount"] == pytest.approx(-size, rel=1e-12)
    assert liquidation["entry_price"] == pytest.approx(entry, rel=1e-12)
    assert liquidation["price"] == pytest.approx(price, rel=1e-12)
    assert liquidation["realised_pnl"] == pytest.approx(-size * (price - entry), rel=1e-9)
    # Pinned hand figures: 1.1612 BTC short at 43 072.6, 9 948 USDT of cash with the funding received, 19.6 %
    # above the entry (an isolated 10x short would have gone at 43 072.6 x 1.1 / 1.005 = 47 144, 9.5 % above).
    assert (size, entry) == (pytest.approx(1.1612, abs=5e-5), pytest.approx(43_072.6, abs=0.05))
    assert price == pytest.approx(51_528.3, abs=0.05)
    assert result.metrics["liquidations"] == len([e for e in result.events if e["kind"] == "liquidation"]) == 3


def test_the_guards_ladder_halves_the_short_and_its_cross_liquidation_price_moves_away(
    load: Callable[..., MarketHistory],
    btc_funding_paid: Callable[[float, int, int], float],
    closes: Callable[[str], dict[int, tuple[float, float, float]]],
) -> None:
    # The same book under the session's guards with a fixed 10 % buffer: under cross margin a cut frees
    # collateral, so the ladder recomputes the liquidation price after each step and stops once it is the
    # buffer away again, instead of closing the hedge (what it must do under isolated margin).
    history = load(["BTC", "USDT"], "1d", "2024-02-01", "2024-03-31")
    result = run_backtest(_delta_policy(*SHORT_HEDGE), history, guards=GuardSettings(buffer_sigmas=0.0))
    assert result.metrics["liquidations"] == 0
    [deleverage] = [e for e in result.events if e["kind"] == "deleverage"]
    short = result.trades[1]
    size, entry, opened = short["amount"], short["price"], _ns(short["timestamp"])  # the log: unsigned, with a side
    buy = result.trades[0]
    cash_after_trades = 100_000.0 - buy["amount"] * buy["price"] * 1.0005 - size * entry * 0.0005

    # By hand: the first close at which the short is within 10 % of its liquidation price (from the cash with
    # the funding received so far), then one step of half the short bought back at the mark, realising its
    # loss and paying the fee, and the liquidation price of what is left.
    perp = closes("perp_BTC-USDT_1h.csv.gz")
    for close_time in (int(t) for t in result.timestamps):
        if close_time <= opened:
            continue
        mark = perp[close_time - HOUR][0]
        cash = cash_after_trades - btc_funding_paid(-size, opened, close_time)
        before = _cross_short_liquidation(cash, size, entry)
        if (before - mark) / mark < 0.10:
            break
    cut = size / 2
    after = _cross_short_liquidation(cash - cut * (mark - entry) - cut * mark * 0.0005, size - cut, entry)
    assert _ns(deleverage["timestamp"]) == close_time and deleverage["timestamp"] == "2024-02-10T00:00:00Z"
    figures = re.search(r"liquidation price ([0-9,.]+) -> ([0-9,.]+), ([0-9.]+)% away", deleverage["reason"])
    assert figures is not None, deleverage["reason"]
    assert float(figures.group(1).replace(",", "")) == pytest.approx(before, abs=0.006)
    assert float(figures.group(2).replace(",", "")) == pytest.approx(after, abs=0.006)
    assert float(figures.group(3)) == pytest.approx(100 * (after - mark) / mark, abs=0.06)
    assert "reducing it by 50% in 1 step(s)" in deleverage["reason"]
    ladder = [t for t in result.trades if t["timestamp"] == deleverage["timestamp"]]
    assert [(t["symbol"], t["side"]) for t in ladder] == [(PERP, "buy"), ("BTC/USDT", "sell")]
    assert ladder[0]["amount"] == pytest.approx(cut, rel=1e-9)
    # Pinned: 51 453.79 -> 56 002.45 on 10 February 2024.
    assert (before, after) == (pytest.approx(51_453.79, abs=0.01), pytest.approx(56_002.45, abs=0.01))
