"""A clock that drifts after start: the exchange time offset is read again on -1021, not only at start."""

from __future__ import annotations

import time

import pytest

from trimtab.testing.fake_exchange import FakeExchange
from trimtab.testing.fixtures import make_ccxt_venue


def test_a_clock_jump_after_start_is_corrected_at_the_first_refusal(fake_exchange: FakeExchange) -> None:
    venue = make_ccxt_venue(fake_exchange)
    venue.load_markets()  # the offset is read here, with both clocks agreeing
    assert venue.fetch_balances()["USDT"] == pytest.approx(100_000.0)
    fake_exchange.engine.clock = lambda: time.time() + 120.0  # then the clocks drift two minutes apart
    assert venue.fetch_balances()["USDT"] == pytest.approx(100_000.0)  # refused once (-1021), then signed anew
    refused = [r for r in fake_exchange.requests if r.path == "/api/v3/account"]
    assert len(refused) == 3  # the first read, the refused one, the one signed with the new offset
    assert fake_exchange.count("GET", "/api/v3/time") >= 2  # the offset was read again
