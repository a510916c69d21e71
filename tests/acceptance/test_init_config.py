"""``trimtab init`` and ``trimtab run --config``: configure once, then run with one file and the environment."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from trimtab.cli.init import STARTER_FILES
from trimtab.testing.cli import run_cli

FAST = {"TRIMTAB__EXECUTION__CHASE_INTERVAL_S": "0.05", "TRIMTAB__EXECUTION__POLL_INTERVAL_S": "0.01"}


def trimtab(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB")}
    return run_cli(*args, cwd=cwd, env={**clean, **(env or {})})


def test_init_writes_a_starter_that_runs_a_paper_cycle_and_status_finds_its_journal(tmp_path: Path) -> None:
    done = trimtab(tmp_path, "init", "bot")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "bot").iterdir()) == sorted(STARTER_FILES)
    # Run from elsewhere: the file's paths are relative to its folder.
    ran = trimtab(tmp_path, "run", "--config", "bot/trimtab.toml", "--once", "--format", "json", env=FAST)
    assert ran.returncode == 0, ran.stderr
    cycle = json.loads(ran.stdout.splitlines()[0])
    assert cycle["triggered"] is True
    assert cycle["equity"] == 100000.0
    # The starter chases limit orders; on a fixed snapshot nothing trades through them, so each leg's limits
    # are cancelled unfilled and its market remainder fills the whole amount.
    legs: dict[str, list[dict[str, object]]] = {}
    for order in cycle["orders"]:
        legs.setdefault(order["client_order_id"].rsplit("-", 1)[0], []).append(order)
    for orders in legs.values():
        assert orders[-1]["status"] == "filled"
        assert sum(o["filled"] for o in orders) == orders[-1]["amount"]
        assert all(o["status"] == "canceled" and o["filled"] == 0.0 for o in orders[:-1])
    # The starter policy trades to the band edge: BTC (46.4 % against 40 +/- 4) is the only class outside its band,
    # so the one leg sells it to 44 % after the sale's 0.15 % of fee and slippage: 2,400 / (1 - 0.44 x 0.0015) =
    # 2,401.585 at 58,000, rounded up to the 0.00001 BTC lot (toward the band's inside), 0.04141 BTC.
    fills = [(orders[-1]["symbol"], orders[-1]["side"], orders[-1]["filled"]) for orders in legs.values()]
    assert fills == [("BTC/USDT", "sell", 0.04141)]
    # status, orders, kill and release default to the same journal as run: trimtab-paper.db here.
    assert (tmp_path / "trimtab-paper.db").exists()
    status = trimtab(tmp_path, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["cycle"] == 1
    orders = trimtab(tmp_path, "orders", "--format", "json")
    assert len(json.loads(orders.stdout)) == len(cycle["orders"])
    assert trimtab(tmp_path, "kill").returncode == 0
    assert json.loads(trimtab(tmp_path, "status", "--format", "json").stdout)["halted"] is True
    assert trimtab(tmp_path, "release").returncode == 0


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text("# mine\n")
    done = trimtab(tmp_path, "init")
    assert done.returncode == 2
    assert done.stderr.strip() == "policy.toml: already exists (nothing was written; --force overwrites)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.toml"]
    assert (tmp_path / "policy.toml").read_text() == "# mine\n"
    assert trimtab(tmp_path, "init", "--force").returncode == 0
    assert (tmp_path / "policy.toml").read_text() != "# mine\n"


def test_environment_overrides_reach_the_run_and_a_flag_wins(tmp_path: Path) -> None:
    assert trimtab(tmp_path, "init").returncode == 0
    env = {**FAST, "TRIMTAB__RUN__STATE": "sqlite:///from-env.db", "TRIMTAB__RUN__DRY_RUN": "true"}
    ran = trimtab(tmp_path, "run", "--config", "trimtab.toml", "--once", "--format", "json", env=env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["orders"] == []  # dry run: planned and recorded, nothing sent
    assert (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "trimtab-paper.db").exists()
    flagged = trimtab(tmp_path, "run", "--config", "trimtab.toml", "--once", "--state", "sqlite:///flag.db", env=env)
    assert flagged.returncode == 0, flagged.stderr
    assert (tmp_path / "flag.db").exists()
    assert trimtab(tmp_path, "status", env=env).returncode == 0  # status follows TRIMTAB__RUN__STATE too


def test_a_bad_configuration_is_one_line_exit_2_and_no_journal(tmp_path: Path) -> None:
    assert trimtab(tmp_path, "init").returncode == 0
    config = tmp_path / "trimtab.toml"
    config.write_text(config.read_text().replace("max_day_orders = 500", "max_day_orders = 0"))
    done = trimtab(tmp_path, "run", "--config", "trimtab.toml", "--once")
    assert done.returncode == 2
    assert done.stderr.strip() == "trimtab.toml: execution.max_day_orders: must be at least 1"
    bad_env = trimtab(tmp_path, "run", "--once", "--policy", "policy.toml", env={"TRIMTAB__RUN__VENUEE": "x"})
    assert bad_env.returncode == 2
    assert bad_env.stderr.strip() == "TRIMTAB__RUN__VENUEE: unknown key (did you mean 'venue'?)"
    missing = trimtab(tmp_path, "run", "--once")
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("--policy: missing")
    assert not any(p.name.endswith(".db") for p in tmp_path.iterdir())
