"""Beta-neutral: a long class hedged by a short class sized by beta.

``target[short] = -beta x target[long]``, traded with the short class's perpetual (``instruments[short] =
"perp"``). Beta is the strategy's ``beta`` if given, else ``context.betas[long]`` (estimated by the caller
from history over ``lookback`` with :func:`estimate_beta`), else 1.0 with a note. Every other class keeps
its policy target; the cash class takes the remainder (so it grows by the short leg's size).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trimtab.domain.classes import AssetClass
from trimtab.policy.config import BetaNeutralStrategy
from trimtab.policy.targets.base import TargetContext, TargetSet, with_cash_remainder
from trimtab.valuation.model import Valuation


def estimate_beta(long_returns: Sequence[float], short_returns: Sequence[float]) -> float:
    """The OLS beta of the long leg's returns on the short leg's: ``cov(long, short) / var(short)``.

    Parameters
    ----------
    long_returns, short_returns:
        Returns over the same periods, in the same order.

    Returns
    -------
    float
        The beta (how many units of the short leg move with one unit of the long leg).

    Raises
    ------
    ValueError
        If the series differ in length, hold fewer than two returns or non-finite values, or the short leg's
        returns do not vary.
    """
    long_arr = np.asarray(long_returns, dtype=float)
    short_arr = np.asarray(short_returns, dtype=float)
    if long_arr.shape != short_arr.shape or long_arr.ndim != 1:
        raise ValueError("the two return series must have the same length")
    if long_arr.size < 2:
        raise ValueError("estimating beta needs at least two returns")
    if not (np.all(np.isfinite(long_arr)) and np.all(np.isfinite(short_arr))):
        raise ValueError("returns must be finite numbers")
    short_centred = short_arr - short_arr.mean()
    variance = float(np.dot(short_centred, short_centred))
    # Relative to the raw second moment, so a constant series that rounding leaves a hair off zero counts as one.
    if variance <= 1e-12 * float(np.dot(short_arr, short_arr)) or variance == 0.0:
        raise ValueError("the short leg's returns do not vary: beta is undefined")
    covariance = float(np.dot(long_arr - long_arr.mean(), short_centred))
    return covariance / variance


@dataclass(frozen=True, slots=True)
class BetaNeutralTargets:
    """A long class at its policy target and a short class at ``-beta`` times it."""

    classes: Sequence[AssetClass]
    strategy: BetaNeutralStrategy

    def targets(self, valuation: Valuation, context: TargetContext) -> TargetSet:
        long_name, short_name = self.strategy.long, self.strategy.short
        notes: list[str] = []
        if self.strategy.beta is not None:
            beta = self.strategy.beta
            source = "from the policy"
        elif long_name in context.betas:
            beta = float(context.betas[long_name])
            source = "estimated from history"
        else:
            beta = 1.0
            source = "assumed"
            notes.append(f"no beta for {long_name} was given or estimated: beta 1.0 assumed")
        long_target = next(c.target for c in self.classes if c.name == long_name)
        short_target = -beta * long_target
        notes.append(
            f"{short_name} target {short_target * 100:.2f} % = -beta {beta:.4f} ({source}) x "
            f"{long_name} target {long_target * 100:.2f} %"
        )
        return TargetSet(
            targets=with_cash_remainder(self.classes, {short_name: short_target}),
            instruments={short_name: "perp"},
            notes=tuple(notes),
        )
