"""ccxt's own weighted rate limiter is on for real exchanges; trimtab's limiter then only keeps the pauses."""

from __future__ import annotations

from trimtab.venues.ccxt.factory import build_ccxt_venue


def test_ccxt_paces_requests_by_weight_and_ours_does_not_space_them_again() -> None:
    venue = build_ccxt_venue("binance")
    exchange = venue._exchange
    assert exchange.enableRateLimit is True
    assert exchange.rateLimit > 0  # ccxt's leaky bucket: rateLimit ms per unit of an endpoint's cost
    assert venue._limiter.min_interval == 0.0
    venue.close()


def test_with_ccxts_limiter_off_ours_spaces_requests_by_the_exchanges_rate_limit() -> None:
    venue = build_ccxt_venue("binanceusdm", config={"enableRateLimit": False})
    exchange = venue._exchange
    assert exchange.enableRateLimit is False
    assert venue._limiter.min_interval == exchange.rateLimit / 1000.0
    venue.close()
