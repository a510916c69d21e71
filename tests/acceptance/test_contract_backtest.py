"""``trimtab backtest`` against the contract's reference semantics, re-implemented here in a few lines.

Spot-only policy, ``slippage_bps = 0``: the capital is invested at the first shared bar's close into the
targets (paying the taker fee), and at each later close the holdings are valued and, if a class is
outside its band, every class is traded back to its target paying ``taker_fee x |notional|``. The metrics
of the installed command must match that loop on real bundled data.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
MARKET_DATA = REPO / "data" / "market"
ASSETS = ("BTC", "ETH", "SOL")
TARGETS = {"BTC": 0.4, "ETH": 0.3, "SOL": 0.1}
CASH_TARGET = 0.2
BAND = 0.05
FEE = 0.001

POLICY = f"""\
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = {TARGETS["BTC"]}
band = {BAND}

[[class]]
name = "ETH"
assets = ["ETH"]
target = {TARGETS["ETH"]}
band = {BAND}

[[class]]
name = "SOL"
assets = ["SOL"]
target = {TARGETS["SOL"]}
band = {BAND}

[[class]]
name = "STABLE"
assets = ["USDT"]
target = {CASH_TARGET}
band = {BAND}
cash = true

[trigger]
kind = "threshold"

[rebalance]
scope = "all"
to = "target"
instrument = "spot"
min_notional = 0.0

[costs]
taker_fee = {FEE}
slippage_bps = 0.0
"""

METRIC_KEYS = (
    "final_equity",
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "max_drawdown",
    "rebalances",
    "turnover",
    "fees",
    "funding",
    "tracking_error",
)


def closes(asset: str) -> dict[str, float]:
    with gzip.open(MARKET_DATA / f"spot_{asset}-USDT_1d.csv.gz", "rt", newline="") as stream:
        return {row["timestamp"]: float(row["close"]) for row in csv.DictReader(stream)}


def reference(start: str, end: str, capital: float) -> dict[str, float]:
    """The contract's reference loop; bars are the timestamps every asset shares within [start, end]."""
    prices = {asset: closes(asset) for asset in ASSETS}
    shared = set.intersection(*(set(series) for series in prices.values()))
    bars = sorted(stamp for stamp in shared if start <= stamp[:10] <= end)
    held = dict.fromkeys(ASSETS, 0.0)
    cash = capital
    traded = fees = 0.0
    rebalances = 0
    equities: list[float] = []
    squared_distances: list[float] = []

    def value(bar: str) -> float:
        return cash + sum(held[asset] * prices[asset][bar] for asset in ASSETS)

    def trade_to_targets(bar: str) -> float:
        nonlocal cash, fees
        equity = value(bar)  # sizing uses the equity before trading
        notional_total = 0.0
        for asset in ASSETS:
            notional = TARGETS[asset] * equity - held[asset] * prices[asset][bar]
            held[asset] += notional / prices[asset][bar]
            cash -= notional + FEE * abs(notional)
            fees += FEE * abs(notional)
            notional_total += abs(notional)
        return notional_total

    for index, bar in enumerate(bars):
        if index == 0:
            trade_to_targets(bar)
        else:
            equity = value(bar)
            weights = {asset: held[asset] * prices[asset][bar] / equity for asset in ASSETS}
            cash_weight = 1.0 - sum(weights.values())
            breached = abs(cash_weight - CASH_TARGET) > BAND or any(
                abs(weights[asset] - TARGETS[asset]) > BAND for asset in ASSETS
            )
            if breached:
                traded += trade_to_targets(bar)
                rebalances += 1
        equity = value(bar)
        equities.append(equity)
        weights = {asset: held[asset] * prices[asset][bar] / equity for asset in ASSETS}
        distance = sum((weights[asset] - TARGETS[asset]) ** 2 for asset in ASSETS)
        distance += (1.0 - sum(weights.values()) - CASH_TARGET) ** 2
        squared_distances.append(distance)
    mean_equity = sum(equities) / len(equities)
    return {
        "bars": float(len(bars)),
        "final_equity": equities[-1],
        "fees": fees,
        "rebalances": float(rebalances),
        "turnover": traded / mean_equity,
        "tracking_error": math.sqrt(sum(squared_distances) / len(squared_distances)),
    }


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("contract-backtest")
    (folder / "data").mkdir()
    for asset in ASSETS:
        name = f"spot_{asset}-USDT_1d.csv.gz"
        shutil.copy(MARKET_DATA / name, folder / "data" / name)
    (folder / "policy.toml").write_text(POLICY)
    return folder


def backtest(folder: Path, *extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trimtab",
            "backtest",
            "--policy",
            "policy.toml",
            "--data",
            "data",
            "--format",
            "json",
            *extra,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_metrics_match_the_reference_loop_with_default_capital(data_folder: Path) -> None:
    # SOL's history starts on 2020-08-11: the shared bars begin there, not at --start.
    metrics = backtest(data_folder, "--start", "2020-06-01", "--end", "2021-12-31")
    expected = reference("2020-06-01", "2021-12-31", capital=100_000.0)
    for key in METRIC_KEYS:
        assert isinstance(metrics[key], int | float), key
    assert metrics["bars"] == expected["bars"]
    assert metrics["final_equity"] == pytest.approx(expected["final_equity"], rel=1e-9)
    assert metrics["total_return"] == pytest.approx(expected["final_equity"] / 100_000.0 - 1.0, rel=1e-9)
    assert metrics["fees"] == pytest.approx(expected["fees"], rel=1e-9)
    assert metrics["rebalances"] == expected["rebalances"]
    assert metrics["rebalances"] >= 3  # the window really exercises the trigger
    assert metrics["tracking_error"] == pytest.approx(expected["tracking_error"], rel=1e-9)
    # The project reads "traded notional" as the rebalances' notional, the initial purchase excluded.
    assert metrics["turnover"] == pytest.approx(expected["turnover"], rel=1e-9)
    assert metrics["funding"] == 0.0


def test_capital_scales_equity_and_fees_and_nothing_else(data_folder: Path) -> None:
    base = backtest(data_folder, "--start", "2021-01-01", "--end", "2021-06-30")
    double = backtest(data_folder, "--start", "2021-01-01", "--end", "2021-06-30", "--capital", "200000")
    expected = reference("2021-01-01", "2021-06-30", capital=200_000.0)
    assert double["final_equity"] == pytest.approx(expected["final_equity"], rel=1e-9)
    assert double["final_equity"] == pytest.approx(2.0 * base["final_equity"], rel=1e-9)
    assert double["fees"] == pytest.approx(2.0 * base["fees"], rel=1e-9)
    for key in ("total_return", "rebalances", "turnover", "tracking_error", "max_drawdown", "sharpe"):
        assert double[key] == pytest.approx(base[key], rel=1e-9, abs=1e-12), key
