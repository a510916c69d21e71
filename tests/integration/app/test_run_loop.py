"""The run loop's guards on the paper venue: kill switch, bad prices, fail closed, liquidation buffer,
funding monitor, approval, dry run, orphan orders, and the single-instance lock."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trimtab.app.killswitch import kill_file
from trimtab.app.lock import InstanceLock, InstanceLockedError
from trimtab.app.loop import RunLoop
from trimtab.app.session_store import load_session_state, save_session_state
from trimtab.domain import DerivativePosition, DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding, parse_symbol
from trimtab.domain.plan import Side
from trimtab.execution.config import ExecutionConfig
from trimtab.loaders.policy import load_policy
from trimtab.policy.config import Policy
from trimtab.storage import Store, open_store
from trimtab.storage.state import StateStore
from trimtab.venues.paper import FixedFeed, PaperVenue
from trimtab.venues.ports import OrderRequest, OrderType
from trimtab.venues.simulation import RealityModels

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PERP = "BTC/USDT:USDT"
POLICY = """
base_currency = "USDT"
[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.50
band = 0.05
hedge = "BTC/USDT:USDT"
[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.20
band = 0.05
[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.30
band = 0.05
cash = true
[rebalance]
instrument = "{instrument}"
min_notional = 10.0
max_leverage = 5.0
margin_buffer = 0.1
[costs]
taker_fee = 0.001
slippage_bps = 5.0
funding_horizon_days = 30
"""
FAST = ExecutionConfig(algo="market", poll_interval_s=0.0, final_wait_s=1.0, resolve_backoff_s=0.0)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=max(seconds, 0.001))


def _market(btc: float = 50_000.0, funding: float = 0.0001) -> MarketSnapshot:
    return MarketSnapshot(
        NOW, {"BTC": btc, "ETH": 2_500.0, "USDT": 1.0}, {PERP: DerivativeQuote(mark=btc, funding_rate=funding)}
    )


def _policy(tmp_path: Path, instrument: str = "spot") -> Policy:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.replace("{instrument}", instrument))
    return load_policy(path)


class Harness:
    def __init__(
        self, tmp_path: Path, portfolio: Portfolio, policy: Policy, config: ExecutionConfig = FAST, **loop_kwargs: Any
    ) -> None:
        self.clock = Clock()
        self.feed = FixedFeed(_market())
        self.store: Store = open_store(f"sqlite:///{tmp_path / 'journal.db'}")
        self.state = StateStore(self.store)
        self.venue = PaperVenue(
            self.feed,
            base_currency="USDT",
            models=RealityModels.from_costs(policy.costs),
            store=self.state,
            initial=portfolio,
            clock=self.clock,
        )
        self.loop = RunLoop(
            self.venue, self.store, policy, config, clock=self.clock, sleep=self.clock.sleep, **loop_kwargs
        )


def _drifted() -> Portfolio:
    # BTC 70 % of 100 000: breached (target 50 % +/- 5 %).
    return Portfolio("USDT", (SpotHolding("BTC", 1.4), SpotHolding("ETH", 6.0), SpotHolding("USDT", 15_000.0)))


def test_a_drifted_portfolio_is_rebalanced_in_one_cycle(tmp_path: Path) -> None:
    h = Harness(tmp_path, _drifted(), _policy(tmp_path))
    result = h.loop.cycle()
    assert result.triggered and result.equity == pytest.approx(100_000.0)
    assert [(o["symbol"], o["side"], o["status"]) for o in result.orders] == [
        ("BTC/USDT", "sell", "filled"),
        ("ETH/USDT", "buy", "filled"),
    ]
    assert h.loop.cycle().orders == []
    weights = {c["name"]: c["weight"] for c in h.loop.journal.last_snapshot()["payload"]["classes"]}  # type: ignore[index]
    assert weights["BTC"] == pytest.approx(0.5, abs=0.002)


def test_the_kill_file_and_the_halt_flag_stop_new_orders_but_not_valuation(tmp_path: Path) -> None:
    h = Harness(tmp_path, _drifted(), _policy(tmp_path))
    kill_file(h.store).write_text("stop")
    halted = h.loop.cycle()
    assert halted.halted and halted.triggered and halted.orders == []
    assert halted.equity == pytest.approx(100_000.0)
    assert "KILL file" in h.loop.journal.decisions(["halt"])[0]["reason"]
    kill_file(h.store).unlink()
    h.state.set_halted(True, "operator")
    assert h.loop.cycle().orders == []
    h.state.set_halted(False)
    assert len(h.loop.cycle().orders) == 2


def test_stale_prices_pause_the_cycle(tmp_path: Path) -> None:
    h = Harness(tmp_path, _drifted(), _policy(tmp_path))
    h.venue.clock = lambda: NOW - timedelta(minutes=30)  # the venue's prices are half an hour old
    result = h.loop.cycle()
    assert result.orders == [] and "stale" in result.paused[0]


def test_a_bad_tick_far_from_the_recent_median_pauses_the_cycle(tmp_path: Path) -> None:
    balanced = Portfolio("USDT", (SpotHolding("BTC", 1.0), SpotHolding("ETH", 8.0), SpotHolding("USDT", 30_000.0)))
    h = Harness(tmp_path, balanced, _policy(tmp_path))
    for _ in range(3):
        assert h.loop.cycle().paused == []
    h.feed.market = _market(btc=6_500.0)  # one venue prints -87 %
    result = h.loop.cycle()
    assert result.orders == [] and "BTC" in result.paused[0] and "median" in result.paused[0]


def test_equity_that_cannot_be_computed_fails_closed(tmp_path: Path) -> None:
    h = Harness(tmp_path, _drifted(), _policy(tmp_path))
    h.feed.market = replace(_market(), prices={"ETH": 2_500.0, "USDT": 1.0})  # BTC has no price
    result = h.loop.cycle()
    assert result.halted and result.orders == [] and result.equity is None
    assert "equity cannot be computed" in h.loop.journal.decisions(["halt"])[0]["reason"]


def test_a_position_near_liquidation_is_cut_reduce_only_and_blocks_new_exposure(tmp_path: Path) -> None:
    short = DerivativePosition(parse_symbol(PERP), -1.0, 50_000.0, 5.0)
    portfolio = Portfolio(
        "USDT", (SpotHolding("BTC", 1.0), SpotHolding("ETH", 8.0), SpotHolding("USDT", 10_000.0)), (short,)
    )
    h = Harness(tmp_path, portfolio, _policy(tmp_path, "perp"))
    # One cross account whose collateral is its 10 000 USDT: 10 000 - (P - 50 000) = 0.005 P puts the short's
    # liquidation at 60 000 / 1.005, near 59 700; at 56 000 it is about 6 % away, inside the 10 % buffer.
    h.feed.market = _market(btc=56_000.0)
    result = h.loop.cycle()
    # The ladder's first step (half) frees 3 000 of loss and leaves 0.5 short: 6 997 + 0.5 x (50 000 - P)
    # = 0.005 x 0.5 x P puts the liquidation near 63 626, 13.6 % away: one step restores the buffer. The
    # exposure the cut adds back goes to spot: 0.5 BTC is sold.
    assert [(o["symbol"], o["side"], o["amount"]) for o in result.orders] == [
        (PERP, "buy", pytest.approx(0.5)),
        ("BTC/USDT", "sell", pytest.approx(0.5)),
    ]
    assert h.loop.journal.orders()[0].reduce_only
    [position] = h.venue.fetch_positions()
    assert position.amount == pytest.approx(-0.5)
    reason = h.loop.journal.decisions(["deleverage"])[0]["reason"]
    assert "6.6% from liquidation" in reason and "liquidation price 59,701.49 -> 63,62" in reason


def test_a_hedge_paying_more_funding_than_a_spot_sale_costs_is_replaced_by_the_sale(tmp_path: Path) -> None:
    # Enough margin for the hedge (3x), so it is the funding, not the margin, that sends the plan to spot.
    (tmp_path / "policy.toml").write_text(
        POLICY.replace("{instrument}", "perp").replace("[rebalance]", "[rebalance]\nhedge_leverage = 3.0")
    )
    h = Harness(tmp_path, _drifted(), load_policy(tmp_path / "policy.toml"))
    h.feed.market = _market(funding=-0.0005)  # shorts pay 0.15 % a day: 4.5 % over the 30-day horizon
    result = h.loop.cycle()
    assert all(not o["symbol"].endswith(":USDT") for o in result.orders)
    assert ("BTC/USDT", "sell") in [(o["symbol"], o["side"]) for o in result.orders]
    assert h.venue.fetch_positions() == []
    assert "spot" in h.loop.journal.decisions(["funding"])[0]["reason"]


def test_approval_pending_then_granted_executes_the_recomputed_plan(tmp_path: Path) -> None:
    answers = iter(["pending"])
    h = Harness(tmp_path, _drifted(), _policy(tmp_path), approver=lambda plan_id, trades: next(answers))
    first = h.loop.cycle()
    assert first.orders == [] and first.plan_id is not None
    assert h.loop.journal.plan(first.plan_id)["status"] == "pending"  # type: ignore[index]
    h.loop.journal.set_plan_status(first.plan_id, "approved")  # what `trimtab serve` does
    second = h.loop.cycle()
    assert len(second.orders) == 2
    assert h.loop.journal.plan(first.plan_id)["status"] == "superseded"  # type: ignore[index]


def test_a_rejected_approval_and_a_dry_run_send_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path, _drifted(), _policy(tmp_path), approver=lambda plan_id, trades: "rejected")
    assert h.loop.cycle().orders == []
    dry = RunLoop(h.venue, h.store, h.loop.policy, FAST, clock=h.clock, sleep=h.clock.sleep, dry_run=True)
    result = dry.cycle()
    assert result.orders == [] and dry.journal.plan(result.plan_id or "")["status"] == "dry-run"  # type: ignore[index]
    assert h.venue.trades == []


def test_an_unknown_order_with_our_prefix_is_journaled_and_cancelled_others_are_left_alone(tmp_path: Path) -> None:
    balanced = Portfolio("USDT", (SpotHolding("BTC", 1.0), SpotHolding("ETH", 8.0), SpotHolding("USDT", 30_000.0)))
    h = Harness(tmp_path, balanced, _policy(tmp_path))
    h.venue.create_order(OrderRequest("tt-lost0000-0-0", "ETH/USDT", Side.BUY, OrderType.LIMIT, 1.0, 2_000.0))
    h.venue.create_order(OrderRequest("manual-1", "ETH/USDT", Side.BUY, OrderType.LIMIT, 1.0, 2_000.0))
    h.loop.cycle()
    adopted = h.loop.journal.order("tt-lost0000-0-0")
    assert adopted is not None and adopted.status == "canceled"
    assert [o.client_order_id for o in h.venue.fetch_open_orders()] == ["manual-1"]
    assert h.loop.journal.order("manual-1") is None


def test_a_second_instance_on_the_same_journal_is_refused(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'journal.db'}")
    with InstanceLock(store), pytest.raises(InstanceLockedError, match="another trimtab run"):
        InstanceLock(open_store(f"sqlite:///{tmp_path / 'journal.db'}")).acquire()
    with InstanceLock(store):  # released on exit: a restart takes it again
        pass


def test_fills_beyond_an_order_halt_the_loop_until_a_person_resumes(tmp_path: Path) -> None:
    from trimtab.venues.ports import Fill

    h = Harness(tmp_path, _drifted(), _policy(tmp_path))
    h.loop.cycle()
    first = h.loop.journal.orders()[0]
    h.loop.journal.update_order(first.client_order_id, NOW, status="open")  # the loop will look at it again
    real = h.venue.fetch_fills

    def doubled(symbol: str, since: datetime | None = None) -> list[Fill]:
        fills = real(symbol, since)
        return fills + [replace(f, trade_id=f.trade_id + "-again") for f in fills]

    h.venue.fetch_fills = doubled  # type: ignore[method-assign]
    result = h.loop.cycle()
    assert result.halted and result.orders == []
    halted, reason = h.state.halted()
    assert halted and reason.startswith("needs a human")


def test_an_approval_lapses_once_the_market_needs_no_trade(tmp_path: Path) -> None:
    h = Harness(tmp_path, _drifted(), _policy(tmp_path), approver=lambda plan_id, trades: "pending")
    first = h.loop.cycle()
    assert first.plan_id is not None
    # Someone rebalances by hand meanwhile: nothing is left to do.
    h.venue.create_order(OrderRequest("manual-1", "BTC/USDT", Side.SELL, OrderType.MARKET, 0.4))
    h.venue.create_order(OrderRequest("manual-2", "ETH/USDT", Side.BUY, OrderType.MARKET, 2.0))
    quiet = h.loop.cycle()
    assert quiet.triggered is False
    assert h.loop.journal.plan(first.plan_id)["status"] == "lapsed"  # type: ignore[index]


@pytest.mark.parametrize(("ratchet", "expected"), [(False, 100_000.0), (True, 120_000.0)])
def test_cppi_remembers_its_starting_equity_or_its_peak(tmp_path: Path, ratchet: bool, expected: float) -> None:
    text = POLICY.replace("{instrument}", "spot") + (
        f'[strategy]\nkind = "cppi"\nmultiplier = 2.0\nfloor = 0.8\nratchet = {str(ratchet).lower()}\n'
    )
    (tmp_path / "cppi.toml").write_text(text)
    h = Harness(tmp_path, _drifted(), load_policy(tmp_path / "cppi.toml"))
    h.loop.cycle()  # equity 100 000
    stored = load_session_state(h.state)
    assert stored.initial_equity == pytest.approx(100_000.0)
    # As if a later cycle had seen 120 000: a restarted loop reads the session's state from the journal.
    save_session_state(h.state, dataclasses.replace(stored, peak_equity=120_000.0))
    h.loop.session.state = load_session_state(h.state)
    assert h.loop.session.context().peak_equity == pytest.approx(expected)


def test_a_journal_from_before_the_holding_records_keeps_its_hedges_age_on_the_next_cycle(tmp_path: Path) -> None:
    # On target (BTC 1.2 x 50 000 less the 10 000 short: 50 % of 100 000; ETH 20 %; the cash class the 30 % left),
    # so the cycle keeps the short.
    short = DerivativePosition(parse_symbol(PERP), -0.2, 50_000.0, 5.0)
    portfolio = Portfolio(
        "USDT", (SpotHolding("BTC", 1.2), SpotHolding("ETH", 8.0), SpotHolding("USDT", 20_000.0)), (short,)
    )
    h = Harness(tmp_path, portfolio, _policy(tmp_path))
    # The session document an earlier version stored: the short opened 30 days ago, and a plain mean of the
    # closed hedges over every symbol, without their sizes.
    opened = NOW - timedelta(days=30)
    h.state.set("session", {"hedges": {PERP: opened.isoformat()}, "closed_hedge_days": 500.0, "closed_hedges": 2})
    assert h.loop.cycle().orders == []
    document = h.state.get("session")
    assert "closed_hedges" not in document and set(document["holds"]) == {PERP}
    stored = load_session_state(h.state)
    assert stored.hedges == {PERP: opened}
    # 0.2 x 50 000 = 10 000 of entry notional, taken as held since it was opened: 30 days so far, 40 ten days on.
    assert stored.holds[PERP].opened == pytest.approx(10_000.0)
    assert stored.measured_hold_days(NOW + timedelta(days=10)) == {PERP: pytest.approx(40.0)}


def test_each_snapshot_journals_leverage_and_the_liquidation_distance_of_every_position(tmp_path: Path) -> None:
    short = DerivativePosition(parse_symbol(PERP), -0.2, 50_000.0, 5.0)
    portfolio = Portfolio(
        "USDT", (SpotHolding("BTC", 1.0), SpotHolding("ETH", 8.0), SpotHolding("USDT", 30_000.0)), (short,)
    )
    h = Harness(tmp_path, portfolio, _policy(tmp_path))
    h.loop.cycle()
    payload = h.loop.journal.snapshots()[0]["payload"]  # the valuation before the cycle traded
    [position] = payload["positions"]
    # The paper book is one cross account whose collateral is its 30 000 USDT (the BTC and ETH are not
    # collateral): 30 000 - 0.2 x (P - 50 000) = 0.2 x P x 0.5 %  ->  P = 40 000 / 0.201.
    liquidation = 40_000.0 / 0.201
    assert position["symbol"] == PERP and position["amount"] == pytest.approx(-0.2)
    assert position["liquidation_price"] == pytest.approx(liquidation)
    assert position["liquidation_distance"] == pytest.approx((liquidation - 50_000.0) / 50_000.0)
    assert payload["min_liquidation_distance"] == pytest.approx(position["liquidation_distance"])
    # Gross: 50 000 of BTC + 20 000 of ETH + the 10 000 short, over 100 000 of equity.
    assert payload["gross_leverage"] == pytest.approx(0.8)
