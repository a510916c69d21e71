"""The dashboard's reads of a journal: valuation, plans, costs, drift, and the Prometheus text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trimtab.storage import Store, open_store
from trimtab.storage.journal import Journal
from trimtab.storage.state import StateStore
from trimtab.web import queries
from trimtab.web.controls import ActionError, Controls, trading_state
from trimtab.web.metrics import render_metrics
from trimtab.web.sample import seed_sample_journal

NOW = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[Store]:
    opened = open_store("sqlite://")
    seed_sample_journal(opened)
    yield opened
    opened.close()


def test_the_valuation_is_the_last_snapshot_against_its_bands(store: Store) -> None:
    view = queries.valuation_view(store)
    assert view["available"] is True
    assert view["cycle"] == 4
    assert view["equity"] == 102_380.0
    btc = view["classes"][0]
    assert (btc["name"], btc["weight"], btc["target"], btc["lower"], btc["upper"]) == ("BTC", 0.51, 0.5, 0.45, 0.55)
    assert btc["drift"] == pytest.approx(0.01)
    assert btc["net_exposure"] == pytest.approx(0.51 * 102_380.0)
    assert view["breached"] == []
    assert view["leverage"] == {"gross": 1.08, "net": 0.8}
    assert view["margin"] == {"initial": 1500.0, "free_collateral": 18900.0, "ok": True}
    assert view["min_liquidation_distance"] == pytest.approx(0.495)
    assert view["trading"]["mode"] == "trading"


def test_an_empty_journal_says_so() -> None:
    view = queries.valuation_view(open_store("sqlite://"))
    assert view["available"] is False
    assert view["classes"] == []


def test_the_plan_preview_is_the_pending_plan(store: Store) -> None:
    plan = queries.plan_view(store)
    assert (plan["id"], plan["status"], plan["pending_count"]) == ("p-sample-0004", "pending", 1)
    assert plan["trades"][0]["side"] == "buy"


def test_costs_split_fees_slippage_and_funding(store: Store) -> None:
    costs = queries.costs(store)
    # One sell of 0.2 BTC at 40 950 against a reference of 40 960: 2.0 of slippage; fee 8.19; funding 1.25.
    assert costs.fees == pytest.approx(8.19)
    assert costs.slippage == pytest.approx(2.0)
    assert costs.funding == pytest.approx(1.25)
    assert costs.total == pytest.approx(11.44)


def test_a_better_than_reference_buy_is_negative_slippage(store: Store) -> None:
    journal = Journal(store)
    intent = journal.add_intent(
        plan_id="p-sample-0004", leg=0, class_name="BTC", symbol="BTC/USDT", side="buy", amount=1.0,
        reduce_only=False, reference_price=100.0, algo="limit", created_at=NOW,
    )  # fmt: skip
    journal.add_order(
        client_order_id="tt-x", plan_id="p-sample-0004", intent_id=intent.id, venue="paper", symbol="BTC/USDT",
        side="buy", order_type="limit", amount=1.0, price=99.0, reduce_only=False, created_at=NOW,
    )  # fmt: skip
    journal.apply_fill(
        venue="paper", trade_id="f-x", client_order_id="tt-x", amount=1.0, price=99.0, fee=0.0,
        fee_currency="USDT", timestamp=NOW,
    )  # fmt: skip
    assert queries.costs(store).slippage == pytest.approx(2.0 - 1.0)


def test_performance_has_the_curve_and_the_drift_per_class(store: Store) -> None:
    performance = queries.performance(store)
    assert [point["equity"] for point in performance["equity_curve"]] == [100_000.0, 101_200.0, 102_400.0, 102_380.0]
    assert [round(point["drift"], 4) for point in performance["drift"]["BTC"]] == [0.02, 0.05, 0.08, 0.01]
    assert performance["return"] == pytest.approx(0.0238)


def test_actions_change_the_flags_the_loop_reads_and_are_journaled(store: Store) -> None:
    controls = Controls(store, clock=lambda: NOW)
    state = StateStore(store)
    assert controls.pause().mode == "paused"
    assert state.halted() == (True, "paused from the dashboard")  # the run loop's own brake
    assert controls.resume().mode == "trading"
    assert state.halted()[0] is False
    assert controls.kill("drill").to_dict() == {
        "mode": "halted", "paused": False, "halted": True, "reason": "drill", "kill_file": False,
    }  # fmt: skip
    assert controls.pause().mode == "halted"  # a pause does not soften a kill switch
    with pytest.raises(ActionError) as refused:
        controls.resume()
    assert refused.value.status == 409
    assert state.halted() == (True, "drill")
    assert controls.release().mode == "trading"
    assert controls.decide("p-sample-0004", approve=True) == {"id": "p-sample-0004", "status": "approved"}
    with pytest.raises(ActionError) as conflict:
        controls.decide("p-sample-0004", approve=False)
    assert conflict.value.status == 409
    with pytest.raises(ActionError) as missing:
        controls.decide("nope", approve=True)
    assert missing.value.status == 404
    kinds = [d["kind"] for d in queries.decisions_list(store, 5)]
    assert kinds == ["pause", "resume", "halt", "release", "approve"]
    assert queries.decisions_list(store, 1)[0]["payload"] == {"source": "dashboard", "plan": "p-sample-0004"}


def test_a_kill_file_halts_and_cannot_be_resumed_from_the_dashboard(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'j.db'}")
    (tmp_path / "KILL").write_text("", encoding="utf-8")
    view = trading_state(store)
    assert (view.mode, view.kill_file) == ("halted", True)
    with pytest.raises(ActionError):
        Controls(store).resume()


def sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} missing"
    return float(match.group(1))


def test_metrics_in_prometheus_text(store: Store) -> None:
    Controls(store, clock=lambda: NOW).pause()
    text = render_metrics(store)
    assert sample(text, "trimtab_equity") == 102_380.0
    assert sample(text, "trimtab_class_drift", '{class="BTC"}') == pytest.approx(0.01)
    assert sample(text, "trimtab_class_weight", '{class="STABLE"}') == pytest.approx(0.19)
    assert sample(text, "trimtab_orders_total", '{status="filled"}') == 1.0
    assert sample(text, "trimtab_fills_total") == 1.0
    assert sample(text, "trimtab_cycle_seconds") == pytest.approx(0.42)
    assert sample(text, "trimtab_paused") == 1.0
    assert sample(text, "trimtab_halted") == 1.0  # a pause halts the loop's orders too
    assert sample(text, "trimtab_guard_trips_total") == 0.0
    assert "# TYPE trimtab_orders_total counter" in text
    for line in text.splitlines():
        assert line.startswith("#") or re.fullmatch(r'[a-z_]+(\{[a-z_]+="[^"]*"\})? \S+', line), line


def test_guard_trips_and_errors_are_counted(store: Store) -> None:
    journal = Journal(store)
    journal.add_decision(timestamp=NOW, cycle=5, kind="guard", reason="order above the per-order cap")
    journal.add_decision(timestamp=NOW, cycle=5, kind="error", reason="venue timeout")
    text = render_metrics(store)
    assert sample(text, "trimtab_guard_trips_total") == 1.0
    assert sample(text, "trimtab_errors_total") == 1.0


def test_funding_comes_from_the_paper_account_when_the_valuation_lacks_it() -> None:
    store = open_store("sqlite://")
    Journal(store).save_snapshot(timestamp=NOW, cycle=1, equity=1000.0, halted=False, payload={"classes": []})
    StateStore(store).set("paper_account", {"funding_paid": 3.5, "balances": {"USDT": 1000.0}})
    assert queries.costs(store).funding == pytest.approx(3.5)


def test_positions_come_from_the_venues_holdings_when_the_loop_records_those() -> None:
    store = open_store("sqlite://")
    payload = {
        "classes": [],
        "holdings": {
            "spot": {"BTC": 1.0},
            "positions": {"BTC/USDT:USDT": {"amount": -0.25, "entry_price": 60_000.0, "leverage": 3.0}},
        },
    }
    Journal(store).save_snapshot(timestamp=NOW, cycle=1, equity=1000.0, halted=False, payload=payload)
    view = queries.valuation_view(store)
    assert view["positions"] == [
        {
            "symbol": "BTC/USDT:USDT", "amount": -0.25, "mark": None, "entry_price": 60_000.0, "notional": None,
            "leverage": 3.0, "liquidation_price": None, "liquidation_distance": None,
        }
    ]  # fmt: skip
    assert view["min_liquidation_distance"] is None


def test_a_kill_from_the_command_line_after_a_pause_is_not_resumable(store: Store) -> None:
    controls = Controls(store, clock=lambda: NOW)
    controls.pause()
    StateStore(store).set_halted(True, "halted by trimtab kill")  # what 'trimtab kill' writes
    assert trading_state(store).mode == "halted"
    with pytest.raises(ActionError):
        controls.resume()
    StateStore(store).set_halted(False, "")  # 'trimtab resume'
    assert trading_state(store).mode == "trading"


def test_a_spot_buys_commission_in_the_asset_bought_counts_at_its_price(store: Store) -> None:
    before = queries.costs(store).fees
    journal = Journal(store)
    journal.add_order(
        client_order_id="tt-fee", plan_id="p-sample-0005", intent_id=None, venue="binance", symbol="BTC/USDT",
        side="buy", order_type="market", amount=0.5, price=None, reduce_only=False, created_at=NOW,
    )  # fmt: skip
    journal.apply_fill(
        venue="binance", trade_id="f-fee", client_order_id="tt-fee", amount=0.5, price=40_000.0, fee=0.0005,
        fee_currency="BTC", timestamp=NOW,
    )  # fmt: skip
    # Binance charges a spot buy 0.1 % of the BTC bought: 0.0005 BTC, worth 20 USDT at the fill's price
    assert queries.costs(store).fees == pytest.approx(before + 20.0)
