"""Target models: the class weights a rebalance aims at.

``build_target_model(policy)`` picks the model named by ``[strategy] kind``: ``fixed`` (the policy's
targets), ``core-satellite``, ``beta-neutral``, ``cppi`` or ``delta-target``. Each returns a
:class:`TargetSet` holding every class's target, the cash class's being the remainder.
"""

from __future__ import annotations

from trimtab.policy.config import (
    BetaNeutralStrategy,
    CoreSatelliteStrategy,
    CppiStrategy,
    DeltaTargetStrategy,
    Policy,
)
from trimtab.policy.targets.base import TargetContext, TargetModel, TargetSet, cash_class_name, with_cash_remainder
from trimtab.policy.targets.beta_neutral import BetaNeutralTargets, estimate_beta
from trimtab.policy.targets.core_satellite import CoreSatelliteTargets, hedge_carrier
from trimtab.policy.targets.cppi import CppiTargets
from trimtab.policy.targets.delta_target import DeltaTargets
from trimtab.policy.targets.fixed import FixedTargets


def build_target_model(policy: Policy) -> TargetModel:
    """The target model that the policy's ``[strategy]`` describes (``fixed`` when absent)."""
    classes = policy.asset_classes()
    strategy = policy.strategy
    if isinstance(strategy, CoreSatelliteStrategy):
        return CoreSatelliteTargets(classes, strategy)
    if isinstance(strategy, BetaNeutralStrategy):
        return BetaNeutralTargets(classes, strategy)
    if isinstance(strategy, CppiStrategy):
        return CppiTargets(classes, strategy, policy.rebalance.max_leverage)
    if isinstance(strategy, DeltaTargetStrategy):
        return DeltaTargets(classes, strategy)
    return FixedTargets(classes)


__all__ = [
    "BetaNeutralTargets",
    "CoreSatelliteTargets",
    "CppiTargets",
    "DeltaTargets",
    "FixedTargets",
    "TargetContext",
    "TargetModel",
    "TargetSet",
    "build_target_model",
    "cash_class_name",
    "estimate_beta",
    "hedge_carrier",
    "with_cash_remainder",
]
