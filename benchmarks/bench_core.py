"""Core benchmark: median time of ``valuate()`` and ``make_plan()`` on a large book, and the CLI's cold start.

The book has 50 classes (one of them cash), 200 assets and 100 derivative positions (linear and inverse
perpetuals, dated futures and options). Each timed call values the book at a fresh market snapshot whose
prices move a little, as a backtest or the live loop would, so nothing is served from a result cache.

Run ``make bench`` or ``.venv/bin/python benchmarks/bench_core.py [--repeat N]``; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from trimtab.domain import (
    AssetClass,
    DerivativePosition,
    DerivativeQuote,
    MarketSnapshot,
    Portfolio,
    SpotHolding,
    parse_symbol,
)
from trimtab.policy.config import Policy

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
TIMESTAMP = datetime(2026, 11, 21, tzinfo=UTC)
BASE = "USDT"
CLASSES = 50
ASSETS = 200
POSITIONS = 100

TARGETS = {"valuate": 0.2e-3, "make_plan": 5e-3, "cold start": 1.0}
"""Targets in seconds (median)."""


def build_book(seed: int = 7) -> tuple[Portfolio, MarketSnapshot, tuple[AssetClass, ...]]:
    """A deterministic book: 49 risky classes of 4 assets, a cash class of 4 stablecoins, 100 positions."""
    rng = random.Random(seed)
    risky = [f"A{i:03d}" for i in range(ASSETS - 4)]
    stables = [BASE, "USDC", "DAI", "FDUSD"]
    prices: dict[str, float] = {a: round(rng.uniform(0.05, 5000.0), 4) for a in risky}
    prices.update({BASE: 1.0, "USDC": 0.9998, "DAI": 1.0001, "FDUSD": 0.9995})
    classes: list[AssetClass] = []
    per_class = len(risky) // (CLASSES - 1)
    for index in range(CLASSES - 1):
        assets = tuple(risky[index * per_class : (index + 1) * per_class])
        classes.append(
            AssetClass(
                name=f"C{index:02d}",
                assets=assets,
                target=0.016,
                weights={a: 1.0 / len(assets) for a in assets},
                band=0.004,
                hedge=f"{assets[0]}/USDT:USDT",
            )
        )
    # The last risky class hedges with an index perpetual whose base is in no class.
    last = classes[-1]
    classes[-1] = AssetClass(last.name, last.assets, last.target, last.weights, band=0.004, hedge="IDX/USDT:USDT")
    classes.append(
        AssetClass("CASH", tuple(stables), 1.0 - 0.016 * (CLASSES - 1), dict.fromkeys(stables, 0.25), 0.02, cash=True)
    )

    spot = [SpotHolding(a, round(rng.uniform(1.0, 3000.0) / prices[a], 6), "binance") for a in risky]
    spot += [SpotHolding(s, 50_000.0, "binance") for s in stables]
    spot += [SpotHolding(a, 1.0 / prices[a], "okx") for a in risky[:20]]

    quotes: dict[str, DerivativeQuote] = {}
    positions: list[DerivativePosition] = []

    def add(symbol: str, amount: float, entry: float, mark: float, leverage: float, iv: float | None = None) -> None:
        quotes[symbol] = DerivativeQuote(mark, rng.uniform(-3e-4, 3e-4), 8.0, iv)
        positions.append(DerivativePosition(parse_symbol(symbol), amount, entry, leverage, "binance"))

    for index in range(84):
        asset = risky[index * 2]
        price = prices[asset]
        amount = rng.choice((-1.0, 1.0)) * rng.uniform(100.0, 2000.0) / price
        add(f"{asset}/USDT:USDT", amount, price * rng.uniform(0.9, 1.1), price * 1.0003, rng.choice((1.0, 3.0, 10.0)))
    add("IDX/USDT:USDT", -10.0, 1020.0, 1000.0, 2.0)
    prices["IDX"] = 1000.0  # an index has a price feed of its own
    for index in range(3):
        asset = risky[1 + index * 2]
        add(f"{asset}/USD:{asset}", -500.0, prices[asset] * 1.02, prices[asset], 2.0)
    for index in range(6):
        asset = risky[3 + index * 4]
        price = prices[asset]
        add(f"{asset}/USDT:USDT-261225", rng.uniform(-2.0, 2.0) * 1000.0 / price, price, price * 1.01, 5.0)
    for index in range(6):
        asset = risky[5 + index * 4]
        price = prices[asset]
        right = "C" if index % 2 == 0 else "P"
        strike = round(price * rng.uniform(0.8, 1.2), 2)
        add(
            f"{asset}/USDT:USDT-261225-{strike}-{right}",
            rng.choice((-1.0, 1.0)) * 500.0 / price,
            price * 0.05,
            price * 0.06,
            3.0,
            iv=rng.uniform(0.4, 1.2),
        )
    assert len(positions) == POSITIONS, len(positions)
    for c in classes:
        # Every hedge the policy may trade needs a quote.
        if c.hedge and c.hedge not in quotes:
            asset = c.assets[0]
            quotes[c.hedge] = DerivativeQuote(prices[asset] * 1.0002, 0.0001, 8.0)
    portfolio = Portfolio(BASE, tuple(spot), tuple(positions))
    market = MarketSnapshot(TIMESTAMP, prices, quotes, dict.fromkeys(risky, 0.6))
    return portfolio, market, tuple(classes)


def moved_markets(market: MarketSnapshot, count: int, seed: int = 11) -> list[MarketSnapshot]:
    """``count`` snapshots with every price and mark moved by up to 1 % (fresh objects each)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        prices = {a: p * (1.0 + rng.uniform(-0.01, 0.01)) for a, p in market.prices.items()}
        prices[BASE] = 1.0
        quotes = {
            s: DerivativeQuote(q.mark * (1 + rng.uniform(-0.01, 0.01)), q.funding_rate, q.funding_interval_hours, q.iv)
            for s, q in market.derivatives.items()
        }
        out.append(MarketSnapshot(market.timestamp, prices, quotes, market.volatility))
    return out


class Timing(NamedTuple):
    """Median wall-clock and CPU seconds and the best wall time; on a busy machine CPU is the steadier one."""

    wall: float
    cpu: float
    best: float


def median_seconds(call: Callable[[int], object], repeat: int) -> Timing:
    """Wall and CPU time of ``call(i)`` for ``i`` in ``range(repeat)``, after a warm-up run ``call(repeat)``.

    The warm-up uses an index of its own so that no timed call reuses the warm-up's inputs.
    """
    call(repeat)
    walls, cpus = [], []
    for i in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call(i)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return Timing(statistics.median(walls), statistics.median(cpus), min(walls))


def build_policy(classes: tuple[AssetClass, ...], instrument: str = "auto") -> Policy:
    """A policy over ``classes``: threshold trigger, every class to target, ``instrument`` trades."""
    document = {
        "base_currency": BASE,
        "class": [
            {
                "name": c.name,
                "assets": list(c.assets),
                "target": c.target,
                "band": c.band,
                **({"hedge": c.hedge} if c.hedge else {}),
                **({"cash": True} if c.cash else {}),
            }
            for c in classes
        ],
        "trigger": {"kind": "threshold"},
        "rebalance": {"scope": "all", "to": "target", "instrument": instrument, "max_leverage": 10.0},
    }
    return Policy.model_validate(document)


def cold_start_seconds(repeat: int) -> tuple[Timing, str]:
    """Median wall time of ``trimtab plan --format json`` as a fresh process, on the bundled examples."""
    examples = ROOT / "examples"
    inputs = [examples / "portfolio.toml", examples / "policy.toml", examples / "market.json"]
    where = "examples/"
    if not all(path.exists() for path in inputs):
        inputs = [DATA / "portfolio.toml", DATA / "policy.toml", DATA / "market.json"]
        where = "benchmarks/data/"
    executable = Path(sys.executable).with_name("trimtab")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "trimtab"]
    command += ["plan", "--portfolio", str(inputs[0]), "--policy", str(inputs[1]), "--market", str(inputs[2])]
    command += ["--format", "json"]
    walls, cpus = [], []
    for _ in range(repeat):
        before = os.times()
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        after = os.times()
        cpus.append(after.children_user + after.children_system - before.children_user - before.children_system)
    return Timing(statistics.median(walls), statistics.median(cpus), min(walls)), where


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="timed calls per in-process figure")
    parser.add_argument("--cold-repeat", type=int, default=7, help="processes started for the cold-start figure")
    args = parser.parse_args(argv)

    portfolio, market, classes = build_book()
    markets = moved_markets(market, args.repeat + 1)
    rows: list[tuple[str, Timing, float | None, str]] = []

    from trimtab.valuation import valuate

    seconds = median_seconds(lambda i: valuate(portfolio, markets[i], classes), args.repeat)
    rows.append(("valuate", seconds, TARGETS["valuate"], "same portfolio, a new snapshot each call"))
    fresh = [Portfolio(portfolio.base_currency, portfolio.spot, portfolio.derivatives) for _ in range(args.repeat + 1)]
    seconds = median_seconds(lambda i: valuate(fresh[i], markets[i], classes), args.repeat)
    rows.append(("valuate (new portfolio)", seconds, None, "a new portfolio object each call: no memoised layout"))

    try:
        from trimtab.planner import make_plan
    except ImportError as exc:  # the planner is optional for this benchmark
        missing = Timing(math.nan, math.nan, math.nan)
        rows.append(("make_plan", missing, TARGETS["make_plan"], f"not importable: {exc}"))
    else:
        for instrument in ("spot", "auto"):
            policy = build_policy(classes, instrument)
            plan = make_plan(portfolio, markets[0], policy)
            note = f"instrument={instrument}: {len(plan.trades)} trades, triggered={plan.triggered}"
            seconds = median_seconds(lambda i, p=policy: make_plan(portfolio, markets[i], p), max(args.repeat // 4, 5))
            rows.append((f"make_plan ({instrument})", seconds, TARGETS["make_plan"], note))

    cold, where = cold_start_seconds(args.cold_repeat)
    rows.append(("cold start: trimtab plan", cold, TARGETS["cold start"], f"subprocess, inputs from {where}"))

    print(f"trimtab core benchmark: {CLASSES} classes, {ASSETS} assets, {POSITIONS} derivative positions")
    plan_repeat = max(args.repeat // 4, 5)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; medians of {args.repeat} calls "
        f"({plan_repeat} for make_plan, {args.cold_repeat} processes for the cold start), after a warm-up"
    )
    print()
    print("wall: median wall-clock time (the target applies to it); cpu: median CPU time; best: fastest wall time")
    print()
    print(f"{'figure':<26} {'wall':>10} {'cpu':>10} {'best':>10} {'target':>10}  {'':<4} note")
    for name, t, target, note in rows:
        verdict = "" if target is None else ("ok" if t.wall < target else "MISS")
        target_text = "" if target is None else _format(target)
        figures = f"{_format(t.wall):>10} {_format(t.cpu):>10} {_format(t.best):>10} {target_text:>10}"
        print(f"{name:<26} {figures}  {verdict:<4} {note}")
    return 0


def _format(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


if __name__ == "__main__":
    raise SystemExit(main())
