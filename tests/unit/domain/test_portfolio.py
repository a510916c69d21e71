"""Portfolio helpers: totals over venues, positions, the venue of an asset, applying changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trimtab.domain import AssetClass, DerivativePosition, MarketSnapshot, Portfolio, SpotHolding, parse_symbol
from trimtab.domain.market import DerivativeQuote

PERP = parse_symbol("BTC/USDT:USDT")
ETH_PERP = parse_symbol("ETH/USDT:USDT")


def _portfolio() -> Portfolio:
    return Portfolio(
        "USDT",
        spot=(
            SpotHolding("BTC", 0.5, "binance"),
            SpotHolding("BTC", 0.25, "okx"),
            SpotHolding("USDT", 1000.0, "okx"),
        ),
        derivatives=(
            DerivativePosition(PERP, -0.1, 60000.0, 3.0, "binance"),
            DerivativePosition(PERP, -0.2, 61000.0, 3.0, "okx"),
            DerivativePosition(ETH_PERP, 2.0, 3000.0),
        ),
    )


def test_spot_amount_sums_every_venue() -> None:
    portfolio = _portfolio()
    assert portfolio.spot_amount("BTC") == 0.75
    assert portfolio.spot_amount("ETH") == 0.0
    assert portfolio.spot_totals == {"BTC": 0.75, "USDT": 1000.0}
    assert portfolio.assets() == ["BTC", "USDT"]


def test_spot_totals_is_a_copy() -> None:
    portfolio = _portfolio()
    totals = portfolio.spot_totals
    totals["BTC"] = 99.0
    assert portfolio.spot_amount("BTC") == 0.75


def test_position_amount_nets_every_venue_and_position_finds_the_first() -> None:
    portfolio = _portfolio()
    assert portfolio.position_amount("BTC/USDT:USDT") == pytest.approx(-0.3)
    first = portfolio.position("BTC/USDT:USDT")
    assert first is not None and first.venue == "binance" and first.symbol == "BTC/USDT:USDT"
    assert portfolio.position("SOL/USDT:USDT") is None
    assert portfolio.position_amount("SOL/USDT:USDT") == 0.0


def test_venue_of_is_where_most_of_the_asset_sits() -> None:
    portfolio = _portfolio()
    assert portfolio.venue_of("BTC") == "binance"
    assert portfolio.venue_of("USDT") == "okx"
    assert portfolio.venue_of("ETH") == "default"


def test_with_changes_applies_spot_and_derivative_deltas() -> None:
    portfolio = _portfolio()
    template = DerivativePosition(PERP, 0.0, 58000.0, 3.0, "binance")
    sol = DerivativePosition(parse_symbol("SOL/USDT:USDT"), 0.0, 140.0, 2.0, "binance")
    changed = portfolio.with_changes(
        spot_deltas=[("BTC", -0.25), ("USDT", 14500.0), ("ETH", 1.5)],
        derivative_deltas=[(template, 0.1), (sol, -10.0)],
    )
    assert changed.spot_amount("BTC") == pytest.approx(0.5)
    assert changed.spot_amount("USDT") == pytest.approx(15500.0)
    assert changed.spot_amount("ETH") == 1.5
    # Both BTC positions merge into one, then the change is added.
    assert changed.position_amount("BTC/USDT:USDT") == pytest.approx(-0.2)
    assert len([p for p in changed.derivatives if p.symbol == "BTC/USDT:USDT"]) == 1
    new_sol = changed.position("SOL/USDT:USDT")
    assert new_sol is not None and new_sol.amount == -10.0 and new_sol.entry_price == 140.0
    # The original is untouched (frozen values).
    assert portfolio.position_amount("BTC/USDT:USDT") == pytest.approx(-0.3)


def test_with_changes_drops_positions_that_close() -> None:
    portfolio = _portfolio()
    template = DerivativePosition(ETH_PERP, 0.0, 3000.0)
    changed = portfolio.with_changes(derivative_deltas=[(template, -2.0)])
    assert changed.position("ETH/USDT:USDT") is None
    assert changed.base_currency == "USDT"


def test_market_price_of_the_base_currency_defaults_to_one() -> None:
    market = MarketSnapshot(datetime(2026, 1, 1, tzinfo=UTC), {"BTC": 58000.0})
    assert market.price("USDT", "USDT") == 1.0
    assert market.price("BTC", "USDT") == 58000.0
    with pytest.raises(KeyError):
        market.price("ETH", "USDT")


def test_funding_per_day_scales_the_rate_by_settlements_per_day() -> None:
    assert DerivativeQuote(100.0, funding_rate=0.0001).funding_per_day == pytest.approx(0.0003)
    assert DerivativeQuote(100.0, funding_rate=0.0001, funding_interval_hours=1.0).funding_per_day == pytest.approx(
        0.0024
    )


def test_class_half_width_absolute_or_relative() -> None:
    absolute = AssetClass("BTC", ("BTC",), 0.4, {"BTC": 1.0}, band=0.04)
    relative = AssetClass("ETH", ("ETH",), 0.2, {"ETH": 1.0}, band_relative=0.25)
    assert absolute.half_width == 0.04
    assert absolute.half_width_around(0.1) == 0.04
    assert relative.half_width == pytest.approx(0.05)
    assert relative.half_width_around(-0.4) == pytest.approx(0.1)
