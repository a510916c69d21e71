"""What a valuation says: the values the triggers, target models, planner and reports read.

``PositionRisk`` and ``ClassExposure`` are named tuples rather than frozen dataclasses: a valuation of
a large book builds hundreds of them, and a frozen dataclass costs about ten times more to construct.
They are just as immutable; use ``._replace(...)`` for a modified copy and ``._asdict()`` for a dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from trimtab.domain.accounts import AccountKind, MarginMode
from trimtab.domain.instruments import Instrument


class PositionRisk(NamedTuple):
    """One derivative position, valued (all money figures in the valuation's base currency).

    ``delta_notional`` is the position's signed exposure to its underlying (futures and perps:
    amount x mark; inverse ones: their coin equivalent, contracts x contract size / mark, at the coin's
    price; options: Black-76 delta x amount x underlying price). ``notional`` is its absolute size
    (options: ``|amount x underlying|``). ``market_value`` is what the position adds to equity: the
    unrealised PnL of a future or perpetual, the mark value of an option.
    ``initial_margin`` is ``notional / leverage`` (0 for a long option); ``maintenance_margin`` is
    ``notional x rate - amount`` of the position's margin tier (0.5 % without tiers; 0 for a long option).
    ``liquidation_price`` comes from the account model (:mod:`trimtab.valuation.accounts`): the venue's
    figure when the portfolio gives one, else the isolated or cross price, in the instrument's quote
    currency; None for options and where none exists. In a cross account at or past liquidation (collateral
    <= maintenance margin) a position whose cross price does not exist (a short the account cannot carry at
    any price) reports its mark: it is liquidated now. ``liquidation_distance`` is how far the mark may
    move against the position before it, as a fraction of the mark (0.0 once reached; None without one).
    ``venue`` is the account that holds the position.
    ``delta`` is per unit (1 for futures and perps, Black-76 delta for options); ``gamma`` is the
    position's change of delta, in units of the underlying, per 1 base-currency move of the underlying;
    ``theta_per_day`` is the position's value change per calendar day. ``funding_per_day`` is what the
    position pays per day at the current rate (negative: it receives).
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
    venue: str = "default"

    @property
    def symbol(self) -> str:
        return self.instrument.symbol


class AccountMargin(NamedTuple):
    """One account's margin, in the base currency.

    ``initial`` is the initial margin of its positions (cross and isolated), ``maintenance`` their
    maintenance margin, ``free_collateral`` = ``collateral - initial``.
    """

    name: str
    exchange: str
    kind: AccountKind
    margin_mode: MarginMode
    collateral: float
    initial: float
    maintenance: float
    free_collateral: float
    unrealised_pnl: float
    positions: int

    @property
    def margins(self) -> bool:
        """Whether the account can hold derivatives (derivatives and unified accounts)."""
        return self.kind is not AccountKind.SPOT

    @property
    def at_liquidation(self) -> bool:
        """Whether a cross account with positions is at or past liquidation now: collateral <= maintenance.

        Its positions then report their mark as the liquidation price (0 away) wherever the cross price
        does not exist (see :mod:`trimtab.valuation.accounts`). Isolated accounts are judged per position.
        """
        return (
            self.positions > 0
            and self.margin_mode is MarginMode.CROSS
            and self.maintenance > 0.0
            and self.collateral <= self.maintenance
        )

    def to_dict(self) -> dict[str, Any]:
        """The contract's ``margin.accounts`` row (without ``ok``, which depends on the policy's buffer)."""
        return {
            "name": self.name,
            "exchange": self.exchange,
            "kind": self.kind.value,
            "margin_mode": self.margin_mode.value,
            "collateral": self.collateral,
            "initial": self.initial,
            "maintenance": self.maintenance,
            "free_collateral": self.free_collateral,
            "at_liquidation": self.at_liquidation,
        }


class ClassExposure(NamedTuple):
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

    ``accounts`` are the accounts' margins (:func:`trimtab.valuation.accounts.account_margins`);
    ``free_collateral`` and ``initial_margin`` are sums over the derivatives and unified accounts:
    free collateral is an account's collateral value minus its initial margin, never a class weight.
    ``gross_exposure`` sums the absolute spot value of the non-cash classes and the absolute
    delta-notional of every derivative; ``net_exposure`` is the sum of the non-cash classes' net
    exposures. The leverages are those divided by equity (infinite when equity is not positive).
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
    free_collateral: float
    unrealised_pnl: float
    funding_per_day: float
    accounts: tuple[AccountMargin, ...] = ()
    _by_name: dict[str, ClassExposure] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def weights(self) -> dict[str, float]:
        """Class name -> weight (a new dict)."""
        return {c.name: c.weight for c in self.classes}

    def class_exposure(self, name: str) -> ClassExposure:
        """The class called ``name``; raises KeyError if there is none."""
        index = self._by_name
        if not index:
            # Built on first use: a frozen instance may still fill its own private cache.
            index.update((c.name, c) for c in self.classes)
        return index[name]

    def positions_of(self, class_name: str) -> tuple[PositionRisk, ...]:
        """The positions that count toward ``class_name``."""
        return tuple(p for p in self.positions if p.class_name == class_name)

    def account(self, name: str) -> AccountMargin:
        """The margin of the account called ``name``; raises KeyError if there is none."""
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)

    @property
    def min_liquidation_distance(self) -> float | None:
        """The smallest liquidation distance of any position, or None when none can be liquidated."""
        distances = [p.liquidation_distance for p in self.positions if p.liquidation_distance is not None]
        return min(distances) if distances else None
