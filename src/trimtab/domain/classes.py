"""Asset classes: the unit that targets, bands and trades are expressed in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AssetClass:
    """One asset class of a policy.

    ``band`` is the absolute half-width of the tolerance band, or ``band_relative`` a fraction of the
    target (exactly one is set). ``weights`` splits the class among its assets and sums to 1.
    ``hedge`` is the derivative symbol the planner trades when it hedges this class. Exactly one class of
    a policy is the ``cash`` class; its weight is the remainder.
    """

    name: str
    assets: tuple[str, ...]
    target: float
    weights: Mapping[str, float]
    band: float | None = None
    band_relative: float | None = None
    hedge: str | None = None
    cash: bool = False
    band_auto: bool = False
    """``band = "auto"``: the half-width comes from costs and volatility (:mod:`trimtab.policy.bands`);
    ``band`` then holds the width used while the class's volatility is unknown."""

    @property
    def half_width(self) -> float:
        """The band's half-width in weight (absolute, or target x band_relative)."""
        if self.band is not None:
            return self.band
        assert self.band_relative is not None
        return self.target * self.band_relative

    def half_width_around(self, target: float) -> float:
        """The half-width when the class's target is moved to ``target`` by a target model."""
        if self.band is not None:
            return self.band
        assert self.band_relative is not None
        return abs(target) * self.band_relative
