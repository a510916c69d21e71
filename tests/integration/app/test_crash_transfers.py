"""A transfer that funds a hedge, killed (SIGKILL) at every step, against the fake Binance's separate wallets.

A process runs the real ccxt clients (``binance`` for the transfer, ``binanceusdm`` for the hedge), the
transfer executor and its journal: it resolves what an earlier run left, tops the USD-M wallet up to its
goal from the spot wallet, then opens the hedge. It is killed after the transfer's intent is committed,
after the exchange accepted the transfer (answer not saved), or between the transfer and the order it
funds; the restart sends nothing twice and reaches the goal once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trimtab.storage import open_store
from trimtab.storage.transfers import TransferJournal
from trimtab.testing.fake_exchange import FakeExchange
from trimtab.testing.fixtures import CANARY_API_KEY, CANARY_SECRET

GOAL_USDT = 80_000.0  # the USD-M wallet before the hedge opens (it holds 50,000 at the start)
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

urls = json.load(open("urls.json"))
keys = Credentials(os.environ["KEY"], os.environ["SECRET"], source="test")
local = {"timeout": 1500, "enableRateLimit": False}
spot = build_ccxt_venue("binance", keys, config={"urls": urls["binance"], **local})
usdm = build_ccxt_venue("binanceusdm", keys, config={"urls": urls["binanceusdm"], **local})
journal = TransferJournal(open_store("sqlite:///journal.db"))
settings = TransferSettings(resolve_attempts=8, resolve_backoff_s=0.05, lost_after_s=0.5)
executor = TransferExecutor(spot, journal, now=lambda: datetime.now(UTC), settings=settings)
executor.resume()
if usdm.fetch_order("tt-hedge-1", "BTC/USDT:USDT") is None:  # the goal: the wallet funded, then the hedge
    need = GOAL - usdm.fetch_balances().get("USDT", 0.0)
    if need > 1e-6:
        executor.execute(TransferRequest(f"tt-fund-{len(journal.all())}", "USDT", round(need, 8), "spot", "linear"))
    crash_point("between_transfer_and_order")
    usdm.create_order(OrderRequest("tt-hedge-1", "BTC/USDT:USDT", Side.SELL, OrderType.MARKET, 0.5))
""".replace("GOAL", repr(GOAL_USDT))


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeExchange]:
    with FakeExchange(api_key=CANARY_API_KEY) as exchange:
        urls = {name: exchange.ccxt_urls(name) for name in ("binance", "binanceusdm")}
        (tmp_path / "urls.json").write_text(json.dumps(urls))
        yield exchange


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
    tmp_path: Path, fake: FakeExchange, point: str, transfers_before_restart: int
) -> None:
    spot_before = fake.engine.spot_balances["USDT"]
    crashed = _run(tmp_path, point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-3000:]
    assert len(fake.engine.transfers) == transfers_before_restart
    assert [o for o in fake.engine.orders if o.client_order_id == "tt-hedge-1"] == []

    finished = _run(tmp_path, None)
    assert finished.returncode == 0, finished.stderr[-3000:]
    again = _run(tmp_path, None)  # a third start finds the goal reached: it sends nothing at all
    assert again.returncode == 0, again.stderr[-3000:]

    (moved,) = fake.engine.transfers  # one transfer at the exchange, of exactly what was missing
    assert (moved.type, moved.asset, moved.amount) == ("MAIN_UMFUTURE", "USDT", pytest.approx(30_000.0))
    assert fake.engine.spot_balances["USDT"] == pytest.approx(spot_before - 30_000.0)
    assert fake.orders_with_client_id("tt-hedge-1") == 1  # the funded order, once
    assert fake.engine.positions["BTCUSDT"].amount == pytest.approx(-0.5)
    journal = TransferJournal(open_store(f"sqlite:///{tmp_path / 'journal.db'}"))
    done = [t for t in journal.all() if t.status == "done"]
    assert [t.exchange_transfer_id for t in done] == [str(moved.tran_id)]  # journaled once, matched to it
    assert {t.status for t in journal.all()} <= {"done", "lost"}  # an intent never sent ends lost, not resent
    assert len(journal.all()) == (2 if point == "transfer_after_intent" else 1)
