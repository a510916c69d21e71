"""The rebalancing session: one rule for the state around the planner, and the decisions it records."""

from __future__ import annotations

import math
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trimtab.domain import DerivativePosition, DerivativeQuote, MarketSnapshot, Portfolio, SpotHolding, parse_symbol
from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.lots import LotBook
from trimtab.policy.config import Policy
from trimtab.policy.estimation import PriceWindow
from trimtab.session import GuardSettings, RebalancingSession, SessionState
from trimtab.session.holding import HoldRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
PERP = "BTC/USDT:USDT"


def _policy(trigger: dict[str, Any], **extra: Any) -> Policy:
    return Policy.model_validate(
        {
            "base_currency": "USDT",
            "class": [
                {"name": "BTC", "assets": ["BTC"], "target": 0.5, "band": 0.05, "hedge": PERP},
                {"name": "CASH", "assets": ["USDT"], "target": 0.5, "band": 0.05, "cash": True},
            ],
            "trigger": trigger,
            "costs": {"taker_fee": 0.001, "slippage_bps": 0.0},
            **extra,
        }
    )


def _market(now: datetime, btc: float = 100.0, funding: float = 0.0) -> MarketSnapshot:
    return MarketSnapshot(
        now,
        {"BTC": btc, "USDT": 1.0},
        {PERP: DerivativeQuote(mark=btc, funding_rate=funding, funding_interval_hours=8.0)},
    )


def _perp(amount: float, entry: float = 100.0) -> DerivativePosition:
    return DerivativePosition(parse_symbol(PERP), amount, entry, 2.0)


def _book(btc: float, cash: float, *positions: DerivativePosition) -> Portfolio:
    return Portfolio("USDT", (SpotHolding("BTC", btc), SpotHolding("USDT", cash)), positions)


def test_a_hybrid_inside_any_records_its_check_and_waits_a_period_for_the_next() -> None:
    hybrid_in_any = {"kind": "any", "of": [{"kind": "hybrid", "every": "7d"}, {"kind": "calendar", "every": "30d"}]}
    session = RebalancingSession(_policy(hybrid_in_any), state=SessionState(last_rebalance=T0, last_check=T0))
    drifted = _book(60.0, 4_000.0)  # BTC at 60 % of 10 000: outside 45–55 %
    early = session.decide(drifted, _market(T0 + 3 * DAY))
    assert not early.triggered and not early.checked
    session.close(early, carried_out=True, equity_after=early.plan.equity, held=())
    assert session.state.last_check == T0  # not a check point: nothing moves
    due = session.decide(drifted, _market(T0 + 7 * DAY))
    assert due.triggered and due.checked and due.trades
    session.close(due, carried_out=True, equity_after=due.plan.equity, held=())
    assert session.state.last_check == T0 + 7 * DAY
    assert session.state.last_rebalance == T0 + 7 * DAY
    assert not session.decide(drifted, _market(T0 + 8 * DAY)).triggered


def test_a_quiet_check_point_moves_the_last_check_but_not_the_last_rebalance() -> None:
    session = RebalancingSession(_policy({"kind": "hybrid", "every": "7d"}), state=SessionState(T0, T0))
    balanced = _book(50.0, 5_000.0)
    decision = session.decide(balanced, _market(T0 + 7 * DAY))
    assert decision.checked and not decision.triggered
    state = session.close(decision, carried_out=True, equity_after=10_000.0, held=())
    assert (state.last_check, state.last_rebalance) == (T0 + 7 * DAY, T0)


def test_a_calendar_that_fires_with_nothing_to_trade_counts_and_says_why() -> None:
    # The book is 4 units of BTC off target (400 of 10 000), below the 1 000 minimum order.
    policy = _policy({"kind": "calendar", "every": "7d"}, rebalance={"min_notional": 1_000.0})
    session = RebalancingSession(policy, state=SessionState(last_rebalance=T0, last_check=T0))
    decision = session.decide(_book(54.0, 4_600.0), _market(T0 + 7 * DAY))
    assert decision.triggered and decision.trades == ()
    kinds = [note.kind for note in decision.notes]
    assert kinds == ["trigger", "idle"]
    assert decision.notes[1].reason.startswith("the trigger fired but nothing was traded: ")
    assert "1,000" in decision.notes[1].reason or "1000" in decision.notes[1].reason
    state = session.close(decision, carried_out=True, equity_after=decision.plan.equity, held=())
    assert state.last_rebalance == T0 + 7 * DAY  # one calendar rebalance, not one a cycle until something trades


def test_a_decision_that_was_blocked_leaves_the_times_for_the_next_cycle() -> None:
    session = RebalancingSession(_policy({"kind": "hybrid", "every": "7d"}), state=SessionState(T0, T0))
    decision = session.decide(_book(60.0, 4_000.0), _market(T0 + 7 * DAY))
    assert decision.triggered and decision.trades
    state = session.close(decision, carried_out=False, equity_after=decision.plan.equity, held=())
    assert (state.last_check, state.last_rebalance) == (T0, T0)
    assert session.decide(_book(60.0, 4_000.0), _market(T0 + 7 * DAY + timedelta(hours=1))).triggered


def test_peak_initial_equity_and_hedge_ages_follow_the_cycles() -> None:
    session = RebalancingSession(_policy({"kind": "threshold"}))
    first = session.decide(_book(50.0, 5_000.0), _market(T0))
    session.close(first, carried_out=True, equity_after=10_000.0, held=[_perp(-10.0)])
    second = session.decide(_book(50.0, 5_000.0), _market(T0 + DAY, btc=80.0))
    state = session.close(second, carried_out=True, equity_after=9_000.0, held=[_perp(-10.0)])
    assert state.initial_equity == pytest.approx(10_000.0)
    assert state.peak_equity == pytest.approx(10_000.0)
    assert state.hedge_age_days(PERP, T0 + 3 * DAY) == pytest.approx(3.0)
    assert session.close(second, carried_out=True, equity_after=9_000.0, held=()).hedges == {}


def test_the_state_survives_its_json_form() -> None:
    record = HoldRecord(3_000.0, 12_345.678, T0 + DAY, -10.0, 1_000.0)
    state = SessionState(T0, T0 + DAY, 12_000.0, 10_000.0, {PERP: T0}, holds={PERP: record})
    assert SessionState.from_json(state.to_json()) == state
    assert SessionState.from_json({}) == SessionState()


def test_the_liquidation_guard_runs_in_the_session_and_blocks_new_exposure() -> None:
    # A 10x short entered at 100 in one cross account whose collateral is its 400 USDT (the BTC is not
    # collateral): 400 - 40 (P - 100) = 40 x P x 0.5 % puts the liquidation at 4 400 / 40.2, near 109.45;
    # at 105 it is 4 % away, inside the 10 % buffer.
    short = DerivativePosition(parse_symbol(PERP), -40.0, 100.0, 10.0)
    session = RebalancingSession(_policy({"kind": "threshold"}), GuardSettings(liquidation_buffer=0.10))
    decision = session.decide(_book(90.0, 400.0, short), _market(T0, btc=105.0))
    assert decision.reducing_only
    assert [note.kind for note in decision.notes][:1] == ["deleverage"]
    perp = [t for t in decision.trades if t.symbol == PERP]
    assert perp and all(t.reduce_only for t in perp)


def test_when_margin_cannot_carry_a_hedge_only_the_remainder_goes_to_spot_and_the_plan_says_so() -> None:
    # BTC at 80 % of 10 000 (target 50 %): a perp policy would hedge 3 000 with a 1x short, needing 3 000 of
    # initial margin x (1 + 0.5 buffer) = 4 500 of free collateral; the account has 2 000 of cash.
    # The guard keeps the short N that leaves 0.5 N free: 2 000 - 0.001 N (fee) - N = 0.5 N, N = 2 000 / 1.501
    # = 1 332.445. After it BTC is 8 000 - 1 332.445 = 6 667.555 of 10 000 - 1.332 = 9 998.668 (66.684 %);
    # the remainder to the 50 % goal, (0.66684 - 0.5) x 10 000 = 1 668.44, is sold spot.
    policy = _policy({"kind": "threshold"}, rebalance={"instrument": "perp", "hedge_leverage": 1, "margin_buffer": 0.5})
    session = RebalancingSession(policy)
    decision = session.decide(_book(80.0, 2_000.0), _market(T0))
    assert decision.triggered
    assert [(t.symbol, t.side.value) for t in decision.trades] == [(PERP, "sell"), ("BTC/USDT", "sell")]
    hedge, spot = decision.trades
    assert hedge.notional == pytest.approx(2_000.0 / 1.501, rel=1e-6)
    assert spot.notional == pytest.approx(1_668.44, abs=0.01)
    margin = [n.reason for n in decision.notes if n.kind == "margin"]
    assert margin == [
        "margin cannot carry the whole hedge of BTC: the hedge it carries is kept and only the remainder goes "
        "to spot (selling 16.6844 BTC/USDT (1,668.44 USDT))"
    ]
    assert margin[0] in decision.plan.notes
    assert decision.plan.post_trade["BTC"] == pytest.approx(0.5, abs=1e-3)
    assert decision.plan.costs.fees == pytest.approx(0.001 * (2_000.0 / 1.501 + 1_668.44), abs=0.01)


def test_a_long_hedge_remainder_never_spends_the_collateral_its_margin_needs() -> None:
    # BTC at 20 % of 10 000 (2 000), target 50 %: a 3 000 long at 1x with margin_buffer 5 needs 6 x 3 000 free.
    # The guard keeps N with 8 000 - 0.001 N - N = 5 N (N = 1 333.11), which leaves no collateral beyond the
    # buffer: buying the 1 666 remainder with that cash would break the limit. So the whole rebalance goes to
    # spot: 3 000 of BTC bought (29.97 coins after the 0.1 % fee on a 3 000 / 1.001 order).
    policy = _policy({"kind": "threshold"}, rebalance={"instrument": "perp", "hedge_leverage": 1, "margin_buffer": 5})
    decision = RebalancingSession(policy).decide(_book(20.0, 8_000.0), _market(T0))
    assert [(t.symbol, t.side.value) for t in decision.trades] == [("BTC/USDT", "buy")]
    assert decision.trades[0].notional == pytest.approx(3_000.0, rel=0.002)
    (margin,) = [n.reason for n in decision.notes if n.kind == "margin"]
    assert margin.endswith("rebalanced with spot instead")


def test_a_hedge_the_margin_carries_stays_a_hedge() -> None:
    policy = _policy({"kind": "threshold"}, rebalance={"instrument": "perp", "hedge_leverage": 2, "margin_buffer": 0.1})
    decision = RebalancingSession(policy).decide(_book(80.0, 2_000.0), _market(T0))
    assert [t.symbol for t in decision.trades] == [PERP]
    assert not [n for n in decision.notes if n.kind == "margin"]


def _cycle(state: SessionState, now: datetime, *held: DerivativePosition) -> SessionState:
    return state.advanced(now, checked=False, rebalanced=False, equity_before=1.0, equity_after=1.0, held=held)


def test_closed_hedges_count_their_whole_life_and_large_hedges_weigh_more() -> None:
    # 10 short at 100 (1 000 of notional) for 40 days, then 1 000 short at 90 (90 000) for 2 days:
    # by notional (1 000 x 40 + 90 000 x 2) / 91 000 = 220 000 / 91 000 = 2.418 days, where a plain mean says 21.
    opened = _cycle(SessionState(), T0, _perp(-10.0))
    assert opened.measured_hold_days(T0 + 10 * DAY) == {PERP: pytest.approx(10.0)}
    closed = _cycle(opened, T0 + 40 * DAY)
    assert closed.hedges == {} and closed.measured_hold_days(T0 + 99 * DAY) == {PERP: pytest.approx(40.0)}
    reopened = _cycle(closed, T0 + 50 * DAY, _perp(-1_000.0, 90.0))
    assert reopened.hedges == {PERP: T0 + 50 * DAY}
    assert reopened.measured_hold_days(T0 + 52 * DAY) == {PERP: pytest.approx(220_000.0 / 91_000.0)}
    assert SessionState.from_json(reopened.to_json()) == reopened


def test_each_hedged_symbol_has_its_own_measured_hold() -> None:
    eth = DerivativePosition(parse_symbol("ETH/USDT:USDT"), -2.0, 2_000.0, 2.0)
    state = _cycle(_cycle(SessionState(), T0, _perp(-10.0), eth), T0 + 30 * DAY, eth)
    assert state.measured_hold_days(T0 + 183 * DAY) == {
        PERP: pytest.approx(30.0),
        "ETH/USDT:USDT": pytest.approx(183.0),
    }


def test_a_hedge_halved_then_closed_is_held_the_mean_of_its_halves() -> None:
    # 20 short at 100 (2 000) for 10 days, halved (1 000 left), closed 30 days after opening:
    # (2 000 x 10 + 1 000 x 20) / 2 000 = 20 days = (10 + 30) / 2.
    state = _cycle(SessionState(), T0, _perp(-20.0))
    state = _cycle(state, T0 + 10 * DAY, _perp(-10.0))
    assert state.hedges == {PERP: T0}  # reduced, not closed: the hedge's age goes on
    state = _cycle(state, T0 + 30 * DAY)
    assert state.measured_hold_days(T0 + 400 * DAY) == {PERP: pytest.approx(20.0)}


def test_a_hedge_turned_to_the_other_side_is_a_new_hedge() -> None:
    # 10 short at 100 for 10 days, then 5 long at 120 (600) for 5 days: (1 000 x 10 + 600 x 5) / 1 600 = 8.125.
    state = _cycle(SessionState(), T0, _perp(-10.0))
    state = _cycle(state, T0 + 10 * DAY, _perp(5.0, 120.0))
    assert state.hedges == {PERP: T0 + 10 * DAY}
    assert state.measured_hold_days(T0 + 15 * DAY) == {PERP: pytest.approx(13_000.0 / 1_600.0)}


def test_a_state_from_before_the_holding_records_keeps_its_open_hedges_age() -> None:
    # The earlier document: a plain mean over every symbol (closed_hedge_days / closed_hedges), no sizes.
    old = {"hedges": {PERP: T0.isoformat()}, "closed_hedge_days": 300.0, "closed_hedges": 2, "flows_seen": 4}
    state = SessionState.from_json(old)
    assert (state.hedges, state.holds, state.flows_seen) == ({PERP: T0}, {}, 4)
    assert state.measured_hold_days(T0 + 20 * DAY) == {}  # the plain total says neither class nor size
    # Next seen at 20 days, 10 short: taken as held since it was opened; reduced to 5 at 30 days:
    # at 40 days (1 000 x 30 + 500 x 10) / 1 000 = 35 days.
    state = _cycle(state, T0 + 20 * DAY, _perp(-10.0))
    assert state.hedges == {PERP: T0}
    state = _cycle(state, T0 + 30 * DAY, _perp(-5.0))
    assert state.measured_hold_days(T0 + 40 * DAY) == {PERP: pytest.approx(35.0)}


def _receiving() -> MarketSnapshot:
    return MarketSnapshot(T0, {"BTC": 100.0, "USDT": 1.0}, {PERP: DerivativeQuote(mark=100.0, funding_rate=0.0001 / 3)})


# BTC at 60 % of 10 000 (target 50 %): 1 000 to shed. Spot: 0.1 % x 1 000 = 1.00. A short hedge: 2.00 to open and
# close, and shorts receive 0.01 % a day: -0.70 over 7 days (hedge 1.30: spot wins), -12.00 over 120 days (hedge
# -10.00: the hedge wins). The session below has measured a 120-day hold on the BTC perpetual: 1 000 of notional held
# 200 days and 3 000 held 93.33 days, (200 000 + 280 000) / 4 000 = 120 (a plain mean of the two would say 146.7).
HELD_LONG = SessionState(holds={PERP: HoldRecord(4_000.0, 480_000.0, T0 - DAY)})


def test_an_auto_horizon_prices_a_hedges_funding_over_the_measured_holding_time() -> None:
    policy = _policy(
        {"kind": "threshold"},
        rebalance={"instrument": "auto", "hedge_leverage": 2},
        costs={"taker_fee": 0.001, "slippage_bps": 0.0, "funding_horizon_days": "auto"},
    )
    fresh = RebalancingSession(policy).decide(_book(60.0, 4_000.0), _receiving())
    held_long = RebalancingSession(policy, state=HELD_LONG)
    decision = held_long.decide(_book(60.0, 4_000.0), _receiving())
    assert [t.symbol for t in fresh.trades] == ["BTC/USDT"]  # nothing measured, no volatility: the 7-day fallback
    assert any("over 7 days" in note for note in fresh.plan.notes)
    assert any("funding horizon of BTC: 7 days, no volatility for BTC" in note for note in fresh.plan.notes)
    assert [t.symbol for t in decision.trades] == [PERP]
    assert any("over 120 days" in note for note in decision.plan.notes)
    assert (
        "funding horizon of BTC: 120 days, the session's measured holding time of its hedges on BTC/USDT:USDT, "
        "weighted by notional (120.0 days)"
    ) in decision.plan.notes
    # ETH's hedges held half a year say nothing about BTC's: the 7-day fallback again
    other = RebalancingSession(policy, state=SessionState(holds={"ETH/USDT:USDT": HoldRecord(1.0, 183.0, T0)}))
    assert [t.symbol for t in other.decide(_book(60.0, 4_000.0), _receiving()).trades] == ["BTC/USDT"]


def test_a_numeric_horizon_is_used_as_is_even_when_the_session_measured_a_longer_hold() -> None:
    policy = _policy({"kind": "threshold"}, rebalance={"instrument": "auto", "hedge_leverage": 2})  # 7 days
    held_long = RebalancingSession(policy, state=HELD_LONG)
    decision = held_long.decide(_book(60.0, 4_000.0), _receiving())
    assert [t.symbol for t in decision.trades] == ["BTC/USDT"]
    assert any("over 7 days" in note for note in decision.plan.notes)
    assert not any("over 120 days" in note for note in decision.plan.notes)


def _alternating_window(step: float) -> PriceWindow:
    # 31 daily closes ending at 105 whose log returns alternate -step, +step: a sample standard deviation
    # (ddof 1) of step x sqrt(30 / 29) a day.
    logs = [math.log(105.0) - (step if (30 - i) % 2 else 0.0) for i in range(31)]
    times = [T0 - (30 - i) * DAY for i in range(31)]
    return PriceWindow.from_rows(times, [{"BTC": math.exp(x), "USDT": 1.0} for x in logs], ["BTC", "USDT"])


@pytest.mark.parametrize(("step", "reduced"), [(0.05, True), (0.03, False)])
def test_the_liquidation_buffer_widens_to_three_sigmas_of_a_check_interval(step: float, reduced: bool) -> None:
    # A 10x short of 40 BTC entered at 100 with 730 USDT of cross collateral: 730 + 40 (100 - P) = 0.005 x 40 x P
    # puts the liquidation at 4 730 / 40.2 = 117.66, 12.06 % above the mark of 105: outside the fixed 10 % buffer.
    # Daily checks: the buffer is 3 x the daily standard deviation, 3 x 0.05 x sqrt(30/29) = 15.26 % (reduce),
    # or 3 x 0.03 x sqrt(30/29) = 9.15 %, below the fixed 10 % (keep).
    short = DerivativePosition(parse_symbol(PERP), -40.0, 100.0, 10.0)
    session = RebalancingSession(_policy({"kind": "calendar", "every": "7d"}), GuardSettings(liquidation_buffer=0.10))
    session.state = SessionState(last_rebalance=T0, last_check=T0)
    decision = session.decide(_book(0.0, 730.0, short), _market(T0, btc=105.0), window=_alternating_window(step))
    assert decision.reducing_only is reduced
    deleverage = [n.reason for n in decision.notes if n.kind == "deleverage"]
    if reduced:
        assert deleverage[0].startswith("BTC/USDT:USDT is 12.1% from liquidation (buffer 15.3%)")
    else:
        assert deleverage == []


@pytest.mark.parametrize(("step", "hedged"), [(0.05, True), (0.07, False)])
def test_auto_opens_no_hedge_inside_the_sessions_volatility_scaled_buffer(step: float, hedged: bool) -> None:
    # 60 BTC at 105 and 4 000 USDT on an isolated derivatives account: BTC 61.2 % of 10 300 (target 50 %), 1 150
    # to shed. Spot costs 1.15; the short hedge 2.30 to open and close less 1 150 x 0.03 % x 7 = 2.415 of funding
    # received: -0.115, cheaper. At 5x it
    # opens (1 + 1/5) / 1.005 - 1 = 19.40 % from its isolated liquidation price. Daily checks: the session's
    # buffer is 3 x 0.05 x sqrt(30/29) = 15.26 % (it opens) or 3 x 0.07 x sqrt(30/29) = 21.36 % (refused: spot).
    account = Account("perps", "binance", AccountKind.DERIVATIVES, MarginMode.ISOLATED, {"USDT": 1.0})
    book = Portfolio("USDT", (SpotHolding("BTC", 60.0, "perps"), SpotHolding("USDT", 4_000.0, "perps")), (), (account,))
    policy = _policy({"kind": "threshold"}, rebalance={"instrument": "auto", "hedge_leverage": 5})
    session = RebalancingSession(policy, GuardSettings(liquidation_buffer=0.10))
    decision = session.decide(book, _market(T0, btc=105.0, funding=0.0001), window=_alternating_window(step))
    (trade,) = decision.trades
    (note,) = [n for n in decision.plan.notes if n.startswith("auto: BTC")]
    if hedged:
        assert trade.symbol == PERP
        assert decision.plan.positions[0].liquidation_distance == pytest.approx(1.2 / 1.005 - 1.0, rel=1e-9)
    else:
        assert trade.symbol == "BTC/USDT"
        assert "it would open 19.4% from its liquidation price, inside the liquidation buffer of 21.4%" in note


def test_a_cycle_carries_every_field_it_does_not_move() -> None:
    # advanced() builds the next state field by field: a field it forgot would be lost every cycle.
    later = T0 + DAY
    state = SessionState(
        last_rebalance=T0,
        last_check=T0,
        peak_equity=5.0,
        initial_equity=4.0,
        hedges={PERP: T0},
        lots=LotBook().buy("BTC", 1.0, 100.0, T0),
        pending_flow=7.0,
        flows_seen=3,
        holds={PERP: HoldRecord(1_000.0, 2_000.0, T0, -10.0, 1_000.0)},
    )
    assert {f.name for f in fields(SessionState)} == set(state.to_json()) | {"lots"}
    quiet = state.advanced(
        later, checked=False, rebalanced=False, equity_before=4.5, equity_after=4.5, held=[_perp(-10.0)]
    )
    assert quiet == state
    assert quiet.holds is state.holds and quiet.hedges is state.hedges  # nothing changed: nothing built
    moved = state.advanced(later, checked=True, rebalanced=True, equity_before=4.5, equity_after=6.0, held=[])
    assert moved == replace(
        state,
        last_rebalance=later,
        last_check=later,
        peak_equity=6.0,
        hedges={},
        holds={PERP: HoldRecord(1_000.0, 3_000.0, later, 0.0, 0.0)},
    )
