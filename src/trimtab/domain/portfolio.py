"""Holdings: spot balances per venue and derivative positions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from trimtab.domain.accounts import Account, default_account
from trimtab.domain.instruments import Instrument

DEFAULT_VENUE = "default"


@dataclass(frozen=True, slots=True)
class SpotHolding:
    """An amount of one asset held on one venue."""

    asset: str
    amount: float
    venue: str = DEFAULT_VENUE


@dataclass(frozen=True, slots=True)
class DerivativePosition:
    """A perpetual, dated future or option position.

    ``amount`` is signed (negative = short). Linear instruments count it in units of the base asset;
    inverse ones in contracts. ``entry_price`` gives the unrealised PnL and the liquidation price;
    ``leverage`` the initial margin (``|notional| / leverage``). ``liquidation_price`` is the venue's own
    figure when it reports one (used as is); None lets valuation compute it from the account model.
    """

    instrument: Instrument
    amount: float
    entry_price: float
    leverage: float = 1.0
    venue: str = DEFAULT_VENUE
    liquidation_price: float | None = None

    @property
    def symbol(self) -> str:
        return self.instrument.symbol


@dataclass(frozen=True, slots=True)
class Portfolio:
    """Everything held: spot balances and derivative positions, valued in ``base_currency``.

    ``accounts`` are the declared ``[[account]]`` tables; a venue without one is a default account
    (see :func:`trimtab.domain.accounts.default_account`), which :meth:`account` returns.
    """

    base_currency: str
    spot: tuple[SpotHolding, ...] = ()
    derivatives: tuple[DerivativePosition, ...] = ()
    accounts: tuple[Account, ...] = ()
    _spot_totals: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        totals: dict[str, float] = {}
        for holding in self.spot:
            totals[holding.asset] = totals.get(holding.asset, 0.0) + holding.amount
        object.__setattr__(self, "_spot_totals", totals)

    def account(self, venue: str) -> Account:
        """The account called ``venue``: its declared table, else the default unified cross account."""
        for account in self.accounts:
            if account.name == venue:
                return account
        return default_account(venue, self.base_currency)

    def account_names(self) -> list[str]:
        """Every account: the declared ones in their order, then the venues rows name without a table."""
        names = [a.name for a in self.accounts]
        for venue in [h.venue for h in self.spot] + [p.venue for p in self.derivatives]:
            if venue not in names:
                names.append(venue)
        return names

    def spot_amount(self, asset: str) -> float:
        """The amount of ``asset`` held on every venue together."""
        return self._spot_totals.get(asset, 0.0)

    @property
    def spot_totals(self) -> dict[str, float]:
        """Amount per asset, all venues together (a copy)."""
        return dict(self._spot_totals)

    def assets(self) -> list[str]:
        return list(self._spot_totals)

    def position(self, symbol: str) -> DerivativePosition | None:
        """The first position on ``symbol``, or None."""
        for position in self.derivatives:
            if position.symbol == symbol:
                return position
        return None

    def position_amount(self, symbol: str) -> float:
        """Net signed amount on ``symbol`` over every venue."""
        return sum(p.amount for p in self.derivatives if p.symbol == symbol)

    def venue_of(self, asset: str) -> str:
        """The venue holding most of ``asset`` (where a spot order for it goes)."""
        best, best_amount = DEFAULT_VENUE, -1.0
        for holding in self.spot:
            if holding.asset == asset and holding.amount > best_amount:
                best, best_amount = holding.venue, holding.amount
        return best

    def with_changes(
        self,
        spot_deltas: Iterable[tuple[str, float]] = (),
        derivative_deltas: Iterable[tuple[DerivativePosition, float]] = (),
    ) -> Portfolio:
        """A new portfolio with spot amounts and derivative amounts changed (used to apply a plan).

        ``derivative_deltas`` pairs a position template (instrument, entry price, leverage, venue) with
        the signed change of its amount; positions whose amount reaches zero are dropped.
        """
        totals = dict(self._spot_totals)
        venues = {h.asset: h.venue for h in self.spot}
        for asset, delta in spot_deltas:
            totals[asset] = totals.get(asset, 0.0) + delta
        spot = tuple(SpotHolding(a, amt, venues.get(a, DEFAULT_VENUE)) for a, amt in totals.items())
        positions: dict[str, DerivativePosition] = {}
        for p in self.derivatives:
            if p.symbol in positions:
                old = positions[p.symbol]
                positions[p.symbol] = DerivativePosition(
                    old.instrument, old.amount + p.amount, old.entry_price, old.leverage, old.venue
                )
            else:
                positions[p.symbol] = p
        for template, delta in derivative_deltas:
            old_position = positions.get(template.symbol)
            if old_position is None:
                positions[template.symbol] = DerivativePosition(
                    template.instrument, delta, template.entry_price, template.leverage, template.venue
                )
            else:
                positions[template.symbol] = DerivativePosition(
                    old_position.instrument,
                    old_position.amount + delta,
                    old_position.entry_price,
                    old_position.leverage,
                    old_position.venue,
                )
        kept = tuple(p for p in positions.values() if abs(p.amount) > 1e-15)
        return Portfolio(self.base_currency, spot, kept, self.accounts)
