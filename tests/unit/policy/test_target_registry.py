"""A new target model is one module and its registration: the planner and the session find it by kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from trimtab.policy.config import Policy
from trimtab.policy.estimation import PriceWindow
from trimtab.policy.targets import TargetContext, TargetSet, build_target_model, registered_kinds, with_cash_remainder
from trimtab.policy.targets.registry import _BUILDERS, register_target_model
from trimtab.session import history_needed
from trimtab.valuation import Valuation

PolicyFactory = Callable[..., Policy]


def test_every_strategy_kind_of_the_schema_has_a_model() -> None:
    assert registered_kinds() == ("beta-neutral", "core-satellite", "cppi", "delta-target", "fixed", "risk-parity")


@dataclass(frozen=True)
class HalfTargets:
    """Halves every non-cash target (a stand-in for a user's model); needs a week of prices."""

    policy: Policy

    @property
    def history(self) -> timedelta | None:
        return timedelta(days=7)

    def estimates(self, window: PriceWindow | None) -> dict[str, str | None]:
        return {}

    def targets(self, valuation: Valuation, context: TargetContext) -> TargetSet:
        classes = self.policy.asset_classes()
        return TargetSet(with_cash_remainder(classes, {c.name: c.target / 2 for c in classes if not c.cash}))


def test_a_registered_model_is_built_for_its_kind_and_its_history_is_asked_for(
    make_policy: PolicyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = make_policy()
    monkeypatch.setitem(_BUILDERS, "fixed", HalfTargets)  # the registry entry a model's module would write
    model = build_target_model(policy)
    assert isinstance(model, HalfTargets)
    assert history_needed(policy) == timedelta(days=7)
    assert model.targets(None, TargetContext()).targets["BTC"] == pytest.approx(0.20)  # type: ignore[arg-type]


def test_a_kind_cannot_be_registered_twice_by_different_builders() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_target_model("cppi")(HalfTargets)  # type: ignore[arg-type]
