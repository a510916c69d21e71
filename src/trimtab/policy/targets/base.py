"""What every target model shares: its inputs, its answer and the cash remainder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from trimtab.domain.classes import AssetClass
from trimtab.policy.estimation import PriceWindow
from trimtab.valuation.model import Valuation

REMAINDER_NOISE = 1e-12
"""A cash remainder this close to the cash class's own target is that target (floating-point noise)."""


@dataclass(frozen=True, slots=True)
class TargetContext:
    """State a target model needs that the valuation does not hold; the backtest or live loop keeps it.

    ``peak_equity`` is the highest equity seen so far (CPPI's ratchet, or its reference equity).
    ``window`` holds the recent prices (at least the model's :attr:`TargetModel.history`), from which a model
    estimates what it needs with :mod:`trimtab.policy.estimation`. ``betas`` maps a beta-neutral strategy's
    long class to a beta the caller already knows (it wins over an estimate from the window).
    """

    peak_equity: float | None = None
    betas: Mapping[str, float] = field(default_factory=dict)
    window: PriceWindow | None = None


@dataclass(frozen=True, slots=True)
class TargetSet:
    """The goal weights a target model chose, and how to reach them.

    ``targets`` holds every class, the cash class included (1 minus the others); a weight may be negative
    (a short leg). ``instruments`` overrides ``[rebalance] instrument`` per class (``"spot"`` or
    ``"perp"``); ``hedges`` overrides the class's hedge symbol. ``notes`` explain the choice.
    """

    targets: dict[str, float]
    instruments: dict[str, str] = field(default_factory=dict)
    hedges: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


class TargetModel(Protocol):
    """Chooses the class targets for this valuation.

    ``history`` is how far back the prices it estimates from must reach (None: it needs none). ``estimates``
    says, per estimate it makes (``"beta"``, ``"covariance"``), why it falls back on this window (None when the
    estimate is made), so a run can report when an estimate starts or stops standing in.
    """

    @property
    def history(self) -> timedelta | None:
        """The lookback of prices the model needs (None: none)."""
        ...

    def estimates(self, window: PriceWindow | None) -> dict[str, str | None]:
        """Per estimate, why it cannot be made from ``window`` (None when it can)."""
        ...

    def targets(self, valuation: Valuation, context: TargetContext) -> TargetSet:
        """The target set for ``valuation``."""
        ...


class NeedsNoHistory:
    """For target models that estimate nothing."""

    __slots__ = ()

    @property
    def history(self) -> timedelta | None:
        return None

    def estimates(self, window: PriceWindow | None) -> dict[str, str | None]:
        return {}


def cash_class_name(classes: Sequence[AssetClass]) -> str:
    """The name of the cash class.

    Raises
    ------
    ValueError
        If no class is the cash class.
    """
    for asset_class in classes:
        if asset_class.cash:
            return asset_class.name
    raise ValueError("the policy has no cash class")


def with_cash_remainder(classes: Sequence[AssetClass], targets: Mapping[str, float]) -> dict[str, float]:
    """Every class's target in the classes' order; the cash class gets ``1 - sum(others)``.

    A non-cash class missing from ``targets`` keeps its policy target.
    """
    cash = cash_class_name(classes)
    out = {c.name: float(targets.get(c.name, c.target)) for c in classes if not c.cash}
    remainder = 1.0 - sum(out.values())
    # With the policy's own targets the remainder is the cash class's target give or take a float's last
    # bits (1 - 0.85 is 0.15000000000000002): report the figure the user wrote, not the rounding noise.
    own = next(c.target for c in classes if c.cash)
    if abs(remainder - own) <= REMAINDER_NOISE:
        remainder = own
    result: dict[str, float] = {}
    for asset_class in classes:
        result[asset_class.name] = remainder if asset_class.name == cash else out[asset_class.name]
    return result
