from __future__ import annotations

import ccxt
import pytest

from trimtab.errors import (
    AmbiguousOrderError,
    AuthenticationError,
    NeedsHumanError,
    OrderRejectedError,
    RateLimitedError,
    RetryableError,
    VenueUnavailableError,
)
from trimtab.venues.ccxt.errors import retry_after_seconds, translate


@pytest.mark.parametrize(
    ("error", "creating", "expected"),
    [
        (ccxt.RequestTimeout("t"), True, AmbiguousOrderError),
        (ccxt.NetworkError("n"), True, AmbiguousOrderError),
        (ccxt.ExchangeNotAvailable("502"), True, AmbiguousOrderError),
        (ccxt.BadResponse("garbled"), True, AmbiguousOrderError),
        (ccxt.RequestTimeout("t"), False, VenueUnavailableError),
        (ccxt.ExchangeNotAvailable("502"), False, VenueUnavailableError),
        (ccxt.OnMaintenance("m"), True, VenueUnavailableError),
        (ccxt.OnMaintenance("m"), False, VenueUnavailableError),
        (ccxt.RateLimitExceeded("r"), True, RateLimitedError),
        (ccxt.DDoSProtection("d"), False, RateLimitedError),
        (ccxt.InsufficientFunds("f"), True, OrderRejectedError),
        (ccxt.InvalidOrder("i"), True, OrderRejectedError),
        (ccxt.BadRequest("-1013 NOTIONAL"), True, OrderRejectedError),
        (ccxt.ExchangeError("other"), True, OrderRejectedError),
        (ccxt.ExchangeError("other"), False, NeedsHumanError),
        (ccxt.AuthenticationError("a"), False, AuthenticationError),
        (ccxt.PermissionDenied("p"), True, AuthenticationError),
        (ccxt.InvalidNonce("clock"), True, VenueUnavailableError),
    ],
)
def test_ccxt_errors_map_to_the_hierarchy(error: Exception, creating: bool, expected: type[Exception]) -> None:
    translated = translate(error, venue="binance", operation="op", creating=creating, client_order_id="c-1")
    assert type(translated) is expected
    assert "binance op" in str(translated)


def test_ambiguous_errors_are_retryable_and_carry_the_client_id() -> None:
    translated = translate(
        ccxt.RequestTimeout("t"), venue="v", operation="create_order", creating=True, client_order_id="c-9"
    )
    assert isinstance(translated, RetryableError)
    assert isinstance(translated, AmbiguousOrderError) and translated.client_order_id == "c-9"


def test_rate_limits_carry_retry_after_and_messages_are_redacted() -> None:
    translated = translate(
        ccxt.RateLimitExceeded("too many for key-XYZ"),
        venue="v",
        operation="fetch_balance",
        retry_after=3.0,
        redact=lambda text: text.replace("key-XYZ", "***"),
    )
    assert isinstance(translated, RateLimitedError) and translated.retry_after == 3.0
    assert "key-XYZ" not in str(translated)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"Retry-After": "soon"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_header_parsing(headers: dict[str, str] | None, expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected
