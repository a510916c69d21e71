"""Risk parity (equal risk contribution): each class carries the same share of the portfolio's risk.

The classes of the strategy (``classes``, default every non-cash class) share the sum of their policy
targets, the *risky budget* ``B``. Their weights ``w`` (summing to 1 within the budget) solve

    w_i x (Σ w)_i = w_j x (Σ w)_j   for every pair i, j,

where ``Σ`` is the annualised covariance of the classes' index returns over ``lookback``
(:func:`trimtab.policy.estimation.covariance`). Each class's target is ``B x w_i``; the cash class takes the
rest, so the cash target is the policy's own. With two classes, or uncorrelated ones, this is
inverse-volatility weighting: ``w_i = (1/σ_i) / Σ_j (1/σ_j)``.

The weights are found by cyclical coordinate descent on ``½ yᵀΣy - Σ_i ln(y_i) / n`` (Griveau-Billion,
Richard and Roncalli, 2013), whose minimum rescaled to sum to 1 is the equal-risk-contribution portfolio.
Without enough history the policy's targets are kept and a note says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from trimtab.domain.classes import AssetClass
from trimtab.policy.config import Policy, RiskParityStrategy
from trimtab.policy.durations import parse_duration
from trimtab.policy.estimation import EstimateUnavailableError, PriceWindow, covariance
from trimtab.policy.targets.base import TargetContext, TargetSet, with_cash_remainder
from trimtab.policy.targets.registry import register_target_model
from trimtab.valuation.model import Valuation

TOLERANCE = 1e-12
MAX_SWEEPS = 10_000


def equal_risk_weights(matrix: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The long-only weights (summing to 1) whose risk contributions ``w_i (Σw)_i`` are all equal.

    Raises
    ------
    ValueError
        If the matrix is not square, has a non-positive variance or non-finite entries, or the descent does
        not converge.
    """
    sigma = np.asarray(matrix, dtype=np.float64)
    if sigma.ndim != 2 or sigma.shape[0] != sigma.shape[1] or sigma.shape[0] == 0:
        raise ValueError("the covariance must be a square matrix")
    if not np.all(np.isfinite(sigma)) or np.any(np.diag(sigma) <= 0.0):
        raise ValueError("every class needs a positive, finite variance")
    n = sigma.shape[0]
    budget = 1.0 / n
    y = 1.0 / np.sqrt(np.diag(sigma))
    for _ in range(MAX_SWEEPS):
        previous = y.copy()
        for i in range(n):
            others = float(sigma[i] @ y - sigma[i, i] * y[i])
            y[i] = (-others + math.sqrt(others * others + 4.0 * sigma[i, i] * budget)) / (2.0 * sigma[i, i])
        if np.max(np.abs(y - previous)) <= TOLERANCE * np.max(np.abs(y)):
            return np.asarray(y / y.sum(), dtype=np.float64)
    raise ValueError("equal risk contributions did not converge")


@dataclass(frozen=True, slots=True)
class RiskParityTargets:
    """Equal risk contributions among the strategy's classes, within their policy targets' sum."""

    classes: Sequence[AssetClass]
    strategy: RiskParityStrategy
    base_currency: str

    @property
    def members(self) -> list[AssetClass]:
        names = self.strategy.classes or [c.name for c in self.classes if not c.cash]
        return [c for c in self.classes if c.name in names]

    @property
    def history(self) -> timedelta | None:
        return parse_duration(self.strategy.lookback)

    def _weights(self, window: PriceWindow | None) -> tuple[npt.NDArray[np.float64] | None, str | None]:
        if window is None:
            return None, "no price history"
        try:
            matrix = covariance(window, self.members, self.base_currency, parse_duration(self.strategy.lookback))
            return equal_risk_weights(matrix), None
        except (EstimateUnavailableError, ValueError) as error:
            return None, str(error)

    def estimates(self, window: PriceWindow | None) -> dict[str, str | None]:
        return {"covariance": self._weights(window)[1]}

    def targets(self, valuation: Valuation, context: TargetContext) -> TargetSet:
        members = self.members
        budget = sum(c.target for c in members)
        weights, why = self._weights(context.window)
        if weights is None:
            note = f"risk parity: no covariance estimate ({why}); the policy targets are kept"
            return TargetSet(targets=with_cash_remainder(self.classes, {}), notes=(note,))
        chosen = {c.name: budget * float(w) for c, w in zip(members, weights, strict=True)}
        shares = ", ".join(f"{name} {target:.2%}" for name, target in chosen.items())
        note = f"risk parity over {self.strategy.lookback} ({budget:.2%} shared by equal risk): {shares}"
        return TargetSet(targets=with_cash_remainder(self.classes, chosen), notes=(note,))


@register_target_model("risk-parity")
def build(policy: Policy) -> RiskParityTargets:
    """The risk-parity model of ``policy``."""
    strategy = policy.strategy
    if not isinstance(strategy, RiskParityStrategy):
        raise TypeError(f"not a risk-parity strategy: {strategy.kind}")
    return RiskParityTargets(policy.asset_classes(), strategy, policy.base_currency)
