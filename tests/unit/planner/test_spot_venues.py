"""Spot holdings per venue: summed per venue, largest first, in time linear in the portfolio's rows."""

from __future__ import annotations

import pytest

from trimtab.domain.portfolio import Portfolio, SpotHolding
from trimtab.planner import sizing


def test_amounts_are_summed_per_venue_largest_first_ties_in_portfolio_order() -> None:
    portfolio = Portfolio(
        "USDT",
        (
            SpotHolding("BTC", 1.0, "a"),
            SpotHolding("BTC", 2.0, "b"),
            SpotHolding("BTC", 1.5, "a"),
            SpotHolding("ETH", 3.0, "c"),
            SpotHolding("BTC", 2.5, "d"),
        ),
    )
    assert sizing.spot_venues(portfolio) == {"BTC": [("a", 2.5), ("d", 2.5), ("b", 2.0)], "ETH": [("c", 3.0)]}


def test_twenty_thousand_rows_cost_a_key_per_row_not_per_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    key = sizing._by_amount_descending

    def counting(item: tuple[str, float]) -> float:
        nonlocal calls
        calls += 1
        return key(item)

    monkeypatch.setattr(sizing, "_by_amount_descending", counting)
    rows = 20_000
    assets = ("BTC", "ETH", "SOL", "BNB", "USDT", "USDC")
    portfolio = Portfolio("USDT", tuple(SpotHolding(assets[i % 6], 0.001 * (i % 7 + 1), f"v{i}") for i in range(rows)))
    venues = sizing.spot_venues(portfolio)
    assert sum(len(v) for v in venues.values()) == rows
    assert calls <= rows  # the quadratic version re-sorted an asset's venues at each new one: ~66 million calls
