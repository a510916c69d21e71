"""A fast-path ``trimtab backtest`` loads what the kernel's run needs and nothing of the event engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json, sys
from trimtab.cli.main import main
try:
    main(["backtest", "--policy", sys.argv[1], "--data", sys.argv[2], "--timeframe", "1h", "--format", "json",
          "--start", "2024-01-01", "--end", "2024-02-01"])
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps(sorted(sys.modules)))
"""

NOT_NEEDED = [
    "trimtab.backtest.event_run",  # the event engine
    "trimtab.session",
    "trimtab.domain.plan",  # plans and quotes: the planner's, not the kernel's
    "trimtab.domain.market",
    "trimtab.venues.simulation.account",
    "numba.np.arrayobj",  # the kernel allocates nothing: its cached code needs none of Numba's array constructors
    "rich",  # tables and progress bars: text output only
    "pandas",
    "pyarrow",
]


def test_a_fast_path_backtest_imports_no_engine_plan_or_table_module(tmp_path: Path) -> None:
    env = {**os.environ, "TRIMTAB_CACHE_DIR": str(tmp_path)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    policy = ROOT / "benchmarks" / "data" / "policy-hourly.toml"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(policy), str(ROOT / "data" / "market")],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    document, _, modules = done.stdout.strip().rpartition("\n")
    assert json.loads(document)["used_fast_path"] is True
    loaded = set(json.loads(modules))
    assert [name for name in NOT_NEEDED if name in loaded] == []
