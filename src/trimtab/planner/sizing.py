"""Sizing: from each moving class's goal weight to orders on spot markets and derivatives.

For a class with net exposure ``N`` and goal ``g`` the exposure to move is ``n = g x equity - N``
(equity before trading). It is moved in this order:

1. A class that must grow while it carries short hedges (short perpetuals or futures) buys them back
   first, whatever the instrument mode, as ``reduce_only`` orders capped at each position.
2. The rest goes by the class's instrument: ``spot`` re-splits the class among its assets by its
   ``weights`` (per-asset goal exposure = ``g x equity x split``; a band-edge rebalance instead trades
   only the class's net change, on the assets short of their split goal in that direction); ``perp``
   trades the class's hedge derivative and leaves spot untouched; ``auto`` picks whichever of the two costs less
   (:func:`~trimtab.planner.costs.choose_instrument`). A class without a hedge trades spot.
3. A hedge trade that would take the position through zero is split into a ``reduce_only`` leg capped at
   the position and an opening leg.

Spot sales never exceed the amount held; a capped sale is noted. Amounts here are exact floats; lot
sizes and minimums are applied afterwards (:mod:`trimtab.planner.rounding`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from trimtab.domain.classes import AssetClass
from trimtab.domain.instruments import Instrument, InstrumentKind, parse_symbol, spot_symbol
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Side, Trade
from trimtab.domain.portfolio import DEFAULT_VENUE, Portfolio
from trimtab.planner.costs import CostModel, choose_instrument
from trimtab.planner.transfers import hedge_account
from trimtab.planner.units import exposure_per_unit
from trimtab.valuation.model import ClassExposure, Valuation

HEDGE_KINDS = (InstrumentKind.PERP, InstrumentKind.FUTURE)
NEGLIGIBLE = 1e-9
"""Exposure changes below this fraction of equity are rounding noise."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """How one class is traded: its instrument mode (``spot``, ``perp``, ``auto``) and hedge symbol.

    ``refused`` says why ``auto`` may not take the hedge (margin cannot carry it, or it would open inside the
    liquidation buffer: :mod:`trimtab.planner.hedge_limits`); the class is then traded spot.
    """

    mode: str
    hedge: str | None
    refused: str | None = None


@dataclass(slots=True)
class HeldDerivative:
    """A class's net position on one derivative symbol (every venue together)."""

    instrument: Instrument
    amount: float
    delta_notional: float
    venue: str


@dataclass(slots=True)
class Sizing:
    """The raw orders (exact amounts, in planning order) and the notes sizing produced.

    ``hedged``: the classes ``auto`` traded with their hedge, each with the hedge's symbol and what it saves
    against spot per unit of notional.
    """

    trades: list[Trade] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    hedged: dict[str, tuple[str, float]] = field(default_factory=dict)


def held_derivatives(valuation: Valuation, portfolio: Portfolio) -> dict[str, dict[str, HeldDerivative]]:
    """Class name -> symbol -> the net perpetual or future position held, in symbol order."""
    venues = {p.symbol: p.venue for p in portfolio.derivatives}
    out: dict[str, dict[str, HeldDerivative]] = {}
    for risk in valuation.positions:
        if risk.instrument.kind not in HEDGE_KINDS:
            continue
        per_class = out.setdefault(risk.class_name, {})
        held = per_class.get(risk.symbol)
        if held is None:
            per_class[risk.symbol] = HeldDerivative(
                risk.instrument, risk.amount, risk.delta_notional, venues.get(risk.symbol, "default")
            )
        else:
            held.amount += risk.amount
            held.delta_notional += risk.delta_notional
    return {name: dict(sorted(symbols.items())) for name, symbols in out.items()}


@dataclass(slots=True)
class _ClassSizer:
    """Sizes one class; a helper object so the steps share their inputs."""

    asset_class: AssetClass
    exposure: ClassExposure
    goal: float
    valuation: Valuation
    portfolio: Portfolio
    market: MarketSnapshot
    held: dict[str, HeldDerivative]
    instruction: Instruction
    costs: CostModel
    out: Sizing
    venues: Mapping[str, list[tuple[str, float]]]
    resplit: bool = True
    planned_derivatives: dict[str, float] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.valuation.base_currency

    def run(self) -> None:
        equity = self.valuation.equity
        exposure = self.exposure
        goal_exposure = self.goal * equity
        change = goal_exposure - exposure.net_exposure
        if abs(change) <= NEGLIGIBLE * abs(equity):
            change = 0.0
        if change > 0.0:
            change = self._buy_back_shorts(change)
            if change <= NEGLIGIBLE * abs(equity):
                # The buy-back alone reaches the goal; spot stays as it is.
                return
        if change == 0.0 and self.instruction.mode != "spot" and self._usable_hedge() is not None:
            # A class on its goal that trades its hedge has nothing to do; its spot is left alone.
            return
        route = self._route(change)
        if route is not None:
            self._trade_hedge(route, change)
        else:
            self._trade_spot(goal_exposure)

    def _reason(self) -> str:
        return f"{self.asset_class.name} {self.exposure.weight * 100:.2f} % -> {self.goal * 100:.2f} %"

    def _derivative_trade(self, held: HeldDerivative, signed_notional: float, reduce_only: bool, why: str) -> None:
        instrument = held.instrument
        per_unit = exposure_per_unit(instrument, self.market, self.base)
        amount = abs(signed_notional) / per_unit
        notional = abs(signed_notional)
        if reduce_only and amount > abs(held.amount):
            amount = abs(held.amount)
            notional = amount * per_unit
        self.out.trades.append(
            Trade(
                class_name=self.asset_class.name,
                symbol=instrument.symbol,
                instrument=instrument.kind,
                side=Side.BUY if signed_notional > 0 else Side.SELL,
                amount=amount,
                notional=notional,
                price=self.market.derivatives[instrument.symbol].mark,
                venue=held.venue,
                reduce_only=reduce_only,
                reason=f"{self._reason()}: {why}",
            )
        )
        signed_amount = amount if signed_notional > 0 else -amount
        signed_exposure = notional if signed_notional > 0 else -notional
        # Later legs of this class see the position as it will be after this one.
        held.amount += signed_amount
        held.delta_notional += signed_exposure
        self.planned_derivatives[instrument.symbol] = (
            self.planned_derivatives.get(instrument.symbol, 0.0) + signed_exposure
        )

    def _buy_back_shorts(self, change: float) -> float:
        """Buy back short hedges (the class's own hedge first); returns the change still to make."""
        hedge = self.instruction.hedge
        shorts = [h for h in self.held.values() if h.delta_notional < 0.0]
        shorts.sort(key=lambda h: (h.instrument.symbol != hedge, h.instrument.symbol))
        for held in shorts:
            if change <= 0.0:
                break
            take = min(change, -held.delta_notional)
            self._derivative_trade(held, take, True, "buy back the short hedge")
            change -= take
        return change

    def _usable_hedge(self) -> Instrument | None:
        """The class's hedge if it is a perpetual or future quoted in the snapshot."""
        symbol = self.instruction.hedge
        if symbol is None or symbol not in self.market.derivatives:
            return None
        instrument = parse_symbol(symbol)
        expires = instrument.expires_at
        if expires is not None and expires <= self.market.timestamp:
            return None  # expired: settled, no longer a market
        return instrument if instrument.kind in HEDGE_KINDS else None

    def _route(self, change: float) -> HeldDerivative | None:
        """The derivative to trade the rest with, or None for spot (with a note saying why)."""
        mode = self.instruction.mode
        if mode == "spot" or change == 0.0:
            return None
        name = self.asset_class.name
        symbol = self.instruction.hedge
        instrument = self._usable_hedge()
        if symbol is None:
            self.out.notes.append(f"{name} has no hedge: traded spot under instrument = {mode!r}")
            return None
        if instrument is None:
            expires = parse_symbol(symbol).expires_at
            if expires is not None and expires <= self.market.timestamp:
                self.out.notes.append(
                    f"{name}: hedge {symbol} expired at {expires:%Y-%m-%d %H:%M} UTC and can no longer be traded; "
                    "traded spot"
                )
                return None
            self.out.notes.append(
                f"{name}: hedge {symbol} is not a perpetual or future with a quote in the snapshot; traded spot"
            )
            return None
        if mode == "auto":
            spot_tax = self._spot_sale_tax() if change < 0.0 else 0.0
            quote = self.market.derivatives[symbol]
            choice = choose_instrument(name, change, symbol, quote, self.costs, spot_tax, self.instruction.refused)
            self.out.notes.append(choice.note)
            if choice.route == "spot":
                return None
            self.out.hedged[name] = (symbol, (choice.spot_cost - choice.hedge.total) / abs(change))
        held = self.held.get(symbol)
        if held is None:
            held = HeldDerivative(instrument, 0.0, 0.0, hedge_account(self.valuation))
        return held

    def _spot_sale_tax(self) -> float:
        """The tax the class's spot route would realise: its spot orders sized aside, priced by their lots."""
        if self.costs.sale_tax is None:
            return 0.0
        aside = replace(self, out=Sizing(), planned_derivatives=dict(self.planned_derivatives))
        aside._trade_spot(self.goal * self.valuation.equity)
        return self.costs.sale_tax(aside.out.trades)

    def _trade_hedge(self, held: HeldDerivative, change: float) -> None:
        position = held.delta_notional
        if position != 0.0 and (position > 0.0) != (change > 0.0):
            reduce = min(abs(change), abs(position))
            signed = reduce if change > 0.0 else -reduce
            self._derivative_trade(held, signed, True, "reduce the hedge")
            change -= signed
        if abs(change) > NEGLIGIBLE * abs(self.valuation.equity):
            why = "open a short hedge" if change < 0.0 else "add derivative exposure"
            if position < 0.0 and change < 0.0:
                why = "extend the short hedge"
            self._derivative_trade(held, change, False, why)

    def _trade_spot(self, goal_exposure: float) -> None:
        """Bring each asset's net exposure to ``goal_exposure x split`` with spot."""
        asset_class = self.asset_class
        valuation = self.valuation
        exposure = self.exposure
        asset_net: dict[str, float] = {}
        on_assets = 0.0
        for asset in asset_class.assets:
            net = valuation.asset_exposure.get(asset, 0.0)
            asset_net[asset] = net
            on_assets += net - valuation.spot_values.get(asset, 0.0)
        # Derivatives of the class whose underlying is none of its assets (an index perpetual) count for
        # every asset by the class split, as do the derivative orders planned for them above.
        index = exposure.derivative_notional - on_assets
        for symbol, signed in self.planned_derivatives.items():
            underlying = symbol.split("/", 1)[0]
            if underlying in asset_net:
                asset_net[underlying] += signed
            else:
                index += signed
        changes: dict[str, float] = {}
        for asset in asset_class.assets:
            if asset == self.base:
                continue
            split = asset_class.weights.get(asset, 0.0)
            changes[asset] = split * goal_exposure - (asset_net[asset] + split * index)
        if not self.resplit:
            changes = minimal_turnover(changes)
        for asset, change in changes.items():
            if abs(change) > NEGLIGIBLE * abs(valuation.equity):
                self._spot_trade(asset, change)

    def _spot_trade(self, asset: str, change: float) -> None:
        price = self.market.prices.get(asset)
        name = self.asset_class.name
        if price is None or price <= 0.0:
            self.out.notes.append(f"{name}: no price for {asset}; not traded")
            return
        amount = abs(change) / price
        held = self.portfolio.spot_amount(asset)
        if change < 0.0 and amount > held:
            self.out.notes.append(f"{name}: sale of {amount:.8g} {asset} capped at the {max(held, 0.0):.8g} held")
            amount = max(held, 0.0)
            if amount <= 0.0:
                return
        symbol = spot_symbol(asset, self.base)
        if change > 0.0:
            self._append_spot(symbol, Side.BUY, amount, price, self._main_venue(self.base))
            return
        # A sale larger than the main venue's holding takes the rest from the next venues, largest first.
        remaining = amount
        for venue, on_venue in self.venues.get(asset, ()):
            if remaining <= 0.0:
                break
            if on_venue <= 0.0:
                continue
            take = remaining if remaining <= on_venue else on_venue
            self._append_spot(symbol, Side.SELL, take, price, venue)
            remaining -= take

    def _main_venue(self, asset: str) -> str:
        holdings = self.venues.get(asset)
        return holdings[0][0] if holdings else DEFAULT_VENUE

    def _append_spot(self, symbol: str, side: Side, amount: float, price: float, venue: str) -> None:
        self.out.trades.append(
            Trade(
                class_name=self.asset_class.name,
                symbol=symbol,
                instrument=InstrumentKind.SPOT,
                side=side,
                amount=amount,
                notional=amount * price,
                price=price,
                venue=venue,
                reason=self._reason(),
            )
        )


def spot_venues(portfolio: Portfolio) -> dict[str, list[tuple[str, float]]]:
    """Asset -> ``(venue, amount)`` held there, largest first (ties in the portfolio's order).

    Linear in the spot rows: amounts are summed per venue in a dict, and each asset's venues sorted once.
    """
    totals: dict[str, dict[str, float]] = {}
    for holding in portfolio.spot:
        venues = totals.setdefault(holding.asset, {})
        venues[holding.venue] = venues.get(holding.venue, 0.0) + holding.amount
    # sorted() is stable: venues with equal amounts keep the order they first appear in.
    return {asset: sorted(venues.items(), key=_by_amount_descending) for asset, venues in totals.items()}


def _by_amount_descending(item: tuple[str, float]) -> float:
    return -item[1]


def minimal_turnover(changes: Mapping[str, float]) -> dict[str, float]:
    """Per-asset changes that move the class by the same total, trading only toward each asset's split goal.

    ``changes`` would bring every asset to its split goal; where some point against the class's net move,
    only the assets moving with it trade, each scaled by the same factor (at most 1), so the class trades
    exactly its net change and no asset passes its split goal.
    """
    total = sum(changes.values())
    if total == 0.0:
        return {}
    along = {asset: change for asset, change in changes.items() if (change > 0.0) == (total > 0.0) and change != 0.0}
    scale = total / sum(along.values())
    return {asset: change * scale for asset, change in along.items()}


def size_trades(
    valuation: Valuation,
    portfolio: Portfolio,
    market: MarketSnapshot,
    classes: Sequence[AssetClass],
    goals: Mapping[str, float],
    moving: Sequence[str],
    instructions: Mapping[str, Instruction],
    costs: CostModel,
    resplit: bool = True,
) -> Sizing:
    """The raw orders that move every class in ``moving`` to its goal.

    Parameters
    ----------
    valuation:
        The valuation before trading (its equity sizes every order).
    portfolio, market:
        What is held (for sale caps, venues and existing hedges) and the snapshot's prices.
    classes:
        The policy's classes.
    goals:
        Class name -> goal weight.
    moving:
        The non-cash classes to trade, in order.
    instructions:
        Class name -> instrument mode and hedge symbol.
    costs:
        The cost model (for the ``auto`` choice).
    resplit:
        True (``to = "target"``): every asset of a class traded spot goes to ``goal x equity x split``.
        False (``to = "band-edge"``): the class trades only its net change, spread over the assets that
        are short of their split goal in that direction (:func:`minimal_turnover`).

    Returns
    -------
    Sizing
        Orders with exact amounts, in planning order, and notes (sale caps, spot fall-backs, auto choices).
    """
    out = Sizing()
    by_name = {c.name: c for c in classes}
    held = held_derivatives(valuation, portfolio)
    venues = spot_venues(portfolio)
    exposures = {exposure.name: exposure for exposure in valuation.classes}
    for name in moving:
        _ClassSizer(
            by_name[name],
            exposures[name],
            goals[name],
            valuation,
            portfolio,
            market,
            held.get(name, {}),
            instructions[name],
            costs,
            out,
            venues,
            resplit,
        ).run()
    return out
