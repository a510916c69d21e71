"""A transfer that funds a hedge, killed (SIGKILL) at every step, on Binance and on Bybit.

A process runs the real ccxt clients, the transfer executor and its journal: it resolves what an earlier run
left, tops the derivatives collateral up to its goal by a transfer, then opens the hedge. On Binance the
transfer goes from the spot wallet to the USD-M wallet (``binance`` sends it, ``binanceusdm`` trades); on
Bybit from the funding account to the unified account (``bybit`` does both; the transfer carries the UUID
derived from the journal's id). It is killed after the transfer's intent is committed, after the exchange
accepted the transfer (answer not saved), or between the transfer and the order it funds; the restart sends
nothing twice and reaches the goal once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from trimtab.storage import open_store
from trimtab.storage.transfers import TransferJournal
from trimtab.testing.fake_bybit import FakeBybit
from trimtab.testing.fake_exchange import FakeExchange
from trimtab.testing.fixtures import CANARY_API_KEY, CANARY_SECRET
from trimtab.venues.bybit.rules import transfer_uuid

NEED_USDT = 30_000.0  # what the derivatives collateral lacks of its goal before the hedge opens
DRIVER = """
import json, os
from datetime import UTC, datetime
from trimtab.domain import Side
from trimtab.execution.crash import crash_point
from trimtab.execution.transfers import TransferExecutor, TransferSettings
from trimtab.storage import open_store
from trimtab.storage.transfers import TransferJournal
from trimtab.venues.ccxt import Credentials, build_ccxt_venue
from trimtab.venues.ports import OrderRequest, OrderType, TransferRequest

scene = json.load(open("scenario.json"))
keys = Credentials(os.environ["KEY"], os.environ["SECRET"], source="test")
local = {"timeout": 1500, "enableRateLimit": False, "rateLimit": 0}  # unpaced: the fakes need no spacing
sender = build_ccxt_venue(scene["sender"], keys, config={"urls": scene["urls"][scene["sender"]], **local})
trader = build_ccxt_venue(scene["trader"], keys, config={"urls": scene["urls"][scene["trader"]], **local})
journal = TransferJournal(open_store("sqlite:///journal.db"))
settings = TransferSettings(resolve_attempts=8, resolve_backoff_s=0.05, lost_after_s=0.5)
executor = TransferExecutor(sender, journal, now=lambda: datetime.now(UTC), settings=settings)
executor.resume()
if trader.fetch_order("tt-hedge-1", "BTC/USDT:USDT") is None:  # the goal: the collateral funded, then the hedge
    need = scene["goal"] - trader.fetch_balances().get("USDT", 0.0)
    if need > 1e-6:
        request = TransferRequest(f"tt-fund-{len(journal.all())}", "USDT", round(need, 8), scene["from"], scene["to"])
        executor.execute(request)
    crash_point("between_transfer_and_order")
    trader.create_order(OrderRequest("tt-hedge-1", "BTC/USDT:USDT", Side.SELL, OrderType.MARKET, 0.5))
"""


@dataclass
class Exchange:
    """One exchange's side of the scenario: its fake, the driver's scenario and what to read back."""

    scenario: dict[str, Any]
    moved: Callable[[], list[tuple[str, str, str, float]]]
    """The exchange's transfers: (its id, the account types from and to, the amount of USDT)."""
    source_usdt: Callable[[], float]
    hedges: Callable[[], int]
    short: Callable[[], float]


def _binance(fake: FakeExchange) -> Exchange:
    urls = {name: fake.ccxt_urls(name) for name in ("binance", "binanceusdm")}
    scenario = {"sender": "binance", "trader": "binanceusdm", "from": "spot", "to": "linear", "urls": urls}
    return Exchange(
        {**scenario, "goal": fake.engine.futures_wallet["USDT"] + NEED_USDT},
        lambda: [(str(t.tran_id), *t.type.split("_"), t.amount) for t in fake.engine.transfers],
        lambda: fake.engine.spot_balances["USDT"],
        lambda: fake.orders_with_client_id("tt-hedge-1"),
        lambda: fake.engine.positions["BTCUSDT"].amount,
    )


def _bybit(fake: FakeBybit) -> Exchange:
    fake.engine.funding["USDT"] = 40_000.0  # a deposit in the funding account
    scenario = {
        "sender": "bybit",
        "trader": "bybit",
        "from": "fund",
        "to": "unified",
        "urls": {"bybit": fake.ccxt_urls()},
    }
    return Exchange(
        {**scenario, "goal": fake.engine.wallet["USDT"] + NEED_USDT},
        lambda: [(t.transfer_id, t.from_type, t.to_type, t.amount) for t in fake.engine.transfers],
        lambda: fake.engine.funding["USDT"],
        lambda: sum(1 for o in fake.engine.orders if o.link_id == "tt-hedge-1"),
        lambda: fake.engine.positions["BTCUSDT"].size,
    )


@pytest.fixture(params=["binance", "bybit"])
def exchange(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Exchange]:
    server = FakeExchange(api_key=CANARY_API_KEY) if request.param == "binance" else FakeBybit(api_key=CANARY_API_KEY)
    with server:
        side = _binance(server) if isinstance(server, FakeExchange) else _bybit(server)
        (tmp_path / "scenario.json").write_text(json.dumps(side.scenario))
        yield side


def _run(tmp_path: Path, crash_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB_")}
    env.update({"KEY": CANARY_API_KEY, "SECRET": CANARY_SECRET})
    if crash_at:
        env["TRIMTAB_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-c", DRIVER], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("point", "transfers_before_restart"),
    [("transfer_after_intent", 0), ("transfer_after_accept", 1), ("between_transfer_and_order", 1)],
)
def test_killed_around_a_transfer_the_restart_sends_nothing_twice(
    tmp_path: Path, exchange: Exchange, point: str, transfers_before_restart: int
) -> None:
    source_before = exchange.source_usdt()
    crashed = _run(tmp_path, point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-3000:]
    assert len(exchange.moved()) == transfers_before_restart
    assert exchange.hedges() == 0

    finished = _run(tmp_path, None)
    assert finished.returncode == 0, finished.stderr[-3000:]
    again = _run(tmp_path, None)  # a third start finds the goal reached: it sends nothing at all
    assert again.returncode == 0, again.stderr[-3000:]

    ((moved_id, source, target, amount),) = exchange.moved()  # one transfer, of exactly what was missing
    assert (source, target) in {("MAIN", "UMFUTURE"), ("FUND", "UNIFIED")} and amount == pytest.approx(NEED_USDT)
    assert exchange.source_usdt() == pytest.approx(source_before - NEED_USDT)
    assert exchange.hedges() == 1  # the funded order, once
    assert exchange.short() == pytest.approx(-0.5)
    journal = TransferJournal(open_store(f"sqlite:///{tmp_path / 'journal.db'}"))
    (done,) = [t for t in journal.all() if t.status == "done"]
    assert done.exchange_transfer_id == moved_id  # journaled once, matched to it
    if exchange.scenario["sender"] == "bybit":  # sent under the UUID of the journal's id, found by it
        assert moved_id == transfer_uuid(done.transfer_id)
    assert {t.status for t in journal.all()} <= {"done", "lost"}  # an intent never sent ends lost, not resent
    assert len(journal.all()) == (2 if point == "transfer_after_intent" else 1)
