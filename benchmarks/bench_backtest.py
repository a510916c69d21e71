"""Backtest speed: trimtab's fast path against a plain Numba loop, vectorbt and bt.

Workloads (prices are seeded geometric Brownian motion unless ``--data`` names a folder with hourly
spot files for ten assets, whose shared bars are used instead):

1. ``threshold``: 10 assets x 5 years of hourly bars, equal weights (9 % each, 10 % cash), 5 % absolute
   threshold bands, rebalanced to target, 0.1 % taker fee.
2. ``sweep``: the same data under 191 band widths (1 % to 20 % by 0.1 %), one parallel kernel call.
3. ``minute``: 100 assets x 5 years of minute bars (synthetic) through ``run_backtest`` (the public path,
   its result's final equity and rebalance count read); peak memory is measured against the closes.
4. ``costs``: 14 assets x 8 years of daily bars through the event engine with every cost model on
   (taker fee, square-root impact slippage on the bars' volume).

trimtab runs in this interpreter. vectorbt and bt run in the separate environment ``.venv-bench``
(``python3 -m venv .venv-bench && .venv-bench/bin/pip install -e . -r benchmarks/requirements-compare.txt``);
when they cannot be imported the benchmark says so and still prints trimtab's figures. Slow tools are
timed on a subset of the sweep and extrapolated (marked ``est.``).

Usage::

    .venv/bin/python benchmarks/bench_backtest.py [--quick] [--data DIR] [--skip-minute] [--skip-others]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

ROOT = Path(__file__).resolve().parents[1]
BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
HOUR_NS = 3600 * 1_000_000_000
FEE = 0.001
BAND = 0.05
CAPITAL = 100_000.0
MINUTE_BAND = 0.003  # 0.3 points around each asset's 0.9 % target
WIDTHS = np.round(np.arange(0.01, 0.20001, 0.001), 6)  # 191 widths


# ----------------------------------------------------------------------------------------------- data


def synthetic_prices(n_bars: int, n_assets: int, bars_per_year: float, seed: int) -> np.ndarray:
    """Seeded GBM closes, 60-110 % annual volatility, shape (n_bars, n_assets), C-contiguous."""
    rng = np.random.default_rng(seed)
    vol = rng.uniform(0.6, 1.1, n_assets) / math.sqrt(bars_per_year)
    steps = rng.standard_normal((n_bars, n_assets)) * vol - 0.5 * vol * vol
    out = np.exp(np.cumsum(steps, axis=0))
    out *= rng.uniform(1.0, 1000.0, n_assets)
    return np.ascontiguousarray(out)


def hourly_workload(data: Path | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(close (T, 10), times, label) for the threshold and sweep workloads."""
    if data is not None:
        from trimtab.feed import load_history

        assets = ["BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX", "LINK", "LTC"]
        history = load_history(data, [*assets, "USDT"], timeframe="1h")
        close = np.ascontiguousarray(history.close[-5 * 8760 :, :10])
        times = history.timestamps[-5 * 8760 :] + HOUR_NS
        return close, times, f"real hourly closes of {', '.join(assets)} ({close.shape[0]} shared bars)"
    n_bars = 5 * 8760
    close = synthetic_prices(n_bars, 10, 8760.0, seed=11)
    times = np.arange(1, n_bars + 1, dtype=np.int64) * HOUR_NS
    return close, times, "synthetic hourly GBM, 10 assets x 5 years (43,800 bars)"


# ------------------------------------------------------------------------------------ trimtab's side


def equal_weight_policy(n_assets: int, band: float, slippage_bps: float = 0.0) -> Any:
    from trimtab.policy.config import Policy

    weight = round(0.9 / n_assets, 12)
    classes = [{"name": f"A{i}", "assets": [f"A{i}"], "target": weight, "band": band} for i in range(n_assets)]
    classes.append({"name": "CASH", "assets": ["USDT"], "target": 1.0 - weight * n_assets, "band": band, "cash": True})
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": classes,
            "rebalance": {"min_notional": 0.0},
            "costs": {"taker_fee": FEE, "slippage_bps": slippage_bps},
        }
    )


def synthetic_history(close: np.ndarray, times: np.ndarray, timeframe: str, volume: np.ndarray | None = None) -> Any:
    from trimtab.feed import MarketHistory

    n_assets = close.shape[1]
    bar_ns = int(times[1] - times[0])
    full = np.ones((close.shape[0], n_assets + 1))
    full[:, :n_assets] = close
    vol = np.zeros_like(full)
    if volume is not None:
        vol[:, :n_assets] = volume
    return MarketHistory(
        timeframe=timeframe,
        assets=(*[f"A{i}" for i in range(n_assets)], "USDT"),
        timestamps=np.ascontiguousarray(times - bar_ns),
        close=full,
        high=full * 1.01,
        low=full * 0.99,
        volume=vol,
        quote="USDT",
    )


def kernel_arrays(close: np.ndarray, band: float) -> dict[str, Any]:
    n_assets = close.shape[1]
    weight = round(0.9 / n_assets, 12)
    targets = np.full(n_assets + 1, weight)
    targets[-1] = 1.0 - sum([weight] * n_assets)
    return {
        "class_of": np.arange(n_assets, dtype=np.int64),
        "split": np.ones(n_assets),
        "targets": targets,
        "half_widths": np.full((1, n_assets + 1), band),
        "cash": n_assets,
    }


def run_kernel(close: np.ndarray, times: np.ndarray, band: float, record: bool) -> np.ndarray:
    from trimtab.backtest import kernel

    arrays = kernel_arrays(close, band)
    n_bars, n_classes = close.shape[0], arrays["targets"].shape[0]
    length = n_bars if record else 0
    stats = kernel.simulate(
        close,
        times,
        arrays["class_of"],
        arrays["split"],
        arrays["targets"],
        arrays["half_widths"],
        arrays["cash"],
        CAPITAL,
        FEE,
        0.0,
        0.0,
        kernel.TRIGGER_THRESHOLD,
        0,
        False,
        False,
        np.zeros(length),
        np.zeros((length, n_classes)),
        np.zeros(length),
        np.zeros(length),
        np.zeros(length, dtype=np.uint8),
        np.zeros((64 * n_bars // 1000 if record else 0, 2), dtype=np.int64),
        np.zeros((64 * n_bars // 1000 if record else 0, 4)),
    )
    return np.asarray(stats)


@njit(cache=True)
def plain_numba_loop(close: np.ndarray, target: float, band: float, fee: float, capital: float) -> tuple[float, int]:
    """The simplest correct threshold rebalancer: equal targets, cash the rest, trade every asset to target."""
    n_bars, n_assets = close.shape
    holdings = np.zeros(n_assets)
    cash = capital
    for a in range(n_assets):
        amount = target * capital / close[0, a]
        holdings[a] = amount
        cash -= amount * close[0, a] * (1.0 + fee)
    cash_target = 1.0 - target * n_assets
    rebalances = 0
    equity = capital
    for t in range(1, n_bars):
        equity = cash
        for a in range(n_assets):
            equity += holdings[a] * close[t, a]
        breach = abs(cash / equity - cash_target) > band
        for a in range(n_assets):
            if abs(holdings[a] * close[t, a] / equity - target) > band:
                breach = True
        if breach:
            rebalances += 1
            for a in range(n_assets):
                change = target * equity - holdings[a] * close[t, a]
                holdings[a] += change / close[t, a]
                cash -= change + fee * abs(change)
    return equity, rebalances


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_bytes() -> int:
    for text in Path("/proc/self/status").read_text().splitlines():
        if text.startswith("VmHWM:"):
            return int(text.split()[1]) * 1024
    return 0


def timed(function: Any, repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` calls (after one warm-up call) and the last result."""
    result = function()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples)), result


# ------------------------------------------------------------------------------------ other tools


@dataclass
class OtherResult:
    tool: str
    seconds: float | None
    final_equity: float | None
    rebalances: int | None
    note: str = ""


def run_other(tool: str, workload: str, close: np.ndarray, widths: list[float], timeout: float) -> OtherResult:
    """Run ``benchmarks/_compare_tools.py`` in .venv-bench; None figures when it cannot run."""
    if not BENCH_PYTHON.exists():
        return OtherResult(tool, None, None, None, "not installed (.venv-bench missing)")
    folder = ROOT / ".venv-bench" / "work"
    folder.mkdir(exist_ok=True)
    prices = folder / "close.npy"
    np.save(prices, close)
    command = [str(BENCH_PYTHON), str(Path(__file__).with_name("_compare_tools.py")), tool, str(prices), workload]
    command += [str(w) for w in widths]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return OtherResult(tool, None, None, None, f"did not finish within {timeout:.0f} s")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return OtherResult(tool, None, None, None, f"failed: {last[:160]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return OtherResult(tool, answer["seconds"], answer["final_equity"], answer["rebalances"], answer.get("note", ""))


# ----------------------------------------------------------------------------------------------- main


def line(label: str, value: str, target: str = "", verdict: str = "") -> None:
    print(f"  {label:<44} {value:>16}  {target:<22} {verdict}")


def ratio_text(slow: float | None, fast: float) -> str:
    return f"{slow / fast:,.0f}x" if slow is not None and fast > 0 else "n/a"


def minute_workload(years: int) -> None:
    """100 assets x ``years`` of minute bars through ``run_backtest``: peak memory against the close prices."""
    n_bars = years * 365 * 1440
    print(f"\n[3] minute: 100 assets x {years} year(s) of minute bars ({n_bars:,} bars, synthetic), run_backtest")
    minute_times = np.arange(1, n_bars + 1, dtype=np.int64) * 60 * 1_000_000_000
    full = np.ones((n_bars, 101))  # the history's close array: 100 assets and the quote currency
    rng = np.random.default_rng(5)
    level = rng.uniform(1.0, 1000.0, 100)
    vol = rng.uniform(0.6, 1.1, 100) / math.sqrt(365 * 1440.0)
    for start in range(0, n_bars, 1 << 16):  # built in blocks: no temporary as large as the prices
        stop = min(start + (1 << 16), n_bars)
        steps = rng.standard_normal((stop - start, 100)) * vol - 0.5 * vol * vol
        block = level * np.exp(np.cumsum(steps, axis=0))
        full[start:stop, :100] = block
        level = block[-1]
    del steps, block
    close_bytes = n_bars * 100 * 8  # the policy's close prices (the quote column aside)
    from trimtab.backtest.engine import run_backtest
    from trimtab.feed import MarketHistory

    history = MarketHistory(
        timeframe="1m",
        assets=(*[f"A{i}" for i in range(100)], "USDT"),
        timestamps=minute_times - 60 * 1_000_000_000,
        close=full,
    )
    policy = equal_weight_policy(100, MINUTE_BAND)
    small = MarketHistory(timeframe="1m", assets=history.assets, timestamps=history.timestamps[:500], close=full[:500])
    run_backtest(policy, small, capital=CAPITAL)  # compile or load the kernel first
    base_rss = _current_rss_bytes()
    rss_reset = _reset_peak_rss()
    tracemalloc.start()
    start_time = time.perf_counter()
    result = run_backtest(policy, history, capital=CAPITAL)
    final, rebalances = result.final_equity, result.rebalances  # known without the per-bar curves
    seconds = time.perf_counter() - start_time
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    line("run_backtest time", f"{seconds:,.2f} s")
    line("close prices (100 assets)", f"{close_bytes / 2**20:,.0f} MiB")
    ratio = (full.nbytes + peak) / close_bytes
    line("(history + allocations during the run) / closes", f"{ratio:.4f}", "<= 1.5", "ok" if ratio <= 1.5 else "MISS")
    if rss_reset:
        grown = max(_peak_rss_bytes() - base_rss, 0)
        line("  process peak RSS growth during the run", f"{grown / 2**20:,.0f} MiB")
    line("  final equity / rebalances", f"{final:,.2f} / {rebalances:,.0f}")
    del history, full, result


def _current_rss_bytes() -> int:
    for text in Path("/proc/self/status").read_text().splitlines():
        if text.startswith("VmRSS:"):
            return int(text.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="folder with hourly spot files for 10 assets")
    parser.add_argument("--quick", action="store_true", help="1 year of minute bars instead of 5, fewer repeats")
    parser.add_argument("--skip-minute", action="store_true", help="skip the 100-asset minute workload")
    parser.add_argument("--skip-others", action="store_true", help="do not run vectorbt and bt")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed to each other tool's run")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7

    print(f"machine: {os.cpu_count()} CPUs, numba threads {os.environ.get('NUMBA_NUM_THREADS', 'default')}")
    close, times, label = hourly_workload(args.data)
    print(f"\n[1] threshold: {label}, 5 % bands, fee {FEE:.1%}")

    start = time.perf_counter()
    run_kernel(close[:50], times[:50], BAND, True)
    compile_or_load = time.perf_counter() - start
    line("first kernel call (compile or cache load)", f"{compile_or_load * 1000:,.0f} ms", "cached: no recompile")

    from trimtab.backtest.engine import run_backtest

    history = synthetic_history(close, times, "1h")
    policy = equal_weight_policy(close.shape[1], BAND)
    kernel_seconds, _ = timed(lambda: run_kernel(close, times, BAND, False), repeat)
    plain_seconds, (plain_equity, plain_rebalances) = timed(
        lambda: plain_numba_loop(close, round(0.9 / close.shape[1], 12), BAND, FEE, CAPITAL), repeat
    )
    full_seconds, result = timed(lambda: run_backtest(policy, history, capital=CAPITAL), repeat)
    line("trimtab kernel", f"{kernel_seconds * 1000:,.2f} ms")
    line("plain Numba loop (in this file)", f"{plain_seconds * 1000:,.2f} ms")
    verdict = "ok" if kernel_seconds <= 1.5 * plain_seconds else "MISS"
    line("kernel / plain loop", f"{kernel_seconds / plain_seconds:.2f}", "<= 1.5", verdict)
    line("run_backtest (public API, lazy result)", f"{full_seconds * 1000:,.2f} ms")
    verdict = "ok" if full_seconds <= 3.0 * plain_seconds else "MISS"
    line("run_backtest / plain loop", f"{full_seconds / plain_seconds:.2f}", "<= 3", verdict)
    curve_seconds, _ = timed(lambda: run_backtest(policy, history, capital=CAPITAL).metrics, max(repeat // 2, 1))
    line("  run_backtest + every metric (curves read)", f"{curve_seconds * 1000:,.2f} ms")
    line("  final equity / rebalances", f"{result.metrics['final_equity']:,.2f} / {result.metrics['rebalances']}")
    line("  plain loop final equity / rebalances", f"{plain_equity:,.2f} / {plain_rebalances}")

    others: dict[str, OtherResult] = {}
    if not args.skip_others:
        for tool in ("vectorbt", "bt"):
            others[tool] = run_other(tool, "threshold", close, [BAND], args.timeout)
            other = others[tool]
            if other.seconds is None:
                line(f"{tool}", "n/a", other.note)
                continue
            target = 50 if tool == "vectorbt" else 1000
            speed = other.seconds / full_seconds
            line(f"{tool}", f"{other.seconds:,.2f} s", f">= {target:,}x slower", "ok" if speed >= target else "MISS")
            line(f"  {tool} / run_backtest", ratio_text(other.seconds, full_seconds))
            line(f"  {tool} final equity / rebalances", f"{other.final_equity:,.2f} / {other.rebalances}", other.note)

    print(f"\n[2] sweep: {WIDTHS.size} band widths ({WIDTHS[0]:.1%} to {WIDTHS[-1]:.1%}) over the same data")
    from trimtab.backtest.fastpath import sweep_band_widths
    from trimtab.backtest.replay import prepare

    replay = prepare(policy, history, None, None)
    grid = np.repeat(WIDTHS[:, None], close.shape[1] + 1, axis=1)
    sweep_seconds, sweep = timed(lambda: sweep_band_widths(replay, CAPITAL, grid, track=False), repeat)
    line(
        "trimtab sweep (one parallel kernel call)",
        f"{sweep_seconds * 1000:,.1f} ms",
        "< 250 ms",
        "ok" if sweep_seconds < 0.25 else "MISS",
    )
    best = int(np.argmax(sweep.final_equity))
    line("  best width / final equity", f"{WIDTHS[best]:.1%} / {sweep.final_equity[best]:,.0f}")
    if not args.skip_others:
        subset = [0.01, 0.05, 0.2]
        for tool in ("vectorbt", "bt"):
            other = run_other(tool, "sweep", close, subset, args.timeout)
            if other.seconds is None:
                line(f"{tool}", "n/a", other.note)
                continue
            estimate = other.seconds / len(subset) * WIDTHS.size
            target = 50 if tool == "vectorbt" else 1000
            line(
                f"{tool} (est. from {len(subset)} widths)",
                f"{estimate:,.1f} s",
                f">= {target:,}x slower",
                "ok" if estimate / sweep_seconds >= target else "MISS",
            )
            line(f"  {tool} / trimtab sweep", ratio_text(estimate, sweep_seconds))

    if not args.skip_minute:
        minute_workload(1 if args.quick else 5)

    print("\n[4] costs: 14 assets x 8 years of daily bars, event engine, fees + square-root impact")
    from trimtab.venues.simulation import RealityModels

    n_days = 8 * 365
    daily = synthetic_prices(n_days, 14, 365.0, seed=9)
    daily_times = np.arange(1, n_days + 1, dtype=np.int64) * 86_400 * 1_000_000_000
    volume = np.full_like(daily, 5e8) / daily  # 500 M of quote volume a day
    daily_history = synthetic_history(daily, daily_times, "1d", volume)
    daily_policy = equal_weight_policy(14, BAND, slippage_bps=5.0)
    models = RealityModels.from_costs(daily_policy.costs, impact=1.0)
    cost_seconds, cost_result = timed(
        lambda: run_backtest(daily_policy, daily_history, capital=CAPITAL, models=models), 1
    )
    line("event engine, every cost model on", f"{cost_seconds:,.2f} s", "< 2 s", "ok" if cost_seconds < 2 else "MISS")
    m = cost_result.metrics
    line("  rebalances / fees / slippage", f"{m['rebalances']} / {m['fees']:,.0f} / {m['slippage']:,.0f}")

    if others:
        print("\n[5] results of the three tools on workload 1 (same prices, same 5 % bands, same 0.1 % fee)")
        line("trimtab", f"{result.metrics['final_equity']:,.2f}", f"{result.metrics['rebalances']} rebalances")
        for tool, other in others.items():
            if other.final_equity is not None:
                gap = other.final_equity / result.metrics["final_equity"] - 1.0
                line(tool, f"{other.final_equity:,.2f}", f"{other.rebalances} rebalances", f"{gap:+.3%}")
        print(
            "  conventions: trimtab sizes every order on the equity before the bar's trades and pays 0.1 % of each\n"
            "  fill's value from cash; vectorbt's target-percent orders (group value at the close, sells first, fee\n"
            "  from cash) follow the same convention. bt tests its bands relative to the target (|w - t| / t >\n"
            "  0.05 / 0.09, the same bands here) but sizes each order so that its cost including the commission\n"
            "  equals the amount allocated, so it holds slightly less after every rebalance."
        )


if __name__ == "__main__":
    main()
