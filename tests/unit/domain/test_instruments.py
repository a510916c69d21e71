"""Parsing ccxt unified symbols into instruments: every form, and the symbols that must be refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from trimtab.domain.instruments import InstrumentKind, OptionType, parse_symbol, spot_symbol


def test_spot_symbol_parses_base_and_quote() -> None:
    instrument = parse_symbol("BTC/USDT")
    assert instrument.kind is InstrumentKind.SPOT
    assert (instrument.base, instrument.quote, instrument.settle) == ("BTC", "USDT", None)
    assert not instrument.is_derivative
    assert instrument.expires_at is None
    assert instrument.years_to_expiry(datetime(2026, 1, 1, tzinfo=UTC)) == 0.0


def test_linear_perpetual_settles_in_the_quote() -> None:
    instrument = parse_symbol("BTC/USDT:USDT")
    assert instrument.kind is InstrumentKind.PERP
    assert instrument.settle == "USDT"
    assert instrument.is_derivative and instrument.is_linear and not instrument.is_inverse
    assert instrument.expiry is None


def test_inverse_perpetual_settles_in_the_base() -> None:
    instrument = parse_symbol("BTC/USD:BTC")
    assert instrument.kind is InstrumentKind.PERP
    assert (instrument.base, instrument.quote, instrument.settle) == ("BTC", "USD", "BTC")
    assert instrument.is_inverse and not instrument.is_linear


def test_dated_future_expires_at_eight_utc_on_its_date() -> None:
    instrument = parse_symbol("BTC/USDT:USDT-261225")
    assert instrument.kind is InstrumentKind.FUTURE
    assert instrument.expiry == date(2026, 12, 25)
    assert instrument.expires_at == datetime(2026, 12, 25, 8, 0, tzinfo=UTC)
    assert instrument.strike is None and instrument.option_type is None


@pytest.mark.parametrize(
    ("symbol", "strike", "right"),
    [
        ("BTC/USDT:USDT-261225-70000-C", 70000.0, OptionType.CALL),
        ("ETH/USDT:USDT-270326-2500.5-P", 2500.5, OptionType.PUT),
        ("BTC/USD:BTC-261225-60000-P", 60000.0, OptionType.PUT),
    ],
)
def test_option_symbol_gives_expiry_strike_and_right(symbol: str, strike: float, right: OptionType) -> None:
    instrument = parse_symbol(symbol)
    assert instrument.kind is InstrumentKind.OPTION
    assert instrument.strike == strike
    assert instrument.option_type is right
    assert instrument.expires_at is not None and instrument.expires_at.hour == 8


def test_inverse_option_is_inverse() -> None:
    assert parse_symbol("BTC/USD:BTC-261225-60000-P").is_inverse


def test_lower_case_codes_are_upper_cased_and_the_symbol_kept() -> None:
    instrument = parse_symbol("eth/usdt:usdt")
    assert (instrument.base, instrument.quote, instrument.settle) == ("ETH", "USDT", "USDT")
    assert instrument.symbol == "eth/usdt:usdt"


def test_codes_with_digits_and_dots_parse() -> None:
    instrument = parse_symbol("1000PEPE/USDT:USDT")
    assert instrument.base == "1000PEPE"
    assert parse_symbol("BTC.B/USDT").base == "BTC.B"


def test_years_to_expiry_counts_days_of_365_to_eight_utc() -> None:
    instrument = parse_symbol("BTC/USDT:USDT-261225-70000-C")
    now = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    # 34 days and 8 hours from 21 Nov 00:00 to 25 Dec 08:00.
    assert instrument.years_to_expiry(now) == pytest.approx((34 + 8 / 24) / 365, rel=1e-12)
    assert instrument.years_to_expiry(datetime(2026, 12, 25, 7, 0, tzinfo=UTC)) == pytest.approx(1 / (365 * 24))


def test_years_to_expiry_is_zero_once_expired() -> None:
    instrument = parse_symbol("BTC/USDT:USDT-261225")
    assert instrument.years_to_expiry(datetime(2026, 12, 25, 8, 0, tzinfo=UTC)) == 0.0
    assert instrument.years_to_expiry(datetime(2027, 1, 1, tzinfo=UTC)) == 0.0


def test_spot_symbol_helper_joins_asset_and_quote() -> None:
    assert spot_symbol("SOL", "USDT") == "SOL/USDT"
    assert parse_symbol(spot_symbol("SOL", "USDT")).base == "SOL"


@pytest.mark.parametrize(
    "symbol",
    [
        "",
        "BTC",
        "BTCUSDT",
        "BTC/",
        "/USDT",
        "BTC/USDT:",
        "BTC/USDT:USDT-",
        "BTC/USDT:USDT-2612",
        "BTC/USDT:USDT-261225-70000",
        "BTC/USDT:USDT-261225-70000-X",
        "BTC/USDT:USDT-261225--C",
        "BTC/USDT/ETH",
        "BTC USDT",
    ],
)
def test_malformed_symbols_are_refused(symbol: str) -> None:
    with pytest.raises(ValueError, match=r"ccxt unified symbol|settlement currency"):
        parse_symbol(symbol)


def test_settlement_in_a_third_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="settlement currency"):
        parse_symbol("BTC/USDT:ETH")


@pytest.mark.parametrize("symbol", ["BTC/USDT:USDT-261325", "BTC/USDT:USDT-260231", "BTC/USDT:USDT-261200"])
def test_impossible_expiry_dates_are_refused(symbol: str) -> None:
    with pytest.raises(ValueError, match="not an expiry date"):
        parse_symbol(symbol)


def test_zero_strike_is_refused() -> None:
    with pytest.raises(ValueError, match="strike must be positive"):
        parse_symbol("BTC/USDT:USDT-261225-0-C")


def test_non_string_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_symbol(42)  # type: ignore[arg-type]
