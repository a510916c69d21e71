"""A canary key pair goes through every path of the ccxt venue; it must never come out.

Checked: log lines at DEBUG (ccxt logs request headers there), reprs, error messages and their arguments,
formatted tracebacks, and what the fake exchange recorded as parameters (keys travel only in the header).
"""

from __future__ import annotations

import logging
import traceback

import pytest

from trimtab.domain import Side
from trimtab.errors import TrimtabError
from trimtab.testing.fake_exchange import FakeExchange, Fault
from trimtab.testing.fixtures import CANARY_API_KEY, CANARY_SECRET, make_ccxt_venue
from trimtab.venues.ccxt import Credentials
from trimtab.venues.ports import OrderRequest, OrderType

CANARIES = (CANARY_API_KEY, CANARY_SECRET)


def _assert_clean(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text


def test_the_canary_never_appears_in_logs_reprs_or_errors(
    fake_exchange: FakeExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    venue = make_ccxt_venue(fake_exchange)
    venue.load_markets()
    venue.fetch_balances()
    venue.create_order(OrderRequest("canary-1", "BTC/USDT", Side.BUY, OrderType.LIMIT, 0.01, 50_000.0))
    venue.fetch_order("canary-1", "BTC/USDT")
    venue.cancel_order("canary-1", "BTC/USDT")
    errors: list[TrimtabError] = []
    venue._exchange.timeout = 300  # short only for the timeout fault below
    fake_exchange.add_fault(Fault("timeout", "POST", "/api/v3/order", accept=True, delay=0.5))
    fake_exchange.add_fault(Fault("reject", "POST", "/api/v3/order"))
    for client_id in ("canary-2", "canary-3"):
        with pytest.raises(TrimtabError) as raised:
            venue.create_order(OrderRequest(client_id, "BTC/USDT", Side.BUY, OrderType.MARKET, 0.01))
        errors.append(raised.value)
    fake_exchange.api_key = "rotated"
    with pytest.raises(TrimtabError) as raised:
        venue.fetch_balances()
    errors.append(raised.value)

    assert any("X-MBX-APIKEY" in record.getMessage() for record in caplog.records)  # ccxt did log headers
    _assert_clean(caplog.text)
    _assert_clean(repr(venue) + str(venue))
    for error in errors:
        _assert_clean(str(error) + repr(error) + repr(error.args))
        _assert_clean("".join(traceback.format_exception(error)))
    for request in fake_exchange.requests:
        _assert_clean(repr(request.params))


def test_credentials_hide_their_values() -> None:
    credentials = Credentials(CANARY_API_KEY, CANARY_SECRET, "pass-canary", source="test")
    text = repr(credentials) + str(credentials) + f"{credentials}"
    _assert_clean(text)
    assert "pass-canary" not in text
    assert credentials.redact(f"key={CANARY_API_KEY} secret={CANARY_SECRET}") == "key=*** secret=***"
