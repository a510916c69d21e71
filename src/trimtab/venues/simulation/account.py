"""A simulated exchange account: spot balances, derivative positions, and the fills that change them.

Conventions
-----------
* Every fill is a market order at ``reference_price x (1 +/- slippage)`` (buys pay more, sells get
  less); the fee is charged on the filled value and paid from the base-currency balance.
* Spot: the asset's balance changes by the amount and the base currency by ``-(amount x fill price)``.
* Linear perpetuals and futures (quote = base currency): opening posts no cash (the margin is a
  reservation that the paper venue checks against the account model's free collateral); the entry price is
  the amount-weighted average of the fills that grew the position; reducing or flipping realises
  ``closed amount x (fill price - entry)`` into the base currency.
* Options are bought and sold for their premium (``amount x price`` in the base currency).
* Inverse contracts (``BTC/USD:BTC``) are counted in contracts; PnL, fees and funding are paid in the coin
  (:mod:`~trimtab.venues.simulation.inverse`), reported in the base currency at the fill's price.
* Dated futures and options settle in cash at expiry (:meth:`SimulatedAccount.settle_expired`, the rules
  of :mod:`~trimtab.venues.simulation.expiry`) and are gone afterwards.
* Balances may go slightly negative (fees of a fully invested account); the account does not refuse
  orders, the planner's guards are responsible for that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from trimtab.domain.accounts import Account, default_account
from trimtab.domain.instruments import Instrument, InstrumentKind, parse_symbol
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.portfolio import DEFAULT_VENUE, DerivativePosition, Portfolio, SpotHolding
from trimtab.venues.simulation.expiry import PriceAtExpiry, Settlement, is_expired, settlement_cash
from trimtab.venues.simulation.fees import Liquidity
from trimtab.venues.simulation.inverse import coin_pnl, harmonic_entry
from trimtab.venues.simulation.margin import Liquidation, liquidation_prices
from trimtab.venues.simulation.models import RealityModels
from trimtab.venues.simulation.slippage import BarConditions

_ZERO = 1e-12


@dataclass(slots=True)
class PerpPosition:
    """A derivative position held in the simulated account (signed ``amount``)."""

    instrument: Instrument
    amount: float
    entry_price: float
    leverage: float = 1.0
    contract_size: float = 1.0
    """Quote units per contract (inverse contracts only; linear amounts are in the base asset)."""


@dataclass(frozen=True, slots=True)
class FillReport:
    """One simulated execution: ``notional`` = |amount| x ``price`` at the fill price."""

    symbol: str
    side: str
    amount: float
    price: float
    notional: float
    fee: float
    slippage: float
    realised_pnl: float = 0.0


@dataclass
class SimulatedAccount:
    """Balances and positions of one simulated account, valued in ``base_currency``."""

    base_currency: str
    models: RealityModels = field(default_factory=RealityModels)
    balances: dict[str, float] = field(default_factory=dict)
    positions: dict[str, PerpPosition] = field(default_factory=dict)
    fees_paid: float = 0.0
    slippage_paid: float = 0.0
    funding_paid: float = 0.0
    account: Account | None = None
    """The portfolio's account this simulates (kind, margin mode, collateral); None: the contract's account of
    a venue without an ``[[account]]`` table (unified, cross, the base currency at 1.0), the backtest's."""

    @classmethod
    def from_portfolio(
        cls, portfolio: Portfolio, models: RealityModels | None = None, venue: str | None = None
    ) -> SimulatedAccount:
        """An account holding what ``portfolio`` holds: every venue merged, or only ``venue``'s (as its account)."""
        if venue is None:
            account = cls(portfolio.base_currency, models or RealityModels(), dict(portfolio.spot_totals))
            derivatives = portfolio.derivatives
        else:
            balances: dict[str, float] = {}
            for holding in portfolio.spot:
                if holding.venue == venue:
                    balances[holding.asset] = balances.get(holding.asset, 0.0) + holding.amount
            account = cls(portfolio.base_currency, models or RealityModels(), balances)
            account.account = portfolio.account(venue)
            derivatives = tuple(p for p in portfolio.derivatives if p.venue == venue)
        for p in derivatives:
            account.positions[p.symbol] = PerpPosition(p.instrument, p.amount, p.entry_price, p.leverage)
        return account

    @property
    def declared(self) -> Account:
        """The account as the account model sees it (see :attr:`account`)."""
        if self.account is not None:
            return self.account
        return default_account(DEFAULT_VENUE, self.base_currency)

    @property
    def cash(self) -> float:
        """The base-currency balance."""
        return self.balances.get(self.base_currency, 0.0)

    def deposit(self, asset: str, amount: float) -> None:
        """Credit ``amount`` of ``asset`` (negative to debit)."""
        self.balances[asset] = self.balances.get(asset, 0.0) + amount

    def to_portfolio(self) -> Portfolio:
        """The account as the core's :class:`~trimtab.domain.portfolio.Portfolio`."""
        account = self.declared
        spot = tuple(SpotHolding(asset, amount, account.name) for asset, amount in self.balances.items())
        derivatives = tuple(
            DerivativePosition(p.instrument, p.amount, p.entry_price, p.leverage, account.name)
            for p in self.positions.values()
            if abs(p.amount) > _ZERO
        )
        # Declared, so that valuation's liquidation prices are the ones this account liquidates at.
        return Portfolio(self.base_currency, spot, derivatives, (account,))

    def fill(
        self,
        symbol: str,
        signed_amount: float,
        reference_price: float,
        *,
        bar: BarConditions | None = None,
        leverage: float = 1.0,
        liquidity: Liquidity = Liquidity.TAKER,
        slippage_fraction: float | None = None,
        contract_size: float | None = None,
    ) -> FillReport:
        """Execute a market order of ``signed_amount`` (positive buys) against ``reference_price``.

        Parameters
        ----------
        symbol:
            A ccxt symbol; spot trades the base asset against the base currency.
        signed_amount:
            Coins (spot and linear derivatives) or option units; positive buys, negative sells.
        reference_price:
            The price before slippage, in the base currency (the bar's close or the mark).
        bar:
            The bar's volume and volatility, for volume-dependent slippage.
        leverage:
            The leverage of a new derivative position (ignored for spot).
        liquidity:
            Taker for market orders (the backtest's fills), maker for resting limit orders.
        slippage_fraction:
            Overrides the slippage model (the paper venue fills limit orders at their price with 0).
        contract_size:
            An inverse contract's size in the quote (the market's rules; None: the position's, else 1).

        Returns
        -------
        FillReport
            Fill price, notional at that price, fee, slippage cost and any realised PnL.
        """
        instrument = parse_symbol(symbol)
        if instrument.is_inverse:
            held = self.positions.get(symbol)
            size = contract_size if contract_size is not None else (held.contract_size if held else 1.0)
            notional_reference = abs(signed_amount) * size
        else:
            notional_reference = abs(signed_amount) * reference_price
        if slippage_fraction is None:
            slippage_fraction = self.models.slippage.fraction(notional_reference, bar or BarConditions())
        direction = 1.0 if signed_amount > 0 else -1.0
        price = reference_price * (1.0 + direction * slippage_fraction)
        if instrument.is_inverse:
            return self._fill_inverse(instrument, signed_amount, reference_price, price, leverage, liquidity, size)
        notional = abs(signed_amount) * price
        fee = self.models.fees.fee(notional, liquidity, instrument.kind.value)
        slippage = abs(signed_amount) * abs(price - reference_price)
        realised = 0.0
        if instrument.kind is InstrumentKind.SPOT:
            self.deposit(instrument.base, signed_amount)
            self.deposit(self.base_currency, -signed_amount * price)
        elif instrument.kind is InstrumentKind.OPTION:
            self._change_position(instrument, signed_amount, price, leverage)
            self.deposit(self.base_currency, -signed_amount * price)
        else:
            realised = self._change_position(instrument, signed_amount, price, leverage)
            self.deposit(self.base_currency, realised)
        self.deposit(self.base_currency, -fee)
        self.fees_paid += fee
        self.slippage_paid += slippage
        side = "buy" if signed_amount > 0 else "sell"
        return FillReport(symbol, side, abs(signed_amount), price, notional, fee, slippage, realised)

    def _fill_inverse(
        self,
        instrument: Instrument,
        signed: float,
        reference: float,
        price: float,
        leverage: float,
        liquidity: Liquidity,
        size: float,
    ) -> FillReport:
        """An inverse fill: PnL and fee in the settlement coin (see :mod:`.inverse`), reported in the base currency."""
        face = abs(signed) * size
        fee_coins = self.models.fees.fee(face, liquidity, instrument.kind.value) / price
        held = self.positions.get(instrument.symbol)
        realised_coins = 0.0
        if held is None or abs(held.amount) <= _ZERO:
            self.positions[instrument.symbol] = PerpPosition(instrument, signed, price, leverage, size)
        elif held.amount * signed > 0:
            held.entry_price = harmonic_entry(held.amount, held.entry_price, signed, price)
            held.amount += signed
        else:
            closed = min(abs(signed), abs(held.amount)) * (1.0 if held.amount > 0 else -1.0)
            realised_coins = coin_pnl(closed, held.contract_size, held.entry_price, price)
            remaining = held.amount + signed
            if abs(remaining) <= _ZERO:
                del self.positions[instrument.symbol]
            elif remaining * held.amount > 0:
                held.amount = remaining
            else:
                self.positions[instrument.symbol] = PerpPosition(instrument, remaining, price, leverage, size)
        coin = instrument.settle or instrument.base
        self.deposit(coin, realised_coins - fee_coins)
        fee, realised = fee_coins * price, realised_coins * price
        slippage = face * abs(price - reference) / reference
        self.fees_paid += fee
        self.slippage_paid += slippage
        side = "buy" if signed > 0 else "sell"
        return FillReport(instrument.symbol, side, abs(signed), price, face, fee, slippage, realised)

    def _change_position(self, instrument: Instrument, delta: float, price: float, leverage: float) -> float:
        """Apply ``delta`` to a position at ``price``; returns the PnL realised by the reduced part."""
        position = self.positions.get(instrument.symbol)
        if position is None or abs(position.amount) <= _ZERO:
            self.positions[instrument.symbol] = PerpPosition(instrument, delta, price, leverage)
            return 0.0
        old = position.amount
        realised = 0.0
        if old * delta > 0:
            total = old + delta
            position.entry_price = (old * position.entry_price + delta * price) / total
            position.amount = total
            return 0.0
        closed = min(abs(delta), abs(old)) * (1.0 if old > 0 else -1.0)
        if instrument.kind is not InstrumentKind.OPTION:
            realised = closed * (price - position.entry_price)
        remaining = old + delta
        if abs(remaining) <= _ZERO:
            del self.positions[instrument.symbol]
        elif remaining * old > 0:
            position.amount = remaining
        else:
            self.positions[instrument.symbol] = PerpPosition(instrument, remaining, price, leverage)
        return realised

    def accrue_funding(self, symbol: str, rate: float, mark: float) -> float:
        """Settle one funding stamp on ``symbol``; returns what the account paid (negative: received)."""
        position = self.positions.get(symbol)
        if position is None or position.instrument.kind is not InstrumentKind.PERP:
            return 0.0
        if position.instrument.is_inverse:
            payment_coins = rate * position.amount * position.contract_size / mark
            self.deposit(position.instrument.settle or position.instrument.base, -payment_coins)
            self.funding_paid += payment_coins * mark
            return payment_coins * mark
        payment = self.models.funding.payment(position.amount, mark, rate)
        self.deposit(self.base_currency, -payment)
        self.funding_paid += payment
        return payment

    def settle_expired(self, now: datetime, price_at: PriceAtExpiry) -> list[Settlement]:
        """Settle every dated future and option whose expiry is at or before ``now`` (see :mod:`.expiry`).

        Parameters
        ----------
        now:
            The moment time has reached (a bar's close, the paper venue's clock).
        price_at:
            The underlying's price at an instrument's expiry; None leaves the position for a later call
            (the price is not known yet).

        Returns
        -------
        list[Settlement]
            The positions settled, oldest expiry first; each is removed and its cash credited.
        """
        due = [p for p in self.positions.values() if is_expired(p.instrument, now)]
        out: list[Settlement] = []
        for position in sorted(due, key=lambda p: (p.instrument.expires_at, p.instrument.symbol)):
            expired_at = position.instrument.expires_at
            assert expired_at is not None
            price = price_at(position.instrument, expired_at)
            if price is None or not (price > 0.0 and math.isfinite(price)):
                continue
            if position.instrument.is_inverse:
                coins = coin_pnl(position.amount, position.contract_size, position.entry_price, price)
                self.deposit(position.instrument.settle or position.instrument.base, coins)
                cash = coins * price
            else:
                cash = settlement_cash(position.instrument, position.amount, position.entry_price, price)
                self.deposit(self.base_currency, cash)
            del self.positions[position.instrument.symbol]
            out.append(
                Settlement(position.instrument.symbol, position.amount, position.entry_price, expired_at, price, cash)
            )
        return out

    def check_liquidations(
        self, adverse_prices: Mapping[str, tuple[float, float]], market: MarketSnapshot
    ) -> list[Liquidation]:
        """Liquidate every position whose maintenance margin the bar broke.

        Parameters
        ----------
        adverse_prices:
            Symbol -> (low, high) of the bar (the mark's, or the close twice when only that is known).
        market:
            The snapshot now (marks, prices, the markets' margin tiers): liquidation prices are the account
            model's (:func:`trimtab.valuation.accounts.account_margins`: tiered maintenance, isolated or cross
            as the account is margined; an undeclared account is unified and cross).

        Returns
        -------
        list[Liquidation]
            The positions closed, at their liquidation price, paying the taker fee.
        """
        out: list[Liquidation] = []
        for _ in range(len(self.positions)):  # each pass closes one position
            breached = self._breached(adverse_prices, market)
            if breached is None:
                break
            symbol, price = breached
            position = self.positions[symbol]
            amount, entry = position.amount, position.entry_price
            report = self.fill(symbol, -amount, price, slippage_fraction=0.0, contract_size=position.contract_size)
            out.append(Liquidation(symbol, amount, entry, price, report.realised_pnl, report.fee))
        return out

    def _breached(
        self, adverse_prices: Mapping[str, tuple[float, float]], market: MarketSnapshot
    ) -> tuple[str, float] | None:
        """The first position whose bar reached its liquidation price, and that price (None: none did).

        Recomputed after each liquidation: closing one position of a cross account changes the collateral and
        the maintenance margin the others' prices come from. A position whose bar crossed its own price goes
        before one that is past only because its cross account is under maintenance at any of its prices
        (the account model then gives its mark, :attr:`~trimtab.valuation.model.AccountMargin.at_liquidation`):
        that one is closed at the mark if the account is still under maintenance once the others are gone.
        """
        modelled = liquidation_prices(self.to_portfolio(), market)
        at_mark: tuple[str, float] | None = None
        for symbol, position in self.positions.items():
            price = modelled.get(symbol)
            if price is None or symbol not in adverse_prices:
                continue
            if position.instrument.kind not in (InstrumentKind.PERP, InstrumentKind.FUTURE):
                continue
            quote = market.derivatives.get(symbol)
            if quote is not None and price == quote.mark:
                at_mark = at_mark or (symbol, price)
                continue
            low, high = adverse_prices[symbol]
            if low <= price if position.amount > 0 else high >= price:
                return symbol, price
        return at_mark

    def equity(self, prices: Mapping[str, float], marks: Mapping[str, float]) -> float:
        """Spot at ``prices`` + unrealised PnL of futures and perpetuals + options at ``marks``."""
        total = 0.0
        for asset, amount in self.balances.items():
            total += amount * (1.0 if asset == self.base_currency else prices[asset])
        for symbol, p in self.positions.items():
            mark = marks[symbol]
            if p.instrument.kind is InstrumentKind.OPTION:
                total += p.amount * mark
            elif p.instrument.is_inverse:
                total += coin_pnl(p.amount, p.contract_size, p.entry_price, mark) * prices[p.instrument.base]
            else:
                total += p.amount * (mark - p.entry_price)
        return total
