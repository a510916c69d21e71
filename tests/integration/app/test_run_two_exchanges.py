"""``trimtab run`` on one portfolio across two exchanges: spot on Binance, the hedge on Bybit's unified account.

Both fakes run side by side (the Binance fake and the Bybit V5 fake), each reached through the real ccxt
class of its exchange. The policy hedges BTC with Bybit's linear perpetual while the BTC itself sits in the
Binance spot wallet: the run values both accounts as one book, opens the hedge on Bybit (margined by the
unified account's own USDT: no transfer crosses exchanges) and ends inside its bands with every account's
margin ``ok``.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.testing.fake_bybit import FakeBybit
from trimtab.testing.fake_exchange import FakeExchange
from trimtab.testing.fixtures import CANARY_API_KEY
from trimtab.testing.live_run import HEDGE_EXECUTION, HEDGED_BTC, SPOT_ACCOUNT, LiveRunFolder

ACCOUNTS = (
    SPOT_ACCOUNT
    + """
[[account]]
name = "bybit-uta"
exchange = "bybit"
kind = "unified"
margin_mode = "cross"
collateral = {USDT = 1.0}
"""
)
PORTFOLIO = ("--portfolio", "accounts.toml")
BYBIT_KEY, BYBIT_SECRET = "BYBIT-CANARY-KEY-41c2", "BYBIT-CANARY-SECRET-9d0e"


@pytest.fixture
def fakes(live: LiveRunFolder) -> Iterator[tuple[FakeExchange, FakeBybit]]:
    with FakeExchange(api_key=CANARY_API_KEY) as binance, FakeBybit(api_key=BYBIT_KEY) as bybit:
        binance.engine.spot_balances.update({"USDT": 100_000.0, "BTC": 1.0, "ETH": 0.0})
        bybit.engine.wallet.clear()
        bybit.engine.wallet["USDT"] = 20_000.0
        live.keys["bybit"] = (BYBIT_KEY, BYBIT_SECRET)
        by_class = {"binance": binance.ccxt_urls("binance"), "bybit": bybit.ccxt_urls()}
        live.write(HEDGED_BTC, HEDGE_EXECUTION, by_class=by_class, files={"accounts.toml": ACCOUNTS})
        yield binance, bybit


def test_spot_on_binance_and_the_hedge_on_bybit_end_inside_the_bands(
    tmp_path: Path, live: LiveRunFolder, fakes: tuple[FakeExchange, FakeBybit]
) -> None:
    binance, bybit = fakes
    (first,) = live.cycles(*PORTFOLIO, "--once")
    assert first["triggered"] is True and first["orders"], first
    (second,) = live.cycles(*PORTFOLIO, "--once")
    assert second["triggered"] is False and second["orders"] == []
    # the hedge went to Bybit, once, under its orderLinkId; Binance got no derivatives order and no transfer
    hedges = [o for o in bybit.engine.orders if o.market.category == "linear"]
    assert len(hedges) == 1 and hedges[0].side == "Sell" and hedges[0].link_id.startswith("tt-")
    assert [o for o in binance.engine.orders if o.family != "spot"] == [] and binance.engine.transfers == []
    # equity 100,000 + 1 BTC x 60,000 + 20,000 = 180,000; BTC from 33.3 % to 20 %: short (60,000 - 36,000) / 60,000
    short = bybit.engine.positions["BTCUSDT"].size
    assert short == pytest.approx(-(60_000.0 - 0.2 * 180_000.0) / 60_000.0, rel=0.02)
    status = live.trimtab("status", "--state", "sqlite:///journal.db", "--format", "json", timeout=60)
    assert status.returncode == 0, status.stderr[-2000:]
    payload = json.loads(status.stdout)
    for row in payload["classes"]:
        assert abs(row["weight"] - row["target"]) <= 0.02, row
    last = Journal(open_store(f"sqlite:///{tmp_path / 'journal.db'}")).last_snapshot()
    assert last is not None
    margin = last["payload"]["margin"]  # the last cycle's margin report, each account from its own wallet
    accounts = {a["name"]: a for a in margin["accounts"]}
    assert accounts["bybit-uta"]["kind"] == "unified" and accounts["bybit-uta"]["ok"] is True, accounts
    assert all(a["ok"] for a in accounts.values()) and margin["ok"] is True


@pytest.mark.parametrize("point", ["after_intent", "after_accept"])
def test_killed_around_the_bybit_hedge_the_restart_sends_it_once(
    tmp_path: Path, live: LiveRunFolder, fakes: tuple[FakeExchange, FakeBybit], point: str
) -> None:
    binance, bybit = fakes
    crashed = live.run(*PORTFOLIO, "--once", crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-3000:]
    sent = [o for o in bybit.engine.orders if o.market.category == "linear"]
    assert len(sent) == (0 if point == "after_intent" else 1)  # accepted by Bybit, its answer never saved
    for _ in range(2):
        live.cycles(*PORTFOLIO, "--once")
    (hedge,) = [o for o in bybit.engine.orders if o.market.category == "linear"]  # found by orderLinkId, not resent
    journal = Journal(open_store(f"sqlite:///{tmp_path / 'journal.db'}"))
    journaled = {o.client_order_id: o for o in journal.orders()}
    assert journaled[hedge.link_id].filled == pytest.approx(hedge.filled)
    assert [o for o in journaled.values() if o.is_open] == []
    assert bybit.engine.positions["BTCUSDT"].size == pytest.approx(-(60_000.0 - 0.2 * 180_000.0) / 60_000.0, rel=0.02)
    assert [o for o in binance.engine.orders if o.family != "spot"] == []
