"""A soak of many cycles under random faults and kills, the journal's invariants checked after each restart.

Bounded in rounds and in time, on 127.0.0.1 only: the real ccxt client trades against the fake Binance, the
journal is SQLite. Each round moves the account off its targets, scripts a random exchange fault (a create
that times out after the exchange took it, a 5xx on create, a 5xx on the trade list, a dropped answer) and
kills the run at a random point of an order's life (or not at all); the restart must settle everything.
Every few rounds a run loses its lease to another holder while it trades. Runs are the command line called
in this process, so many rounds fit in a minute: a kill abandons the run at its crash point (what is
committed stays, what is not is gone, as after SIGKILL; ``test_crash_ccxt.py`` and
``test_fills_never_lost.py`` kill real processes). After every restart:

* every exchange fill of our orders is journaled once, with the exchange's amount (G3);
* no client order id reached the exchange twice, and every one of ours has a journal row (G1, G2);
* nothing is left open, no final order's fills fall short;
* no order reached the exchange after a run lost its lease.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.testing.fake_exchange import FakeExchange, Fault
from trimtab.testing.fixtures import CANARY_API_KEY
from trimtab.testing.live_run import LiveRunFolder

pytestmark = pytest.mark.slow
ROUNDS = 40
BUDGET_S = 45.0
"""The soak stops starting rounds past this (the whole test stays under about a minute)."""
EXECUTION = """
algo = "market"
poll_interval_s = 0.05
final_wait_s = 2.0
resolve_attempts = 4
resolve_backoff_s = 0.05
lost_after_s = 0.3
twap_threshold = 1e9
lock_lease_s = 2
"""
POINTS = ("after_intent", "after_accept", "fills_read", "after_fill", "between_legs", None, None)
FAULTS: tuple[Fault | None, ...] = (
    Fault("timeout", "POST", "/api/v3/order", accept=True, delay=1.8),
    Fault("http_error", "POST", "/api/v3/order", accept=False, status=502),
    Fault("http_error", "GET", "/api/v3/myTrades", status=502, times=4),
    Fault("drop", "POST", "/api/v3/order", accept=True),
    None,
    None,
)


ARGS = [
    "run", "--venue", "binance", "--policy", "policy.toml", "--execution", "execution.toml",
    "--venue-config", "venue.json", "--state", "sqlite:///journal.db", "--format", "json", "--interval", "0.05",
]  # fmt: skip


class Killed(BaseException):
    """The run died at a crash point (a BaseException: nothing in trimtab catches it)."""


def _die(pid: int, signum: int) -> None:
    raise Killed(signum)


@pytest.fixture
def soak(live: LiveRunFolder, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, FakeExchange]]:
    from trimtab.execution import crash

    live.use_in_process(monkeypatch)
    # A crash point ends the run where it stands instead of killing the test process.
    monkeypatch.setattr(crash, "os", SimpleNamespace(environ=os.environ, getpid=os.getpid, kill=_die))
    with FakeExchange(api_key=CANARY_API_KEY) as fake:
        live.write(execution=EXECUTION, urls=fake.ccxt_urls("binance"))
        yield live.folder, fake


def _run(*extra: str, crash_at: str | None = None) -> str:
    """One ``trimtab run`` in this process: ``ok``, ``killed`` or the error that ended it."""
    from trimtab.cli.main import app
    from trimtab.execution import crash

    crash._seen.clear()
    if crash_at is None:
        os.environ.pop(crash.ENV, None)
    else:
        os.environ[crash.ENV] = crash_at
    try:
        app(args=[*ARGS, *extra], standalone_mode=False)
    except Killed:
        return "killed"
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    finally:
        os.environ.pop(crash.ENV, None)
    return "ok"


def _drift(fake: FakeExchange, rng: random.Random) -> None:
    fake.engine.spot_balances.update(
        {"USDT": rng.uniform(40_000.0, 80_000.0), "BTC": rng.uniform(0.2, 0.7), "ETH": rng.uniform(8.0, 22.0)}
    )


def _ours(fake: FakeExchange) -> list[object]:
    return [o for o in fake.engine.orders if o.client_order_id.startswith("tt-")]


def assert_invariants(folder: Path, fake: FakeExchange) -> None:
    store = open_store(f"sqlite:///{folder / 'journal.db'}")
    journal = Journal(store)
    journaled = {o.client_order_id: o for o in journal.orders()}
    assert len(journaled) == len(journal.orders())  # no client id twice in the journal
    fills = journal.fills()
    assert len({f.trade_id for f in fills}) == len(fills)  # every trade id once
    for order in _ours(fake):
        cid = order.client_order_id  # type: ignore[attr-defined]
        assert fake.orders_with_client_id(cid) == 1, cid  # G1: never sent twice
        assert cid in journaled, cid  # G2: every exchange order of ours is journaled
        trades = {str(t.trade_id) for t in fake.engine.trades if t.order_id == order.order_id}  # type: ignore[attr-defined]
        assert {f.trade_id for f in journal.fills(cid)} == trades, cid  # G3: each exchange fill once
        assert journaled[cid].filled == pytest.approx(order.filled), cid  # type: ignore[attr-defined]
    assert [o.client_order_id for o in journaled.values() if o.is_open] == []
    assert journal.unsettled_orders() == []
    store.close()


def _lose_the_lease_while_trading(fake: FakeExchange, rng: random.Random, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run has its lease taken over after its first cycle, the account off target again: it stops with
    LockLostError, and nothing of its reaches the exchange after."""
    from trimtab.app.supervisor import CycleSupervisor

    cycle = CycleSupervisor.cycle
    sent: list[int] = []

    def then_lose_the_lease(self: CycleSupervisor) -> object:
        if sent:  # the second cycle: another holder took the lease meanwhile
            with self.lease.store.transaction() as session:
                session.execute(sa.text("UPDATE run_leases SET holder = 'intruder', token = token + 1, pid = 1"))
            _drift(fake, rng)  # this cycle would trade
        sent.append(len(_ours(fake)))
        return cycle(self)

    with monkeypatch.context() as patch:
        patch.setattr(CycleSupervisor, "cycle", then_lose_the_lease)
        outcome = _run("--cycles", "3")
    assert outcome.startswith("LockLostError: the run lock was taken over by process 1"), outcome
    assert len(sent) == 2 and len(_ours(fake)) == sent[1]  # no order after the lost lease
    store = open_store("sqlite:///journal.db")
    with store.transaction() as session:  # the intruder goes away, its lease released
        session.execute(sa.text("UPDATE run_leases SET holder = NULL"))
    store.close()


def _settle(fake: FakeExchange) -> None:
    """Restart until nothing is left open (an order hidden or a trade list failing may take a cycle more);
    no restart may send anything twice."""
    for _ in range(3):
        assert _run("--once") == "ok"
        journal = Journal(open_store("sqlite:///journal.db"))
        still_open = [o for o in journal.orders() if o.is_open]
        journal.store.close()
        if not still_open:
            return


def test_a_soak_of_faults_kills_and_lost_leases_keeps_the_journal_exact(
    soak: tuple[Path, FakeExchange], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, fake = soak
    rng = random.Random(1306)
    started = time.monotonic()
    rounds = kills = 0
    while rounds < ROUNDS and time.monotonic() - started < BUDGET_S:
        rounds += 1
        _drift(fake, rng)
        if rounds % 5 == 0:
            _lose_the_lease_while_trading(fake, rng, monkeypatch)
        else:
            fault, point = rng.choice(FAULTS), rng.choice(POINTS)
            if fault is not None:
                fake.add_fault(replace(fault))
            outcome = _run("--once", crash_at=point)
            assert outcome in ("ok", "killed"), outcome
            kills += outcome == "killed"
            fake.faults.clear()
        _settle(fake)  # a restart settles what the round left
        assert_invariants(folder, fake)
    assert rounds >= 10 and kills >= 3 and len(_ours(fake)) > rounds  # it really traded, round after round
