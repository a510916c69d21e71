"""Tax lots in a backtest, on a hand-built history whose every fill is worked by hand.

BTC 50 % +/- 5 against USDT, 1,000 of capital, no fees and no slippage, daily closes 100, 200, 50, 100:

* day 0: buy 500 = 5 BTC at 100 (lot A);
* day 1: BTC 1,000 of 1,500 (66.7 %): sell 250 = 1.25 BTC at 200; lot A realises 1.25 x 100 = 125;
* day 2: BTC 3.75 x 50 = 187.5 of 937.5 (20 %): buy 281.25 = 5.625 BTC at 50 (lot B);
* day 3: BTC 9.375 x 100 = 937.5 of 1,406.25 (66.7 %): sell 234.375 = 2.34375 BTC at 100: from lot A
  (fifo, hifo: cost 100) it realises 0; from lot B (lifo: cost 50) 2.34375 x 50 = 117.1875.

All short-term (days apart), one calendar year: tax = 30 % of the year's net short-term gain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.feed.history import MarketHistory
from trimtab.policy.config import Policy

DAY = 86_400 * 10**9
EPOCH = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp()) * 10**9
CLOSES = [100.0, 200.0, 50.0, 100.0]


def history(closes: list[float] = CLOSES, spacing: int = DAY) -> MarketHistory:
    times = np.array([EPOCH + n * spacing for n in range(len(closes))], dtype=np.int64)
    close = np.array([[c, 1.0] for c in closes])
    return MarketHistory(
        timeframe="1d",
        assets=("BTC", "USDT"),
        timestamps=times,
        close=close,
        high=close,
        low=close,
        volume=np.ones_like(close) * 1e12,
        coverage={"BTC": (int(times[0]), int(times[-1])), "USDT": (int(times[0]), int(times[-1]))},
    )


def policy(method: str | None) -> Policy:
    document: dict[str, Any] = {
        "base_currency": "USDT",
        "class": [
            {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05},
            {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
        ],
        "costs": {"taker_fee": 0.0, "slippage_bps": 0.0},
    }
    if method is not None:
        document["tax"] = {"method": method, "short_term_rate": 0.3, "long_term_rate": 0.15}
    return Policy.model_validate(document)


EXPECTED = {"fifo": 125.0, "hifo": 125.0, "lifo": 125.0 + 117.1875, "min-tax": 125.0}


@pytest.mark.parametrize("method", list(EXPECTED))
@pytest.mark.parametrize("fast", [True, False])
def test_backtest_tax_and_realised_gain_by_method_on_both_paths(method: str, fast: bool) -> None:
    result = run_backtest(policy(method), history(), capital=1000.0, fast=fast)
    assert [round(t["amount"], 9) for t in result.trades] == [5.0, 1.25, 5.625, 2.34375]
    metrics = result.metrics
    assert metrics["realised_gain"] == pytest.approx(EXPECTED[method])
    assert metrics["realised_loss"] == 0.0
    assert metrics["tax"] == pytest.approx(0.3 * EXPECTED[method])


def test_without_tax_lots_are_kept_first_in_first_out_and_no_tax_is_counted() -> None:
    result = run_backtest(policy(None), history(), capital=1000.0)
    assert result.metrics["realised_gain"] == pytest.approx(125.0)
    assert result.metrics["tax"] == 0.0
    # Open at the end: lot A's 5 - 1.25 - 2.34375 = 1.40625 at 100 and lot B's 5.625 at 50.
    lots = [(lot.cost, lot.amount) for lot in result.taxes.book.of("BTC")]
    assert lots == [(100.0, pytest.approx(1.40625)), (50.0, pytest.approx(5.625))]


def test_a_loss_of_one_calendar_year_does_not_reduce_the_tax_of_another() -> None:
    # Bars 100 days apart from 2024-03-01; long_term_after 1000 days keeps every lot short-term.
    # Day 1 (2024-06-09) sells 1.25 at 200: +125. Day 2 (100) buys 1.875 at 100; day 3 (50) buys 2.8125 at
    # 50; day 4 (2025-04-05, at 80) sells 126.5625 / 80 = 1.58203125 from the dearest lots (cost 100):
    # -20 x 1.58203125 = -31.640625, in 2025. Per year: 30 % of 125, and nothing for 2025.
    chosen = policy("hifo").model_copy(
        update={"tax": policy("hifo").tax.model_copy(update={"long_term_after": "1000d"})}  # type: ignore[union-attr]
    )
    result = run_backtest(chosen, history([100.0, 200.0, 100.0, 50.0, 80.0], 100 * DAY), capital=1000.0)
    years = result.taxes.years
    assert years[2024].short_gain == pytest.approx(125.0)
    assert years[2025].short_gain == pytest.approx(-31.640625)
    assert result.metrics["realised_loss"] == pytest.approx(31.640625)
    assert result.metrics["tax"] == pytest.approx(0.3 * 125.0)


def test_the_session_keeps_the_same_lots_as_the_trade_log() -> None:
    from trimtab.backtest.event_run import EventRun
    from trimtab.backtest.replay import prepare
    from trimtab.venues.simulation.models import RealityModels

    chosen = policy("lifo")
    run = EventRun(prepare(chosen, history(), None, None), 1000.0, RealityModels.from_costs(chosen.costs), None)
    result = run.run()
    session_lots = run.session.state.lots
    assert session_lots is not None
    assert [(lot.cost, lot.amount) for lot in session_lots.lots] == [
        (lot.cost, pytest.approx(lot.amount)) for lot in result.taxes.book.lots
    ]
