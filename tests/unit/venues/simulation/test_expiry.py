"""Dated futures and options settle at expiry (08:00 UTC on their date) at the underlying's price, by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trimtab.domain.instruments import Instrument, parse_symbol
from trimtab.venues.simulation import PerpPosition, RealityModels, SimulatedAccount, settlement_cash
from trimtab.venues.simulation.expiry import PriceAtExpiry

FUTURE = "BTC/USDT:USDT-261225"
CALL = "BTC/USDT:USDT-261225-70000-C"
PUT = "BTC/USDT:USDT-261225-60000-P"
LATER = "BTC/USDT:USDT-270326"
EXPIRY = datetime(2026, 12, 25, 8, tzinfo=UTC)


def _account() -> SimulatedAccount:
    account = SimulatedAccount("USDT", RealityModels(), {"USDT": 10_000.0, "BTC": 1.0})
    rows = ((FUTURE, 0.5, 60_000.0), (CALL, -2.0, 900.0), (PUT, 3.0, 400.0), (LATER, -1.0, 61_000.0))
    for symbol, amount, entry in rows:
        account.positions[symbol] = PerpPosition(parse_symbol(symbol), amount, entry)
    return account


def _at(price: float) -> PriceAtExpiry:
    def price_at(instrument: Instrument, moment: datetime) -> float | None:
        assert moment == instrument.expires_at
        return price

    return price_at


def test_a_minute_before_expiry_nothing_settles() -> None:
    account = _account()
    assert account.settle_expired(datetime(2026, 12, 25, 7, 59, tzinfo=UTC), _at(72_500.0)) == []
    assert len(account.positions) == 4 and account.cash == 10_000.0


def test_at_expiry_futures_realise_and_options_pay_their_intrinsic_value() -> None:
    account = _account()
    settled = account.settle_expired(EXPIRY, _at(72_500.0))
    by_symbol = {s.symbol: s for s in settled}
    # long 0.5 future from 60,000 at 72,500: +0.5 x 12,500; short 2 calls struck 70,000: -2 x 2,500;
    # the puts struck 60,000 expire out of the money
    assert by_symbol[FUTURE].cash == pytest.approx(6_250.0)
    assert by_symbol[CALL].cash == pytest.approx(-5_000.0)
    assert by_symbol[PUT].cash == 0.0
    assert all(s.underlying_price == 72_500.0 and s.expired_at == EXPIRY for s in settled)
    assert account.cash == pytest.approx(10_000.0 + 6_250.0 - 5_000.0)
    assert set(account.positions) == {LATER}, "the March future has not expired"
    assert account.balances["BTC"] == 1.0


def test_a_put_in_the_money_pays_strike_minus_price_and_an_unknown_price_waits() -> None:
    put = parse_symbol(PUT)
    assert settlement_cash(put, 3.0, 400.0, 55_000.0) == pytest.approx(3 * 5_000.0)
    with pytest.raises(ValueError, match="does not expire"):
        settlement_cash(parse_symbol("BTC/USDT:USDT"), 1.0, 1.0, 1.0)
    account = _account()
    assert account.settle_expired(EXPIRY, lambda instrument, moment: None) == []
    assert len(account.positions) == 4
