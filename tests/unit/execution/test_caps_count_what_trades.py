"""The cycle's and the day's notional caps count what traded or may still trade, not every re-priced copy."""

from __future__ import annotations

from typing import Any

import pytest

from trimtab.domain.plan import Side
from trimtab.storage.journal import Journal


def test_a_chase_that_reprices_three_times_counts_its_leg_once_against_the_cycle_cap(
    clock: Any, journal: Journal, kit: Any
) -> None:
    # 25,000 of BTC on 150,000 of equity under a cycle cap of 0.5 x equity (75,000): four copies of the same
    # order (three limits that never fill on a standing market, then the market fallback) would count 100,000.
    config = kit.fast_config(algo="limit", chase_count=2, max_cycle_notional_fraction=0.5, twap_threshold=1e9)
    report = kit.executor(kit.paper(clock), journal, clock, config).execute(
        "plan1", [kit.trade("BTC/USDT", Side.BUY, 0.5, 50_000.0)], equity=150_000.0
    )
    assert report.refusals == []
    assert [o.order_type for o in report.orders] == ["limit", "limit", "limit", "market"]
    assert [o.filled for o in report.orders[:3]] == [0.0, 0.0, 0.0]
    assert report.orders[3].filled == pytest.approx(0.5)


def test_the_days_turnover_counts_cancelled_orders_by_what_they_filled(clock: Any, journal: Journal, kit: Any) -> None:
    config = kit.fast_config(algo="limit", chase_count=2, max_day_turnover=0.3, twap_threshold=1e9)
    venue = kit.paper(clock)
    first = kit.executor(venue, journal, clock, config).execute(
        "plan1", [kit.trade("BTC/USDT", Side.BUY, 0.5, 50_000.0)], equity=150_000.0
    )
    assert first.refusals == []
    # Traded today: 25,000 (the market fallback), one sixth of equity; a second 15,000 fits under 0.3 x 150,000.
    journal.save_plan(
        "plan2",
        created_at=clock(),
        cycle=2,
        venue="paper",
        equity=150_000.0,
        triggered=True,
        reason="",
        status="executing",
        payload={},
    )
    second = kit.executor(venue, journal, clock, config).execute(
        "plan2", [kit.trade("BTC/USDT", Side.SELL, 0.3, 50_000.0)], equity=150_000.0
    )
    assert second.refusals == []
    assert sum(o.filled for o in second.orders) == pytest.approx(0.3)
