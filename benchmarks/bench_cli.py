"""The command line as users run it, whole processes: start-up, one backtest, a 191-width sweep.

Three commands run as new processes, interleaved, ``--repeat`` times each after one warm-up round (which
fills the data cache and loads Numba's compiled code into its disk cache):

* ``python -c "import numpy, numba"``: the floor, starting Python with numpy and numba;
* ``trimtab backtest`` of ``benchmarks/data/policy-hourly.toml`` (BTC, ETH, BNB and cash, 5-point bands)
  over the bundled hourly data (72 524 shared bars), JSON output;
* ``trimtab sweep`` of the same policy and data over ``band=0.01:0.20:0.001`` (191 widths).

It prints the median wall time and CPU time (user + system of the child) of each, and the ratios
measured in this run: backtest / floor (target <= 2) and sweep / backtest (target <= 1.3).

Usage::

    .venv/bin/python benchmarks/bench_cli.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "benchmarks" / "data" / "policy-hourly.toml"
DATA = ROOT / "data" / "market"


def commands() -> dict[str, list[str]]:
    python = sys.executable
    common = ["--policy", str(POLICY), "--data", str(DATA), "--timeframe", "1h", "--format", "json"]
    return {
        "python + numpy + numba": [python, "-c", "import numpy, numba"],
        "trimtab backtest": [python, "-m", "trimtab", "backtest", *common],
        "trimtab sweep (191 widths)": [python, "-m", "trimtab", "sweep", *common, "--grid", "band=0.01:0.20:0.001"],
    }


def timed_run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and child CPU seconds (user + system) of one run."""
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed: {process.stderr.read().decode() if process.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each command (after one warm-up)")
    args = parser.parse_args()
    runs = commands()
    with tempfile.TemporaryDirectory() as cache:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["TRIMTAB_CACHE_DIR"] = cache
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH", "")]))
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for round_number in range(args.repeat + 1):
            for name, command in runs.items():
                result = timed_run(command, env)
                if round_number:
                    samples[name].append(result)
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} (wall times wait for a core when it is high)")
    print(f"  {'command':<30} {'wall':>9} {'cpu':>9} {'best wall':>10}")
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name, values in samples.items():
        wall[name] = statistics.median(v[0] for v in values)
        cpu[name] = statistics.median(v[1] for v in values)
        print(f"  {name:<30} {wall[name]:8.3f}s {cpu[name]:8.3f}s {min(v[0] for v in values):9.3f}s")
    floor, backtest, sweep = runs
    for label, slow, fast, target in (
        ("backtest / python + numpy + numba", backtest, floor, 2.0),
        ("sweep (191 widths) / backtest", sweep, backtest, 1.3),
    ):
        ratio_wall, ratio_cpu = wall[slow] / wall[fast], cpu[slow] / cpu[fast]
        verdict = "ok" if ratio_wall <= target else "MISS"
        print(f"  {label:<36} wall {ratio_wall:5.2f}  cpu {ratio_cpu:5.2f}   target <= {target}  {verdict}")


if __name__ == "__main__":
    main()
