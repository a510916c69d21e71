"""``trimtab run`` against the local fake exchanges, set up as the app-level tests drive it.

A :class:`LiveRunFolder` writes a run's input files into a folder (a policy, fast execution settings, and the
venue configuration that points ccxt's real classes at the fakes, unpaced), gives the environment with each
exchange's canary keys (and a crash point), and runs the command line in a subprocess or prepares this process
to run it in place::

    live = LiveRunFolder(tmp_path)
    live.write(urls=fake.ccxt_urls("binance"))
    (cycle,) = live.cycles("--once")
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from trimtab.testing.fixtures import CANARY_API_KEY, CANARY_SECRET

THREE_CLASSES = """
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
name = "STABLE"
assets = ["USDT"]
target = 0.30
band = 0.03
cash = true
[rebalance]
min_notional = 10.0
"""
"""BTC 40 %, ETH 30 %, USDT 30 % (the cash class), spot only."""

FAST_EXECUTION = """
algo = "market"
poll_interval_s = 0.05
final_wait_s = 3.0
resolve_attempts = 6
resolve_backoff_s = 0.05
lost_after_s = 0.5
"""
"""Market orders, polled every 50 ms; an ambiguous order resolved within about a second."""

HEDGED_BTC = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.20
band = 0.02
hedge = "BTC/USDT:USDT"
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.80
band = 0.02
cash = true
[rebalance]
instrument = "perp"
min_notional = 10.0
hedge_leverage = 2.0
margin_buffer = 0.5
"""
"""BTC 20 % (reached by shorting the USDT-margined perpetual at 2x), USDT 80 % (the cash class)."""

HEDGE_EXECUTION = (
    FAST_EXECUTION
    + """twap_threshold = 10000000.0
max_order_fraction = 1.0
max_cycle_notional_fraction = 2.0
"""
)
""":data:`FAST_EXECUTION` that sends a whole hedge at once: no TWAP, no cap on an order's or a cycle's size."""

SPOT_ACCOUNT = """
base_currency = "USDT"

[[account]]
name = "binance-spot"
exchange = "binance"
kind = "spot"
"""
"""The start of an ``accounts.toml``: the Binance spot wallet; the tests add the accounts that hold the hedge."""

RUN_ARGS = (
    "run", "--venue", "binance", "--policy", "policy.toml", "--execution", "execution.toml",
    "--venue-config", "venue.json", "--state", "sqlite:///journal.db", "--format", "json", "--interval", "0",
)  # fmt: skip
"""``trimtab run`` on the folder's files, one JSON line per cycle, no pause between cycles."""


def venue_config(urls: Mapping[str, Any] | None = None, by_class: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``--venue-config`` for the fakes: their ``urls`` (for every class, or per ccxt class under ``by_class``),
    a short timeout, ccxt's weighted rate limiter off (it would pace a cycle by the exchange's weights) and a
    ``rateLimit`` of 0, so trimtab's own limiter, which then spaces requests by it, does not space them either
    (50 ms a request on Binance, most of a soak's time; the fakes need no pacing, the limiter has its own tests)."""
    config: dict[str, Any] = {"timeout": 1500, "enableRateLimit": False, "rateLimit": 0}
    if urls is not None:
        config["urls"] = dict(urls)
    if by_class is not None:
        config["by_class"] = {name: {"urls": dict(value)} for name, value in by_class.items()}
    return config


def json_lines(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """The JSON lines a run printed (one per cycle)."""
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


@dataclass
class LiveRunFolder:
    """A folder holding one run's files and journal, and the keys of the exchanges it trades on."""

    folder: Path
    keys: dict[str, tuple[str, str]] = field(default_factory=lambda: {"binance": (CANARY_API_KEY, CANARY_SECRET)})
    """Key and secret per exchange id, as ``TRIMTAB_<EXCHANGE>_API_KEY`` and ``_API_SECRET``."""

    def write(
        self,
        policy: str = THREE_CLASSES,
        execution: str = FAST_EXECUTION,
        *,
        urls: Mapping[str, Any] | None = None,
        by_class: Mapping[str, Any] | None = None,
        files: Mapping[str, str] | None = None,
    ) -> None:
        """Write ``policy.toml``, ``execution.toml``, ``venue.json`` and any other ``files`` (name: text)."""
        (self.folder / "policy.toml").write_text(policy)
        (self.folder / "execution.toml").write_text(execution)
        (self.folder / "venue.json").write_text(json.dumps(venue_config(urls, by_class)))
        for name, text in (files or {}).items():
            (self.folder / name).write_text(text)

    def env(self, crash_at: str | None = None) -> dict[str, str]:
        """This process's environment without any ``TRIMTAB_`` setting, plus the keys (and the crash point)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}
        for exchange, (key, secret) in self.keys.items():
            env[f"TRIMTAB_{exchange.upper()}_API_KEY"] = key
            env[f"TRIMTAB_{exchange.upper()}_API_SECRET"] = secret
        if crash_at:
            env["TRIMTAB_CRASH_AT"] = crash_at
        return env

    def trimtab(
        self, *args: str, crash_at: str | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        """``python -m trimtab ARGS`` in the folder, in a process of its own."""
        return subprocess.run(
            [sys.executable, "-m", "trimtab", *args],
            cwd=self.folder,
            env=self.env(crash_at),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def run(self, *extra: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        """``trimtab run`` (:data:`RUN_ARGS`) with ``extra`` arguments."""
        return self.trimtab(*RUN_ARGS, *extra, crash_at=crash_at)

    def cycles(self, *extra: str) -> list[dict[str, Any]]:
        """The cycles of a run that must succeed."""
        done = self.run(*extra)
        assert done.returncode == 0, done.stderr[-3000:]
        return json_lines(done)

    def use_in_process(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make this process run trimtab as :meth:`trimtab` would: in the folder, with only the keys set."""
        monkeypatch.chdir(self.folder)
        for key in [k for k in os.environ if k.startswith("TRIMTAB_")]:
            monkeypatch.delenv(key)
        for key, value in self.env().items():
            if key.startswith("TRIMTAB_"):
                monkeypatch.setenv(key, value)
