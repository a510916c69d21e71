"""Adaptive bands and beta estimates outside backtests: from the prices the journal keeps, cycle after cycle."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from trimtab.app.estimates import HistoryEstimator
from trimtab.app.loop import RunLoop
from trimtab.app.wiring import Run, RunSetup, build_run
from trimtab.backtest.engine import run_backtest
from trimtab.backtest.replay import rolling_volatility
from trimtab.domain import MarketSnapshot, Portfolio, SpotHolding
from trimtab.execution.config import ExecutionConfig
from trimtab.feed.history import load_history
from trimtab.loaders.policy import load_policy
from trimtab.policy.bands import class_bands, realised_volatility
from trimtab.policy.config import Policy
from trimtab.policy.estimation import SECONDS_PER_YEAR
from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.storage.state import StateStore
from trimtab.venues.paper import FixedFeed, PaperVenue
from trimtab.venues.simulation import RealityModels

DATA = Path(__file__).resolve().parents[3] / "data" / "market"
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
FAST = ExecutionConfig(algo="market", poll_interval_s=0.0, final_wait_s=1.0, twap_threshold=1e12)
ADAPTIVE = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.40
band = 0.05
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.30
band = 0.05
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.30
band = 0.05
cash = true
[trigger]
kind = "threshold"
[trigger.adaptive]
lookback = "1d"
reference_vol = 0.6
min_band = 0.005
max_band = 0.2
[rebalance]
min_notional = 10.0
[costs]
taker_fee = 0.001
slippage_bps = 5.0
"""
BETA_NEUTRAL = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.5
band = 0.03
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.0
band = 0.03
hedge = "ETH/USDT:USDT"
[[class]]
name = "CASH"
assets = ["USDT"]
target = 0.5
band = 0.6
cash = true
[rebalance]
hedge_leverage = 2
max_leverage = 3
min_notional = 10.0
[costs]
taker_fee = 0.0005
slippage_bps = 2.0
[strategy]
kind = "beta-neutral"
long = "BTC"
short = "ETH"
lookback = "3d"
"""


def _policy(tmp_path: Path, text: str) -> Policy:
    (tmp_path / "policy.toml").write_text(text)
    return load_policy(tmp_path / "policy.toml")


def _bands(snapshot: dict[str, object]) -> dict[str, tuple[float, float]]:
    classes = snapshot["payload"]["classes"]  # type: ignore[index]
    return {c["name"]: (c["lower"], c["upper"]) for c in classes}


def _expected_bands(policy: Policy, volatility: dict[str, float]) -> dict[str, tuple[float, float]]:
    targets = {c.name: c.target for c in policy.asset_classes()}
    bands = class_bands(policy.asset_classes(), targets, policy.trigger.adaptive, volatility)
    return {name: (band.lower, band.upper) for name, band in bands.items()}


# -- a fixed --market snapshot -----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=max(seconds, 0.001))


def _fixed_loop(
    tmp_path: Path, policy: Policy, journaled_hours: int, seed: int
) -> tuple[RunLoop, dict[str, list[float]]]:
    """A loop on one fixed snapshot whose journal already holds ``journaled_hours`` hourly cycles of prices."""
    rng = np.random.default_rng(seed)
    walk = {
        "BTC": (50_000.0 * np.exp(np.cumsum(rng.normal(0, 0.01, journaled_hours + 1)))).tolist(),
        "ETH": (2_500.0 * np.exp(np.cumsum(rng.normal(0, 0.02, journaled_hours + 1)))).tolist(),
    }
    # The snapshot's prices are the walk's last point, so they do not look like outliers.
    market = MarketSnapshot(NOW, {"BTC": walk["BTC"][-1], "ETH": walk["ETH"][-1], "USDT": 1.0})
    store = open_store(f"sqlite:///{tmp_path / 'journal.db'}")
    journal = Journal(store)
    for hour in range(journaled_hours):
        when = NOW - (journaled_hours - hour) * HOUR
        prices = {"BTC": walk["BTC"][hour], "ETH": walk["ETH"][hour], "USDT": 1.0}
        journal.save_snapshot(
            timestamp=when, cycle=hour + 1, equity=100_000.0, halted=False, payload={"prices": prices}
        )
    clock = Clock()
    portfolio = Portfolio("USDT", (SpotHolding("BTC", 0.8), SpotHolding("ETH", 12.0), SpotHolding("USDT", 30_000.0)))
    venue = PaperVenue(
        FixedFeed(market),
        base_currency="USDT",
        models=RealityModels.from_costs(policy.costs),
        store=StateStore(store),
        initial=portfolio,
        clock=clock,
    )
    return RunLoop(venue, store, policy, FAST, clock=clock, sleep=clock.sleep), walk


def test_a_fixed_snapshot_gets_adaptive_bands_from_the_volatility_of_the_journaled_prices(tmp_path: Path) -> None:
    policy = _policy(tmp_path, ADAPTIVE)
    loop, walk = _fixed_loop(tmp_path, policy, journaled_hours=30, seed=7)
    result = loop.cycle()
    assert result.paused == [] and not result.halted
    assert result.decisions[0] == "adaptive bands use realised volatility from the run's price history"
    # The window is [now - 1 d, now]: 24 journaled hours and this cycle's prices, hourly (8 760 a year).
    volatility = {asset: realised_volatility(series[-25:], 8760.0) for asset, series in walk.items()}
    assert 0.3 < volatility["BTC"] < 1.5 and volatility["ETH"] > volatility["BTC"]
    bands = _bands(loop.journal.snapshots()[30])  # the cycle's first snapshot, after the 30 journaled ones
    for name, (lower, upper) in _expected_bands(policy, volatility).items():
        assert bands[name] == (pytest.approx(lower, rel=1e-9), pytest.approx(upper, rel=1e-9))
    fixed = _expected_bands(policy, {})
    assert bands["ETH"] != pytest.approx(fixed["ETH"])  # the bands did move with volatility
    assert len(loop.journal.decisions(["estimate"])) == 1
    loop.cycle()
    assert len(loop.journal.decisions(["estimate"])) == 1  # said once, not every cycle


def test_a_paused_cycles_bad_tick_stays_out_of_the_volatility(tmp_path: Path) -> None:
    policy = _policy(tmp_path, ADAPTIVE)
    loop, walk = _fixed_loop(tmp_path, policy, journaled_hours=30, seed=7)
    bad = NOW - HOUR / 2  # a cycle that saw BTC at -87 % and paused on it
    prices = {"BTC": walk["BTC"][-1] * 0.13, "ETH": walk["ETH"][-1], "USDT": 1.0}
    loop.journal.save_snapshot(timestamp=bad, cycle=31, equity=60_000.0, halted=False, payload={"prices": prices})
    loop.journal.add_decision(timestamp=bad, cycle=31, kind="pause", reason="BTC at 6500 is 87 % from its median")
    loop.cycle()
    volatility = {asset: realised_volatility(series[-25:], 8760.0) for asset, series in walk.items()}
    bands = _bands(loop.journal.last_snapshot())  # type: ignore[arg-type]
    for name, (lower, upper) in _expected_bands(policy, volatility).items():
        assert bands[name] == (pytest.approx(lower, rel=1e-9), pytest.approx(upper, rel=1e-9))


def test_too_little_history_keeps_the_fixed_bands_and_says_so_once(tmp_path: Path) -> None:
    policy = _policy(tmp_path, ADAPTIVE)
    loop, _ = _fixed_loop(tmp_path, policy, journaled_hours=3, seed=8)
    first = loop.cycle()
    loop.clock.now += HOUR  # type: ignore[attr-defined]
    loop.cycle()
    [decision] = loop.journal.decisions(["estimate"])
    assert decision["reason"].startswith("adaptive bands fall back to the fixed bands: BTC: 4 price(s) spanning 3.0 h")
    assert decision["reason"] in first.decisions
    bands = _bands(loop.journal.last_snapshot())  # type: ignore[arg-type]
    assert bands["BTC"] == (pytest.approx(0.35), pytest.approx(0.45))  # the policy's own band of 5 points


# -- a paper replay of real hourly bars --------------------------------------------------------------------


def _replay(tmp_path: Path, policy_text: str, files: tuple[str, ...], start: datetime) -> tuple[Run, Path, Policy]:
    data = tmp_path / "data"
    data.mkdir()
    for name in files:
        shutil.copy(DATA / name, data)
    policy = _policy(tmp_path, policy_text)
    (tmp_path / "portfolio.toml").write_text('base_currency = "USDT"\n[[spot]]\nasset = "USDT"\namount = 100000.0\n')
    store = open_store(f"sqlite:///{tmp_path / 'paper.db'}")
    setup = RunSetup(portfolio=tmp_path / "portfolio.toml", data=data, at=start, config=FAST)
    return build_run(policy, store, setup), data, policy


def test_a_replay_estimating_from_its_journal_alone_reaches_the_backtests_realised_volatility(tmp_path: Path) -> None:
    files = ("spot_BTC-USDT_1h.csv.gz", "spot_ETH-USDT_1h.csv.gz")
    run, _, policy = _replay(tmp_path, ADAPTIVE, files, datetime(2025, 4, 1, tzinfo=UTC))
    # As on a live venue: no volatility from the feed and no earlier bars, only what the journal gathers.
    run.loop.volatility = None
    run.loop.estimator = HistoryEstimator(policy)
    assert run.feed is not None
    history = run.feed.history
    reference = rolling_volatility(
        history.close, history.timestamps, timedelta(days=1), SECONDS_PER_YEAR / history.bar_seconds
    )
    compared = 0
    for cycle in range(1, 41):
        row = run.feed.index
        result = run.loop.cycle()
        assert result.paused == [] and not result.halted
        snapshot = next(s for s in reversed(run.loop.journal.snapshots(3)) if s["cycle"] == cycle)
        if cycle >= 25:  # a full day of the run's own prices
            volatility = {a: float(reference[row, history.index_of(a)]) for a in ("BTC", "ETH")}
            expected = _expected_bands(policy, volatility)
            for name, (lower, upper) in _bands(snapshot).items():
                assert (lower, upper) == (pytest.approx(expected[name][0]), pytest.approx(expected[name][1]))
            compared += 1
        assert run.advance()
    assert compared == 16
    decisions = run.loop.journal.decisions(["estimate"])
    assert [(d["cycle"], d["reason"].split(":")[0]) for d in decisions] == [
        (1, "adaptive bands fall back to the fixed bands"),
        (13, "adaptive bands use realised volatility from the run's price history"),  # 12 h: half the day
    ]


def test_a_beta_neutral_replay_sizes_its_hedge_with_the_backtests_beta_at_every_bar(tmp_path: Path) -> None:
    files = (
        "spot_BTC-USDT_1h.csv.gz",
        "spot_ETH-USDT_1h.csv.gz",
        "perp_ETH-USDT_1h.csv.gz",
        "perp_ETH-USDT_funding_8h.csv.gz",
    )
    start, last_bar = datetime(2025, 3, 10, tzinfo=UTC), datetime(2025, 3, 13, 23, tzinfo=UTC)
    run, data, policy = _replay(tmp_path, BETA_NEUTRAL, files, start)
    results = []
    for bar in range(96):
        results.append(run.loop.cycle())
        if bar < 95:
            assert run.advance()
    assert all(r.paused == [] and not r.halted for r in results)
    # The bars before --at are loaded, so the estimate is there from the first cycle.
    assert results[0].decisions[0] == "the beta is estimated from the run's price history"
    backtest = run_backtest(policy, load_history(data, ["BTC", "ETH"]), capital=100_000.0, start=start, end=last_bar)
    snapshots = [s for s in run.loop.journal.snapshots() if not s["payload"]["after_trades"]]
    targets = np.array([[c["target"] for c in s["payload"]["classes"]] for s in snapshots])
    assert targets.shape == backtest.targets.shape == (96, 3)
    # Bar 0 is the backtest's initial purchase at the policy's own targets; from then on, the same beta.
    np.testing.assert_allclose(targets[1:], backtest.targets[1:], rtol=0, atol=1e-12)
    betas = -targets[1:, 1] / 0.5
    assert betas.min() > 0.2 and betas.max() < 1.5 and betas.std() > 0  # a beta that moves with the window
    assert any(o["symbol"] == "ETH/USDT:USDT" and o["side"] == "sell" for r in results for o in r.orders)
