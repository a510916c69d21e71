"""Honest backtests on the bundled data: the window used, the asset that limits it, and compare's common window.

The bundled USDC history runs 2020-06-11 to 2021-10-22 and SOL's from 2020-08-11 (data/market/README.md), while
BTC's starts 2017-08-17 and most others end 2026-02-18. The README's main policy (examples/policy.toml) keeps its
cash in USDT, the base currency, which needs no file, so it runs to 2026; the same policy with USDC added to its
cash class is cut at 2021-10-22.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

from trimtab.testing.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data" / "market"
MAIN = REPO / "examples" / "policy.toml"
FIXED = REPO / "examples" / "backtest" / "fixed-band.toml"


def with_usdc(tmp_path: Path) -> Path:
    """examples/policy.toml with USDC in its cash class."""
    text = MAIN.read_text()
    cash = 'assets = ["USDT"]'
    assert text.count(cash) == 1
    policy = tmp_path / "policy.toml"
    policy.write_text(text.replace(cash, 'assets = ["USDT", "USDC"]'))
    return policy


def trimtab(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "TRIMTAB_CACHE_DIR": str(tmp_path / "cache")}
    done = run_cli(*args, "--data", str(DATA), cwd=REPO, env=env)
    return done.returncode, done.stdout, done.stderr


def test_the_main_example_runs_to_the_end_of_the_bundled_history(tmp_path: Path) -> None:
    status, out, err = trimtab(tmp_path, "backtest", "--policy", str(MAIN), "--format", "json")
    assert status == 0, err
    document = json.loads(out)
    window = document["window"]
    # SOL (2020-08-11 on) sets the start, as for every policy in examples/backtest/; nothing cuts the end.
    assert (window["start"], window["end"], window["bars"]) == ("2020-08-11T00:00:00Z", "2026-02-18T00:00:00Z", 2018)
    assert window["limited_by"] == {"start": "SOL", "end": None}
    assert document["bars"] == 2018
    assert not any("USDC" in warning for warning in document["warnings"])
    # test_main_example_backtest checks the run itself against a reference loop, and the README's quote of it.


def test_a_policy_holding_usdc_says_which_assets_cut_its_window_and_warns(tmp_path: Path) -> None:
    status, out, err = trimtab(tmp_path, "backtest", "--policy", str(with_usdc(tmp_path)), "--format", "json")
    assert status == 0, err
    document = json.loads(out)
    window = document["window"]
    assert (window["start"], window["end"], window["bars"]) == ("2020-08-11T00:00:00Z", "2021-10-22T00:00:00Z", 438)
    assert window["limited_by"] == {"start": "SOL", "end": "USDC"}
    assert (window["possible_start"], window["possible_end"]) == ("2017-08-17T00:00:00Z", "2026-02-18T00:00:00Z")
    # 437 days used out of the 3,107 between 2017-08-17 and 2026-02-18
    assert abs(window["truncation"] - (1 - 437 / 3107)) < 1e-9
    assert len(document["warnings"]) == 1
    assert "USDC's history ends 2021-10-22" in document["warnings"][0]
    assert err.startswith("trimtab: warning: the backtest covers 2020-08-11 to 2021-10-22, 86% less")


def test_the_table_shows_the_window_and_the_report_carries_it(tmp_path: Path) -> None:
    report = tmp_path / "r.html"
    status, out, err = trimtab(tmp_path, "backtest", "--policy", str(with_usdc(tmp_path)), "--report", str(report))
    assert status == 0, err
    text = " ".join(out.split())
    assert "Window: 438 1d bars, limited by: SOL's history starts 2020-08-11; USDC's history ends 2021-10-22." in text
    assert "Warning: the backtest covers 2020-08-11 to 2021-10-22" in text
    html = report.read_text(encoding="utf-8")
    assert "limited by: SOL&#39;s history starts 2020-08-11; USDC&#39;s history ends 2021-10-22" in html


def test_a_window_after_an_assets_history_names_the_asset(tmp_path: Path) -> None:
    status, out, err = trimtab(tmp_path, "backtest", "--policy", str(with_usdc(tmp_path)), "--start", "2022-01-01")
    assert status == 2
    assert out == ""
    assert err == "--start: USDC's 1d history ends 2021-10-22, before --start 2022-01-01\n"


def test_compare_runs_every_policy_on_the_common_window(tmp_path: Path) -> None:
    status, out, err = trimtab(
        tmp_path,
        "compare",
        "--policy",
        str(with_usdc(tmp_path)),
        "--policy",
        str(FIXED),
        "--start",
        "2021-01-01",
        "--format",
        "json",
    )
    assert status == 0, err
    document = json.loads(out)
    assert document["window"] == {"start": "2021-01-01T00:00:00Z", "end": "2021-10-22T00:00:00Z"}
    runs = {run["name"]: run for run in document["runs"]}
    # Both replay the same 295 bars, though fixed-band alone could run to 2026.
    assert {run["window"]["bars"] for run in runs.values()} == {295}
    assert {run["bars"] for run in runs.values()} == {295}
    assert document["own_windows"]["fixed-band"]["end"] == "2026-02-18T00:00:00Z"
    assert document["own_windows"]["policy"]["limited_by"]["end"] == "USDC"


def test_compare_refuses_policies_that_share_no_window(tmp_path: Path) -> None:
    # A folder with BTC, USDC (to 2021-10-22) and "LATE": BTC's own candles from 2022 on, under another name.
    data = tmp_path / "data"
    data.mkdir()
    for name in ("spot_BTC-USDT_1d.csv.gz", "spot_USDC-USDT_1d.csv.gz"):
        shutil.copy(DATA / name, data / name)
    with gzip.open(DATA / "spot_BTC-USDT_1d.csv.gz", "rt") as stream:
        header, *rows = stream.read().splitlines()
    with gzip.open(data / "spot_LATE-USDT_1d.csv.gz", "wt") as stream:
        stream.write("\n".join([header, *(row for row in rows if row[:4] >= "2022")]) + "\n")
    early = tmp_path / "early.toml"
    early.write_text(TWO_CLASSES.format(asset="BTC", cash='"USDT", "USDC"'))
    late = tmp_path / "late.toml"
    late.write_text(TWO_CLASSES.format(asset="LATE", cash='"USDT"'))
    env = {**os.environ, "TRIMTAB_CACHE_DIR": str(tmp_path / "cache")}
    done = run_cli("compare", "--policy", str(early), "--policy", str(late), "--data", str(data), cwd=REPO, env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("--policy: the policies share no window, so they cannot be compared (early: ")
    assert "USDC's history ends 2021-10-22" in done.stderr
    assert "late: " in done.stderr


TWO_CLASSES = """\
base_currency = "USDT"
[[class]]
name = "RISK"
assets = ["{asset}"]
target = 0.5
band = 0.05
[[class]]
name = "STABLE"
assets = [{cash}]
target = 0.5
band = 0.05
cash = true
"""
