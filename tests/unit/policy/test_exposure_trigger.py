"""The exposure trigger (the beta-neutral seed's rule): long exposure against the short class's hedge."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from trimtab.policy.bands import Band
from trimtab.policy.config import TriggerConfig
from trimtab.policy.triggers import ExposureTrigger, TriggerContext, build_trigger
from trimtab.valuation.model import ClassExposure, Valuation

NOW = datetime(2026, 11, 21, tzinfo=UTC)
BANDS = {"ALTS": Band(0.5, 0.2), "BTC": Band(-0.5, 0.2), "STABLE": Band(1.0, 0.5)}


def _book(alts: float, btc: float, equity: float = 100_000.0) -> Valuation:
    rows = {"ALTS": alts, "BTC": btc, "STABLE": equity - alts - btc}
    classes = tuple(
        ClassExposure(name, max(v, 0.0), min(v, 0.0), v, v / equity, name == "STABLE") for name, v in rows.items()
    )
    return Valuation("USDT", NOW, equity, {}, {}, classes, (), equity, equity, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def test_an_underhedged_book_fires_with_the_gap_in_its_reason() -> None:
    # ALTS 50 000 long, BTC short 44 000: gap 6 000 = 12 % of 50 000 > 10 %.
    decision = ExposureTrigger("ALTS", "BTC", 0.10).check(_book(50_000.0, -44_000.0), BANDS, TriggerContext(NOW))
    assert decision.fired
    assert decision.reason == (
        "ALTS exposure 50,000.00 exceeds the BTC hedge 44,000.00 by 6,000.00 "
        "(12.00 % of the long notional; limit 10.00 %)"
    )
    assert set(decision.breached) >= {"ALTS", "BTC"}


def test_a_hedge_within_the_gap_stays_quiet() -> None:
    # 50 000 against 46 000: 8 % of the long notional, under 10 %.
    decision = ExposureTrigger("ALTS", "BTC", 0.10).check(_book(50_000.0, -46_000.0), BANDS, TriggerContext(NOW))
    assert not decision.fired
    assert decision.reason.endswith("within 10.00 % of the long notional")


def test_an_overhedged_book_fires_too() -> None:
    # Short 56 000 against 50 000 long: 6 000 over, 12 %.
    decision = ExposureTrigger("ALTS", "BTC", 0.10).check(_book(50_000.0, -56_000.0), BANDS, TriggerContext(NOW))
    assert decision.fired
    assert "falls short of the BTC hedge 56,000.00 by 6,000.00 (12.00 %" in decision.reason


def test_a_hedge_left_without_a_long_leg_fires() -> None:
    decision = ExposureTrigger("ALTS", "BTC", 0.10).check(_book(0.0, -1_000.0), BANDS, TriggerContext(NOW))
    assert decision.fired
    assert "(all of the long notional" in decision.reason


def test_exactly_at_the_gap_does_not_fire() -> None:
    decision = ExposureTrigger("ALTS", "BTC", 0.25).check(_book(40_000.0, -30_000.0), BANDS, TriggerContext(NOW))
    assert not decision.fired


def test_it_composes_inside_all_and_any() -> None:
    config = TriggerConfig.model_validate(
        {
            "kind": "all",
            "of": [
                {"kind": "exposure", "long": "ALTS", "short": "BTC", "gap": 0.1},
                {"kind": "calendar", "every": "7d"},
            ],
        }
    )
    trigger = build_trigger(config)
    book = _book(50_000.0, -44_000.0)
    recent = TriggerContext(NOW, last_rebalance=datetime(2026, 11, 20, tzinfo=UTC))
    assert not trigger.check(book, BANDS, recent).fired
    assert trigger.check(book, BANDS, TriggerContext(NOW)).fired
    either = build_trigger(
        TriggerConfig.model_validate(
            {
                "kind": "any",
                "of": [{"kind": "threshold"}, {"kind": "exposure", "long": "ALTS", "short": "BTC", "gap": 0.1}],
            }
        )
    )
    assert either.check(book, BANDS, TriggerContext(NOW)).fired


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"kind": "exposure", "long": "ALTS", "short": "BTC"}, "needs 'gap'"),
        ({"kind": "exposure", "long": "ALTS", "gap": 0.1}, "needs 'short'"),
        ({"kind": "exposure", "long": "BTC", "short": "BTC", "gap": 0.1}, "different classes"),
        ({"kind": "threshold", "gap": 0.1}, "'gap' is only for kind = 'exposure'"),
        ({"kind": "exposure", "long": "ALTS", "short": "BTC", "gap": 0.0}, "greater than 0"),
    ],
)
def test_bad_exposure_keys_are_refused(document: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TriggerConfig.model_validate(document)
