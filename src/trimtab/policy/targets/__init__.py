"""Target models: the class weights a rebalance aims at.

``build_target_model(policy)`` returns the model registered for ``[strategy] kind``: ``fixed`` (the policy's
targets), ``core-satellite``, ``beta-neutral``, ``cppi``, ``delta-target`` or ``risk-parity``. Each model is
one module that registers its builder (:mod:`trimtab.policy.targets.registry`) and declares the history it
needs; each returns a :class:`TargetSet` holding every class's target, the cash class's being the remainder.
"""

from __future__ import annotations

# Importing a model's module registers it.
from trimtab.policy.targets import beta_neutral, core_satellite, cppi, delta_target, fixed, risk_parity
from trimtab.policy.targets.base import (
    NeedsNoHistory,
    TargetContext,
    TargetModel,
    TargetSet,
    cash_class_name,
    with_cash_remainder,
)
from trimtab.policy.targets.beta_neutral import BetaNeutralTargets, estimate_beta
from trimtab.policy.targets.core_satellite import CoreSatelliteTargets, hedge_carrier
from trimtab.policy.targets.cppi import CppiTargets
from trimtab.policy.targets.delta_target import DeltaTargets
from trimtab.policy.targets.fixed import FixedTargets
from trimtab.policy.targets.registry import build_target_model, register_target_model, registered_kinds
from trimtab.policy.targets.risk_parity import RiskParityTargets, equal_risk_weights

__all__ = [
    "BetaNeutralTargets",
    "CoreSatelliteTargets",
    "CppiTargets",
    "DeltaTargets",
    "FixedTargets",
    "NeedsNoHistory",
    "RiskParityTargets",
    "TargetContext",
    "TargetModel",
    "TargetSet",
    "beta_neutral",
    "build_target_model",
    "cash_class_name",
    "core_satellite",
    "cppi",
    "delta_target",
    "equal_risk_weights",
    "estimate_beta",
    "fixed",
    "hedge_carrier",
    "register_target_model",
    "registered_kinds",
    "risk_parity",
    "with_cash_remainder",
]
