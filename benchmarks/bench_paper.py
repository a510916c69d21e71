"""Paper replay cycles cost the same whatever the journal's length: the first 1,000 against the last 1,000.

A paper run (``trimtab run --data``, market orders) replays real hourly bars of BTC, ETH and BNB from the
bundled data, one cycle a bar, journaling into a fresh SQLite file; every cycle is timed. The figure is
the median cycle time of the last ``--window`` cycles over that of the first ``--window`` (after a
warm-up of 50 cycles): about 1 when a cycle's cost does not grow with the journal.

Usage::

    .venv/bin/python benchmarks/bench_paper.py [--cycles 10000] [--window 1000] [--profile]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "market"
POLICY = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.40
band = 0.02
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.30
band = 0.02
[[class]]
name = "BNB"
assets = ["BNB"]
target = 0.15
band = 0.02
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.15
band = 0.03
cash = true
[costs]
taker_fee = 0.0010
slippage_bps = 5.0
"""
START = datetime(2019, 1, 1, tzinfo=UTC)
WARM_UP = 50


def replay(folder: Path, cycles: int) -> list[float]:
    """Seconds of each cycle of a paper replay of ``cycles`` hourly bars."""
    from trimtab.app.wiring import RunSetup, build_run
    from trimtab.execution.config import ExecutionConfig
    from trimtab.loaders.policy import load_policy
    from trimtab.storage import open_store

    data = folder / "data"
    data.mkdir()
    for asset in ("BTC", "ETH", "BNB"):
        shutil.copy(DATA / f"spot_{asset}-USDT_1h.csv.gz", data)
    (folder / "policy.toml").write_text(POLICY)
    (folder / "portfolio.toml").write_text('base_currency = "USDT"\n[[spot]]\nasset = "USDT"\namount = 100000.0\n')
    setup = RunSetup(
        portfolio=folder / "portfolio.toml",
        data=data,
        at=START,
        config=ExecutionConfig(algo="market", twap_threshold=1e12),
    )
    run = build_run(load_policy(folder / "policy.toml"), open_store(f"sqlite:///{folder / 'paper.db'}"), setup)
    seconds = []
    for _ in range(cycles):
        began = time.perf_counter()
        run.loop.cycle()
        seconds.append(time.perf_counter() - began)
        if not run.advance():
            break
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--window", type=int, default=1_000)
    parser.add_argument("--profile", action="store_true", help="print where the last cycles spend their time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
        seconds = replay(Path(folder), args.cycles)
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    window = min(args.window, (len(seconds) - WARM_UP) // 2)
    first = statistics.median(seconds[WARM_UP : WARM_UP + window])
    last = statistics.median(seconds[-window:])
    print(f"paper replay: {len(seconds):,} hourly cycles from {START:%Y-%m-%d}, journal in SQLite")
    print(f"  median cycle, cycles {WARM_UP + 1:,}-{WARM_UP + window:,}: {first * 1000:8.2f} ms")
    print(f"  median cycle, last {window:,} cycles:     {last * 1000:8.2f} ms")
    verdict = "ok" if last <= first * 1.1 else "MISS"
    print(f"  last / first: {last / first:.3f}   target <= 1 (within 10 % noise)   {verdict}")
    print(f"  whole replay: {sum(seconds):,.1f} s")


if __name__ == "__main__":
    main()
