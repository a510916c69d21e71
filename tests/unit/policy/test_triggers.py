"""Triggers: threshold, calendar, hybrid and their any / all composites."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from trimtab.policy.bands import Band
from trimtab.policy.config import TriggerConfig
from trimtab.policy.triggers import (
    CalendarTrigger,
    CompositeTrigger,
    HybridTrigger,
    ThresholdTrigger,
    TriggerContext,
    build_trigger,
)
from trimtab.valuation.model import Valuation

ValuationFactory = Callable[..., Valuation]

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
WEEK = timedelta(days=7)
BANDS = {"BTC": Band(0.5, 0.05), "ETH": Band(0.25, 0.25), "STABLE": Band(0.25, 0.03)}
INSIDE = {"BTC": 0.52, "ETH": 0.25, "STABLE": 0.23}
BTC_HIGH = {"BTC": 0.58, "ETH": 0.20, "STABLE": 0.22}


def test_threshold_fires_on_a_breach_with_a_readable_reason(valuation_of: ValuationFactory) -> None:
    decision = ThresholdTrigger().check(valuation_of(BTC_HIGH), BANDS, TriggerContext(NOW))
    assert decision.fired
    assert decision.breached == ("BTC",)
    assert decision.reason == "BTC at 58.00 % is outside 45.00–55.00 %"
    assert decision.checked


def test_threshold_stays_quiet_inside_the_bands(valuation_of: ValuationFactory) -> None:
    decision = ThresholdTrigger().check(valuation_of(INSIDE), BANDS, TriggerContext(NOW))
    assert not decision.fired
    assert decision.breached == ()
    assert decision.reason == "every class is inside its band"


def test_threshold_exactly_at_the_edge_is_not_a_breach(valuation_of: ValuationFactory) -> None:
    # ETH's band is 0.25 +/- 0.25 and 0.5 - 0.25 == 0.25 exactly in floating point
    weights = {"BTC": 0.5, "ETH": 0.5, "STABLE": 0.25}
    assert not ThresholdTrigger().check(valuation_of(weights), BANDS, TriggerContext(NOW)).fired
    weights["ETH"] = 0.5000001
    assert ThresholdTrigger().check(valuation_of(weights), BANDS, TriggerContext(NOW)).breached == ("ETH",)


def test_threshold_fires_on_the_cash_class_alone(valuation_of: ValuationFactory) -> None:
    weights = {"BTC": 0.54, "ETH": 0.30, "STABLE": 0.16}
    decision = ThresholdTrigger().check(valuation_of(weights), BANDS, TriggerContext(NOW))
    assert decision.fired
    assert decision.breached == ("STABLE",)
    assert "STABLE at 16.00 % is outside 22.00–28.00 %" in decision.reason


def test_threshold_lists_every_breach_in_band_order(valuation_of: ValuationFactory) -> None:
    weights = {"BTC": 0.40, "ETH": 0.40, "STABLE": 0.20}
    decision = ThresholdTrigger().check(valuation_of(weights), BANDS, TriggerContext(NOW))
    assert decision.breached == ("BTC", "STABLE")
    assert decision.reason.count(" is outside ") == 2


@pytest.mark.parametrize(
    ("elapsed", "fired"),
    [(timedelta(days=6, hours=23), False), (WEEK, True), (timedelta(days=8), True)],
)
def test_calendar_fires_once_the_period_has_passed(
    valuation_of: ValuationFactory, elapsed: timedelta, fired: bool
) -> None:
    context = TriggerContext(NOW, last_rebalance=NOW - elapsed)
    decision = CalendarTrigger(WEEK).check(valuation_of(INSIDE), BANDS, context)
    assert decision.fired is fired
    assert decision.checked is fired
    if fired:
        assert decision.reason.startswith("calendar rebalance (every 1 week)")
    else:
        assert decision.reason == f"next calendar rebalance due at {(NOW + timedelta(hours=1)).isoformat()}"


def test_calendar_fires_when_never_rebalanced_and_reports_breaches(valuation_of: ValuationFactory) -> None:
    decision = CalendarTrigger(timedelta(days=3)).check(valuation_of(BTC_HIGH), BANDS, TriggerContext(NOW))
    assert decision.fired
    assert decision.reason == "calendar rebalance (every 3 days): never rebalanced before"
    assert decision.breached == ("BTC",)


def test_hybrid_checks_at_each_check_point_only(valuation_of: ValuationFactory) -> None:
    hybrid = HybridTrigger(WEEK)
    breached = valuation_of(BTC_HIGH)
    early = hybrid.check(breached, BANDS, TriggerContext(NOW, last_check=NOW - timedelta(days=6)))
    assert not early.fired
    assert not early.checked
    assert early.breached == ()
    at = hybrid.check(breached, BANDS, TriggerContext(NOW, last_check=NOW - WEEK))
    assert at.fired
    assert at.checked
    assert at.breached == ("BTC",)
    assert at.reason == "band check (every 1 week): BTC at 58.00 % is outside 45.00–55.00 %"
    late = hybrid.check(breached, BANDS, TriggerContext(NOW, last_check=NOW - timedelta(days=9)))
    assert late.fired


def test_hybrid_check_point_without_breach_does_not_fire(valuation_of: ValuationFactory) -> None:
    decision = HybridTrigger(WEEK).check(valuation_of(INSIDE), BANDS, TriggerContext(NOW))
    assert not decision.fired
    assert decision.checked  # never checked before: this is a check point
    assert decision.reason == "band check (every 1 week): every class is inside its band"


def test_hybrid_ignores_the_last_rebalance(valuation_of: ValuationFactory) -> None:
    context = TriggerContext(NOW, last_rebalance=NOW - timedelta(days=30), last_check=NOW - timedelta(days=1))
    assert not HybridTrigger(WEEK).check(valuation_of(BTC_HIGH), BANDS, context).fired


def test_any_fires_when_one_child_fires(valuation_of: ValuationFactory) -> None:
    trigger = CompositeTrigger("any", (ThresholdTrigger(), CalendarTrigger(WEEK)))
    context = TriggerContext(NOW, last_rebalance=NOW - timedelta(days=2))
    breach = trigger.check(valuation_of(BTC_HIGH), BANDS, context)
    assert breach.fired
    assert breach.breached == ("BTC",)
    assert breach.reason == "BTC at 58.00 % is outside 45.00–55.00 %"
    calm = trigger.check(valuation_of(INSIDE), BANDS, context)
    assert not calm.fired
    due = trigger.check(valuation_of(INSIDE), BANDS, TriggerContext(NOW, last_rebalance=NOW - WEEK))
    assert due.fired
    assert due.reason.startswith("calendar rebalance")


def test_all_fires_only_when_every_child_fires(valuation_of: ValuationFactory) -> None:
    trigger = CompositeTrigger("all", (ThresholdTrigger(), CalendarTrigger(WEEK)))
    not_due = TriggerContext(NOW, last_rebalance=NOW - timedelta(days=2))
    waiting = trigger.check(valuation_of(BTC_HIGH), BANDS, not_due)
    assert not waiting.fired
    assert waiting.reason.startswith("not all triggers fired: next calendar rebalance due at")
    assert waiting.breached == ("BTC",)
    due = TriggerContext(NOW, last_rebalance=NOW - WEEK)
    assert trigger.check(valuation_of(BTC_HIGH), BANDS, due).fired
    assert not trigger.check(valuation_of(INSIDE), BANDS, due).fired


def test_composite_check_point_follows_its_hybrid_child(valuation_of: ValuationFactory) -> None:
    trigger = CompositeTrigger("any", (ThresholdTrigger(), HybridTrigger(WEEK)))
    assert trigger.paces_checks
    between = trigger.check(valuation_of(INSIDE), BANDS, TriggerContext(NOW, last_check=NOW - timedelta(days=1)))
    assert not between.checked  # so the caller leaves last_check where it is
    at = trigger.check(valuation_of(INSIDE), BANDS, TriggerContext(NOW, last_check=NOW - WEEK))
    assert at.checked


def test_build_trigger_from_config() -> None:
    assert isinstance(build_trigger(TriggerConfig()), ThresholdTrigger)
    assert build_trigger(TriggerConfig(kind="calendar", every="7d")) == CalendarTrigger(WEEK)
    assert build_trigger(TriggerConfig(kind="hybrid", every="12h")) == HybridTrigger(timedelta(hours=12))
    nested = TriggerConfig.model_validate(
        {
            "kind": "all",
            "of": [
                {"kind": "threshold"},
                {"kind": "any", "of": [{"kind": "calendar", "every": "30d"}, {"kind": "hybrid", "every": "1d"}]},
            ],
        }
    )
    trigger = build_trigger(nested)
    assert trigger == CompositeTrigger(
        "all",
        (
            ThresholdTrigger(),
            CompositeTrigger("any", (CalendarTrigger(timedelta(days=30)), HybridTrigger(timedelta(days=1)))),
        ),
    )


def test_nested_composite_decides_from_its_children(valuation_of: ValuationFactory) -> None:
    config = TriggerConfig.model_validate(
        {"kind": "all", "of": [{"kind": "threshold"}, {"kind": "hybrid", "every": "1d"}]}
    )
    trigger = build_trigger(config)
    fresh = TriggerContext(NOW, last_check=NOW - timedelta(hours=1))
    assert not trigger.check(valuation_of(BTC_HIGH), BANDS, fresh).fired
    day_old = TriggerContext(NOW, last_check=NOW - timedelta(days=1))
    decision = trigger.check(valuation_of(BTC_HIGH), BANDS, day_old)
    assert decision.fired
    assert decision.checked


def test_unknown_class_in_bands_is_an_error(valuation_of: ValuationFactory) -> None:
    with pytest.raises(KeyError):
        ThresholdTrigger().check(valuation_of({"BTC": 0.5, "STABLE": 0.5}), BANDS, TriggerContext(NOW))
