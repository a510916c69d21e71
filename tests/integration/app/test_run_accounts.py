"""``trimtab run`` on the portfolio's accounts: one ccxt connection per Binance wallet, one book, transfers.

The fake Binance keeps the spot wallet, the USD-M wallet and the COIN-M wallet apart. A policy hedges BTC
with the USD-M perpetual while the USD-M wallet holds almost nothing: the run values spot and USD-M as one
book, moves the margin from the spot wallet (journaled, through ccxt's ``transfer``), opens the hedge and
ends inside its bands with the account's margin ``ok``. Killed (SIGKILL) after the transfer's intent, after
the exchange accepted it, or between the transfer and the order it funds, the restart sends nothing twice
and reaches the goal once.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from trimtab.storage import open_store
from trimtab.storage.transfers import TransferJournal
from trimtab.testing.fake_exchange import FakeExchange
from trimtab.testing.fixtures import CANARY_API_KEY
from trimtab.testing.live_run import HEDGE_EXECUTION, HEDGED_BTC, SPOT_ACCOUNT, LiveRunFolder

ACCOUNTS = (
    SPOT_ACCOUNT
    + """
[[account]]
name = "binance-usdm"
exchange = "binance"
kind = "derivatives"
margin_mode = "cross"
collateral = {USDT = 1.0}
"""
)
PORTFOLIO = ("--portfolio", "accounts.toml")


@pytest.fixture
def fake(live: LiveRunFolder) -> Iterator[FakeExchange]:
    with FakeExchange(api_key=CANARY_API_KEY) as exchange:
        exchange.engine.futures_wallet["USDT"] = 100.0  # the USD-M wallet cannot margin the hedge by itself
        exchange.engine.spot_balances.update({"USDT": 100_000.0, "BTC": 1.0, "ETH": 0.0})
        by_class = {name: exchange.ccxt_urls(name) for name in ("binance", "binanceusdm")}
        live.write(HEDGED_BTC, HEDGE_EXECUTION, by_class=by_class, files={"accounts.toml": ACCOUNTS})
        yield exchange


def _check_goal_once(tmp_path: Path, fake: FakeExchange) -> None:
    (moved,) = fake.engine.transfers  # one transfer, from the spot wallet to the USD-M wallet
    assert (moved.type, moved.asset) == ("MAIN_UMFUTURE", "USDT") and moved.amount > 0
    hedges = [o for o in fake.engine.orders if o.family == "usdm" and o.client_order_id.startswith("tt-")]
    assert len(hedges) == 1 and hedges[0].side == "SELL"  # the funded order, once
    journal = TransferJournal(open_store(f"sqlite:///{tmp_path / 'journal.db'}"))
    done = [t for t in journal.all() if t.status == "done"]
    assert [t.exchange_transfer_id for t in done] == [str(moved.tran_id)]
    assert {t.status for t in journal.all()} <= {"done", "lost"}
    short = fake.engine.positions["BTCUSDT"].amount
    # equity 100,000 + 1 BTC x 60,000 + 100 = 160,100; BTC goes from 37.5 % to 20 %: about -0.467 BTC
    assert short == pytest.approx(-(60_000.0 - 0.2 * 160_100.0) / 60_000.0, rel=0.02)


def test_a_live_run_funds_the_hedge_from_the_spot_wallet_and_ends_inside_its_bands(
    tmp_path: Path, live: LiveRunFolder, fake: FakeExchange
) -> None:
    (first,) = live.cycles(*PORTFOLIO, "--once")
    assert first["triggered"] is True and first["orders"], first
    (second,) = live.cycles(*PORTFOLIO, "--once")
    assert second["triggered"] is False and second["orders"] == []
    _check_goal_once(tmp_path, fake)
    status = live.trimtab("status", "--state", "sqlite:///journal.db", "--format", "json", timeout=60)
    assert status.returncode == 0, status.stderr[-2000:]
    payload = json.loads(status.stdout)
    for row in payload["classes"]:
        assert abs(row["weight"] - row["target"]) <= 0.02, row


@pytest.mark.parametrize("point", ["transfer_after_intent", "transfer_after_accept", "between_transfer_and_order"])
def test_killed_around_the_transfer_the_restart_sends_nothing_twice(
    tmp_path: Path, live: LiveRunFolder, fake: FakeExchange, point: str
) -> None:
    crashed = live.run(*PORTFOLIO, "--once", crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-3000:]
    assert len(fake.engine.transfers) == (0 if point == "transfer_after_intent" else 1)
    assert [o for o in fake.engine.orders if o.family == "usdm"] == []  # nothing opened before the crash
    for _ in range(2):
        live.cycles(*PORTFOLIO, "--once")
    _check_goal_once(tmp_path, fake)


def test_a_live_portfolio_without_accounts_is_refused_before_anything_is_sent(
    tmp_path: Path, live: LiveRunFolder, fake: FakeExchange
) -> None:
    (tmp_path / "accounts.toml").write_text('base_currency = "USDT"\n')
    refused = live.run(*PORTFOLIO, "--once")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1].startswith("accounts.toml: account: ")
    assert fake.requests == [] and not (tmp_path / "journal.db").exists()


COINM_ACCOUNTS = (
    SPOT_ACCOUNT
    + """
[[account]]
name = "binance-coinm"
exchange = "binance"
kind = "derivatives"
collateral = {BTC = 1.0}
"""
)


def test_a_coin_margined_hedge_is_funded_in_btc_and_sent_in_contracts(
    tmp_path: Path, live: LiveRunFolder, fake: FakeExchange
) -> None:
    fake.engine.spot_balances.update({"USDT": 20_000.0, "BTC": 2.0})
    fake.engine.coinm_wallet["BTC"] = 0.001
    policy = HEDGED_BTC.replace("BTC/USDT:USDT", "BTC/USD:BTC").replace("0.20", "0.30").replace("0.80", "0.70")
    by_class = {name: fake.ccxt_urls(name) for name in ("binance", "binancecoinm")}
    live.write(policy, HEDGE_EXECUTION, by_class=by_class, files={"accounts.toml": COINM_ACCOUNTS})
    (first,) = live.cycles(*PORTFOLIO, "--once")
    assert first["triggered"] is True and first["orders"], first
    (moved,) = fake.engine.transfers
    assert (moved.type, moved.asset) == ("MAIN_CMFUTURE", "BTC")  # coins into the COIN-M wallet
    (hedge,) = [o for o in fake.engine.orders if o.family == "coinm"]
    # equity 20,000 + 2.001 BTC x 60,000 = 140,060; BTC from 85.7 % to 30 %: about 78,000 USD short,
    # sent as whole contracts of 100 USD (never the contract size applied twice)
    expected = (2.001 * 60_000.0 - 0.3 * 140_060.0) / 100.0
    assert hedge.side == "SELL" and hedge.amount == pytest.approx(expected, abs=1.0)
    (second,) = live.cycles(*PORTFOLIO, "--once")
    assert second["triggered"] is False and len(fake.engine.transfers) == 1
