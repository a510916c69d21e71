"""A crash against a real exchange client: ccxt talking to the fake Binance on 127.0.0.1.

The run is killed (SIGKILL) after an order's intent was committed, after the exchange accepted an order and
before the answer was saved, or between the legs of a plan, each from several starting accounts; the restart
finds what was sent by its client id, applies its fills, and finishes the plan without sending anything twice.
Also: an order the exchange does not show for a while is looked up, never resent.
"""

from __future__ import annotations

import json
import random
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.testing.fake_exchange import FakeExchange, Fault
from trimtab.testing.fixtures import CANARY_API_KEY
from trimtab.testing.live_run import RUN_ARGS, LiveRunFolder


@pytest.fixture
def fake(live: LiveRunFolder) -> Iterator[FakeExchange]:
    with FakeExchange(api_key=CANARY_API_KEY) as exchange:
        live.write(urls=exchange.ccxt_urls("binance"))
        yield exchange


def _restart(
    live: LiveRunFolder, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    from trimtab.cli.main import app

    live.use_in_process(monkeypatch)
    capsys.readouterr()
    app(args=[*RUN_ARGS, "--cycles", "2"], standalone_mode=False)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _check(tmp_path: Path, fake: FakeExchange) -> None:
    journal = Journal(open_store(f"sqlite:///{tmp_path / 'journal.db'}"))
    ours = [o for o in fake.engine.orders if o.client_order_id.startswith("tt-")]
    journaled = {o.client_order_id: o for o in journal.orders()}
    for order in ours:
        assert fake.orders_with_client_id(order.client_order_id) == 1  # G1
        assert order.client_order_id in journaled  # G2
        assert journaled[order.client_order_id].filled == pytest.approx(order.filled)  # G3
        trade_ids = {str(t.trade_id) for t in fake.engine.trades if t.order_id == order.order_id}
        assert {f.trade_id for f in journal.fills(order.client_order_id)} == trade_ids
    assert [o for o in journaled.values() if o.is_open] == []
    first = journal.plans()[0]["payload"]["trades"]
    for trade in first:  # each symbol traded once, not twice
        side = trade["side"].upper()
        traded = sum(o.filled for o in ours if o.symbol == trade["symbol"].replace("/", "") and o.side == side)
        assert traded == pytest.approx(trade["amount"], rel=0.02)
    last = journal.last_snapshot()
    assert last is not None
    for c in last["payload"]["classes"]:
        assert abs(c["weight"] - c["target"]) <= 0.005, c


@pytest.mark.parametrize(
    ("point", "seed"), [("after_intent", 1), ("after_accept", 1), ("after_accept", 2), ("between_legs", 3)]
)
def test_killed_mid_plan_the_restart_finds_what_was_sent_and_finishes_once(
    tmp_path: Path,
    live: LiveRunFolder,
    fake: FakeExchange,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    point: str,
    seed: int,
) -> None:
    rng = random.Random(seed)
    # A drifted account: BTC well under its 40 % (a buy), ETH anywhere around its 30 % (a buy or a sell).
    fake.engine.spot_balances.update(
        {"USDT": rng.uniform(80_000.0, 120_000.0), "BTC": rng.uniform(0.3, 0.6), "ETH": rng.uniform(8.0, 22.0)}
    )
    crashed = live.run("--once", crash_at=point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-3000:]
    sent = [o for o in fake.engine.orders if o.client_order_id.startswith("tt-")]
    # after_intent: journaled, never sent; after_accept and between_legs: the first leg reached the exchange.
    assert len(sent) == (0 if point == "after_intent" else 1)
    lines = _restart(live, capsys, monkeypatch)
    assert lines[-1]["orders"] == [] and lines[-1]["triggered"] is False
    _check(tmp_path, fake)
    for stored in tmp_path.glob("journal.db*"):  # the database and its write-ahead log
        assert CANARY_API_KEY.encode() not in stored.read_bytes()


def test_an_order_invisible_for_a_while_is_looked_up_not_resent(
    tmp_path: Path,
    live: LiveRunFolder,
    fake: FakeExchange,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake.engine.invisible_for = 0.3  # new orders do not show in queries for 0.3 s
    # The first create is accepted, but its answer comes after the client gave up.
    fake.add_fault(Fault("timeout", "POST", "/api/v3/order", accept=True, delay=1.8))
    lines = _restart(live, capsys, monkeypatch)
    assert lines[0]["orders"], lines
    _check(tmp_path, fake)
    ours = [o for o in fake.engine.orders if o.client_order_id.startswith("tt-")]
    assert fake.count("POST", "/api/v3/order") == len(ours)  # one create per order: nothing resent
    journal = Journal(open_store(f"sqlite:///{tmp_path / 'journal.db'}"))
    first = journal.order(ours[0].client_order_id)
    assert first is not None and first.status == "filled" and first.last_error  # it went through the lookup


def test_a_5xx_on_create_is_looked_up_then_declared_lost_and_the_next_cycle_replans(
    tmp_path: Path,
    live: LiveRunFolder,
    fake: FakeExchange,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The exchange answers 502 without taking the order: "maybe placed" until lookups over time say otherwise.
    fake.add_fault(Fault("http_error", "POST", "/api/v3/order", accept=False, status=502))
    lines = _restart(live, capsys, monkeypatch)
    journal = Journal(open_store(f"sqlite:///{tmp_path / 'journal.db'}"))
    orders = journal.orders()
    lost = [o for o in orders if o.status == "lost"]
    assert len(lost) == 1 and lost[0].misses >= 3
    assert fake.orders_with_client_id(lost[0].client_order_id) == 0
    assert fake.count("POST", "/api/v3/order") == len(orders)  # every id sent once: never resent
    assert lines[0]["triggered"] is True and lines[1]["orders"]  # the second cycle traded what was missing
    _check(tmp_path, fake)
    assert CANARY_API_KEY not in capsys.readouterr().err
