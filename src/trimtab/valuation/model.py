"""What a valuation says: the values the triggers, target models, planner and reports read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from trimtab.domain.instruments import Instrument


@dataclass(frozen=True, slots=True)
class PositionRisk:
    """One derivative position, valued.

    ``delta_notional`` is the position's signed exposure to its underlying in the base currency
    (futures and perps: amount x mark; options: Black-76 delta x amount x underlying price).
    ``liquidation_price`` is set for isolated perpetuals and futures; ``liquidation_distance`` is
    ``|mark - liquidation_price| / mark`` (1.0 when the position cannot be liquidated).
    Option greeks (``gamma``, ``theta_per_day``) are for the whole position, in the base currency.
    """

    instrument: Instrument
    amount: float
    mark: float
    underlying_price: float
    delta_notional: float
    notional: float
    unrealised_pnl: float
    market_value: float
    initial_margin: float
    maintenance_margin: float
    leverage: float
    liquidation_price: float | None
    liquidation_distance: float | None
    class_name: str
    exposure_asset: str
    delta: float = 0.0
    gamma: float = 0.0
    theta_per_day: float = 0.0
    funding_per_day: float = 0.0

    @property
    def symbol(self) -> str:
        return self.instrument.symbol


@dataclass(frozen=True, slots=True)
class ClassExposure:
    """One class: its spot value, its derivatives' delta-notional, and the net as a weight of equity.

    For the cash class, ``net_exposure`` is the remainder (equity minus every other class's net
    exposure), so its weight is 1 minus the others'.
    """

    name: str
    spot_value: float
    derivative_notional: float
    net_exposure: float
    weight: float
    cash: bool = False


@dataclass(frozen=True, slots=True)
class Valuation:
    """A portfolio valued at one snapshot, in ``base_currency``.

    ``cash_value`` is what the venue counts as collateral: the cash class's spot value plus the
    unrealised PnL of futures and perpetuals. ``free_collateral`` is that minus the initial margin.
    """

    base_currency: str
    timestamp: datetime
    equity: float
    spot_values: Mapping[str, float]
    asset_exposure: Mapping[str, float]
    classes: tuple[ClassExposure, ...]
    positions: tuple[PositionRisk, ...]
    gross_exposure: float
    net_exposure: float
    gross_leverage: float
    net_leverage: float
    initial_margin: float
    maintenance_margin: float
    cash_value: float
    free_collateral: float
    unrealised_pnl: float
    funding_per_day: float

    @property
    def weights(self) -> dict[str, float]:
        """Class name -> weight."""
        return {c.name: c.weight for c in self.classes}

    def class_exposure(self, name: str) -> ClassExposure:
        for c in self.classes:
            if c.name == name:
                return c
        raise KeyError(name)

    def positions_of(self, class_name: str) -> tuple[PositionRisk, ...]:
        return tuple(p for p in self.positions if p.class_name == class_name)

    @property
    def min_liquidation_distance(self) -> float | None:
        distances = [p.liquidation_distance for p in self.positions if p.liquidation_distance is not None]
        return min(distances) if distances else None
