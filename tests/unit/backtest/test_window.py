"""The window a backtest really uses and the asset that limits it (hand-built histories, hand-counted bars)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from trimtab.backtest.window import backtest_window, common_window
from trimtab.errors import BadInputError
from trimtab.feed.history import MarketHistory

DAY = 86_400 * 10**9
EPOCH = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp()) * 10**9


def day(n: int) -> int:
    return EPOCH + n * DAY


def history(coverage: dict[str, tuple[int, int]]) -> MarketHistory:
    """Daily bars every asset shares: from the latest first day to the earliest last day."""
    first = max(f for f, _ in coverage.values())
    last = min(t for _, t in coverage.values())
    times = np.array([day(n) for n in range(first, last + 1)], dtype=np.int64)
    ones = np.ones((times.shape[0], len(coverage)))
    return MarketHistory(
        timeframe="1d",
        assets=tuple(coverage),
        timestamps=times,
        close=ones,
        high=ones,
        low=ones,
        volume=ones,
        coverage={a: (day(f), day(t)) for a, (f, t) in coverage.items()},
    )


def at(n: int) -> datetime:
    return datetime.fromtimestamp(day(n) // 10**9, tz=UTC)


def test_a_late_listing_limits_the_start_and_is_a_warning() -> None:
    # BTC has days 0..99, SOL only 50..99: 50 shared bars out of a 100-day span.
    window = backtest_window(history({"BTC": (0, 99), "SOL": (50, 99)}), None, None)
    assert (window.first, window.last, window.bars) == (day(50), day(99), 50)
    assert (window.starts_with, window.ends_with) == ("SOL", None)
    assert window.truncation == pytest.approx(1 - 49 / 99)
    assert window.describe() == "50 1d bars, limited by: SOL's history starts 2021-02-20"
    warning = window.warning()
    assert warning is not None
    assert "51% less than the 2021-01-01 to 2021-04-10" in warning
    assert warning.endswith("because SOL's history starts 2021-02-20")


def test_an_early_end_limits_the_end() -> None:
    window = backtest_window(history({"BTC": (0, 99), "USDC": (0, 89)}), None, None)
    assert (window.starts_with, window.ends_with) == (None, "USDC")
    assert window.bars == 90
    assert window.truncation == pytest.approx(1 - 89 / 99)  # 10.1 %: just past the 10 % threshold
    assert window.warning() is not None
    assert window.warning(threshold=0.2) is None


def test_a_window_inside_every_history_loses_nothing() -> None:
    window = backtest_window(history({"BTC": (0, 99), "SOL": (50, 99)}), at(60), at(80))
    assert (window.first, window.last, window.bars) == (day(60), day(80), 21)
    assert (window.starts_with, window.ends_with, window.truncation) == (None, None, 0.0)
    assert window.warning() is None
    assert window.describe() == "21 1d bars, every bar the policy's assets share in the window asked for"


def test_a_start_before_a_listing_counts_against_the_asked_window() -> None:
    # Asked from day 40: SOL's first bar (day 50) cuts 10 of the 59 days asked for.
    window = backtest_window(history({"BTC": (0, 99), "SOL": (50, 99)}), at(40), None)
    assert window.starts_with == "SOL"
    assert window.truncation == pytest.approx(1 - 49 / 59)


def test_a_history_that_ends_before_start_is_named() -> None:
    with pytest.raises(BadInputError) as error:
        backtest_window(history({"BTC": (0, 99), "USDC": (0, 30)}), at(40), None)
    assert str(error.value) == "--start: USDC's 1d history ends 2021-01-31, before --start 2021-02-10"


def test_a_history_that_starts_after_end_is_named() -> None:
    with pytest.raises(BadInputError) as error:
        backtest_window(history({"BTC": (0, 99), "SOL": (50, 99)}), None, at(20))
    assert str(error.value) == "--end: SOL's 1d history starts 2021-02-20, after --end 2021-01-21"


def test_compare_uses_the_span_every_policy_shares_or_refuses() -> None:
    one = backtest_window(history({"BTC": (0, 99), "USDC": (0, 60)}), None, None)
    two = backtest_window(history({"BTC": (0, 99), "SOL": (50, 99)}), None, None)
    assert common_window({"one": one, "two": two}) == (at(50), at(60))
    three = backtest_window(history({"BTC": (0, 99), "APT": (70, 99)}), None, None)
    with pytest.raises(BadInputError) as error:
        common_window({"one": one, "three": three})
    message = str(error.value)
    assert message.startswith("--policy: the policies share no window, so they cannot be compared")
    assert "one: 61 1d bars, limited by: USDC's history ends 2021-03-02" in message
    assert "three: 30 1d bars, limited by: APT's history starts 2021-03-12" in message
