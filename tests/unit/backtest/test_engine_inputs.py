"""The engine's inputs: bar window, bad input, progress reports and Black-76 marks for options."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from trimtab.backtest.engine import run_backtest
from trimtab.backtest.replay import prepare
from trimtab.backtest.snapshots import SnapshotBuilder
from trimtab.domain.instruments import parse_symbol
from trimtab.errors import BadInputError
from trimtab.feed import MarketHistory, load_history
from trimtab.policy.config import Policy
from trimtab.valuation.black76 import black76

DATA = Path(__file__).resolve().parents[3] / "data" / "market"


@pytest.fixture(scope="module")
def btc_2023() -> MarketHistory:
    return load_history(
        DATA,
        ["BTC", "USDT"],
        timeframe="1d",
        start=datetime(2023, 1, 1, tzinfo=UTC),
        end=datetime(2023, 6, 30, tzinfo=UTC),
        use_cache=False,
    )


def _policy() -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.6, "band": 0.05},
                {"name": "CASH", "assets": ["USDT"], "target": 0.4, "band": 0.05, "cash": True},
            ],
        }
    )


def test_start_and_end_select_bars_by_open_time_and_progress_reaches_the_end(btc_2023: MarketHistory) -> None:
    calls: list[tuple[int, int]] = []
    result = run_backtest(
        _policy(),
        btc_2023,
        start=datetime(2023, 2, 1, tzinfo=UTC),
        end=datetime(2023, 2, 28, tzinfo=UTC),
        fast=False,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert result.bars == 28
    assert result.start == datetime(2023, 2, 2, tzinfo=UTC)  # the first bar acts at its close
    assert calls[-1] == (28, 28)
    # 60,000 of BTC bought 5 bps above the close (default slippage), paying the 0.1 % taker fee on that.
    assert result.equity[0] == pytest.approx(100_000.0 - 0.001 * 60_000.0 * 1.0005 - 0.0005 * 60_000.0, rel=1e-12)
    assert result.metrics["fees"] == pytest.approx(float(result.fees[-1]))


def test_an_asset_missing_from_the_history_is_bad_input(btc_2023: MarketHistory) -> None:
    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "ETH", "assets": ["ETH"], "target": 0.6, "band": 0.05},
                {"name": "CASH", "assets": ["USDT"], "target": 0.4, "band": 0.05, "cash": True},
            ],
        }
    )
    with pytest.raises(BadInputError, match="no prices for ETH"):
        run_backtest(policy, btc_2023)
    with pytest.raises(ValueError, match="capital"):
        run_backtest(_policy(), btc_2023, capital=0.0)


def test_options_are_marked_with_black76_on_dvol(btc_2023: MarketHistory) -> None:
    replay = prepare(_policy(), btc_2023, None, None)
    builder = SnapshotBuilder(replay)
    option = parse_symbol("BTC/USDT:USDT-231229-30000-C")
    snapshot = builder.snapshot(10, [option])
    quote = snapshot.derivatives[option.symbol]
    assert btc_2023.implied_vol is not None
    moment = replay.moment(10)
    assert quote.iv is not None and 0.2 < quote.iv < 1.5  # DVOL in January 2023, as a fraction
    expected = black76(snapshot.prices["BTC"], 30_000.0, option.years_to_expiry(moment), quote.iv, option.option_type)
    assert quote.mark == pytest.approx(expected.value)


def test_adaptive_bands_of_the_fast_path_are_the_planners_to_the_last_bit() -> None:
    from trimtab.backtest.fastpath import band_half_widths
    from trimtab.policy.bands import class_bands

    history = load_history(DATA, ["BTC", "ETH", "BNB", "USDT"], timeframe="1d", use_cache=False)
    policy = Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.4, "band": 0.05},
                {
                    "name": "ALTS",
                    "assets": ["ETH", "BNB"],
                    "target": 0.4,
                    "band_relative": 0.2,
                    "weights": {"ETH": 3, "BNB": 1},
                },
                {"name": "CASH", "assets": ["USDT"], "target": 0.2, "band": 0.05, "cash": True},
            ],
            "trigger": {"kind": "threshold", "adaptive": {"lookback": "30d", "reference_vol": 0.6, "max_band": 0.12}},
        }
    )
    replay = prepare(policy, history, None, None)
    assert replay.volatility is not None
    widths = band_half_widths(replay)
    classes = policy.asset_classes()
    targets = {c.name: c.target for c in classes}
    for bar in (0, 1, 5, 40, 500, replay.times.shape[0] - 1):
        known = {
            asset: float(v) for asset, v in zip(replay.assets, replay.volatility[bar], strict=True) if np.isfinite(v)
        }
        bands = class_bands(classes, targets, policy.trigger.adaptive, known)
        assert [bands[c.name].half_width for c in classes] == widths[bar].tolist()
    assert widths[:, 0].min() < 0.05 < widths[:, 0].max()  # the bands really move
