"""Input edges from the command line: only regular files are read, every finite number is range-checked the
same way in plan, run and backtest, and each refusal is one line with exit 2 (no hang, no traceback)."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from trimtab.testing.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DATA = REPO / "data" / "market"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("policy.toml", "portfolio.toml", "market.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def _one_line(done: object, expected: str) -> None:
    assert done.returncode == 2, done.stderr  # type: ignore[attr-defined]
    assert done.stderr.strip().splitlines() == [expected]  # type: ignore[attr-defined]


PLAN = ("plan", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--market", "market.json")


def test_a_policy_that_is_a_symlink_to_dev_zero_is_refused_at_once(folder: Path) -> None:
    (folder / "policy.toml").unlink()
    (folder / "policy.toml").symlink_to("/dev/zero")
    done = run_cli(*PLAN, cwd=folder, timeout=60)
    _one_line(done, "policy.toml: is not a regular file (a device, FIFO or socket); give a file")


def test_a_fifo_named_policy_toml_is_refused_without_waiting_for_a_writer(folder: Path) -> None:
    (folder / "policy.toml").unlink()
    os.mkfifo(folder / "policy.toml")
    done = run_cli(*PLAN, cwd=folder, timeout=60)
    _one_line(done, "policy.toml: is not a regular file (a device, FIFO or socket); give a file")


def test_a_huge_finite_amount_is_refused_alike_by_plan_and_run(folder: Path) -> None:
    text = (folder / "portfolio.toml").read_text().replace("amount = 0.8", "amount = 1e308")
    (folder / "portfolio.toml").write_text(text)
    expected = "portfolio.toml: spot[0].amount: must be at most 1e+15"
    _one_line(run_cli(*PLAN, cwd=folder), expected)
    run = run_cli(
        "run", "--policy", "policy.toml", "--portfolio", "portfolio.toml", "--market", "market.json",
        "--state", "sqlite:///journal.db", "--once", cwd=folder,
    )  # fmt: skip
    _one_line(run, expected)
    assert not (folder / "journal.db").exists()  # refused before anything was written


def test_a_huge_finite_capital_is_refused_by_backtest(folder: Path) -> None:
    done = run_cli("backtest", "--policy", "policy.toml", "--data", str(DATA), "--capital", "1e308", cwd=folder)
    _one_line(done, "--capital: must be a positive number up to 1e+15")


def test_a_huge_finite_price_in_the_data_is_refused_by_backtest_naming_file_and_line(folder: Path) -> None:
    data = folder / "data"
    shutil.copytree(DATA, data)
    target = data / "spot_BTC-USDT_1d.csv.gz"
    lines = gzip.decompress(target.read_bytes()).decode().splitlines()
    cells = lines[5].split(",")
    cells[4] = "1e308"  # the close of the fifth bar
    lines[5] = ",".join(cells)
    target.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    done = run_cli(
        "backtest", "--policy", "policy.toml", "--data", str(data), cwd=folder,
        env={**os.environ, "XDG_CACHE_HOME": str(folder / "cache")},
    )  # fmt: skip
    _one_line(done, "spot_BTC-USDT_1d.csv.gz: line 6: close must be from 1e-15 to 1e+15, not 1e+308")


def test_a_venue_config_in_toml_is_read_as_toml(folder: Path) -> None:
    (folder / "venue.toml").write_text('timeout = "soon\n')  # a TOML mistake: an unterminated string
    done = run_cli(
        "run", "--venue", "binance", "--policy", "policy.toml", "--venue-config", "venue.toml", "--once",
        "--state", "sqlite:///journal.db", cwd=folder,
        env={**os.environ, "TRIMTAB_BINANCE_API_KEY": "k", "TRIMTAB_BINANCE_API_SECRET": "s"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("venue.toml: is not valid TOML (") and "JSON" not in done.stderr


def test_a_fifo_in_the_data_folder_is_refused_by_backtest_without_waiting_for_a_writer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("spot_BTC-USDT_1d.csv.gz", "spot_ETH-USDT_1d.csv.gz"):
        shutil.copy(DATA / name, data / name)
    os.mkfifo(data / "spot_SOL-USDT_1d.csv.gz")
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'base_currency = "USDT"\n'
        '[[class]]\nname = "BTC"\nassets = ["BTC"]\ntarget = 0.4\nband = 0.05\n'
        '[[class]]\nname = "SOL"\nassets = ["SOL"]\ntarget = 0.3\nband = 0.05\n'
        '[[class]]\nname = "CASH"\nassets = ["USDT"]\ntarget = 0.3\nband = 0.05\ncash = true\n'
    )
    done = run_cli("backtest", "--policy", policy, "--data", data, cwd=tmp_path, timeout=60)
    # The FIFO is never opened: only regular files count as history, so SOL has none.
    _one_line(done, "--data: no price history for SOL: looked for spot_SOL-USDT_1d.csv.gz")
