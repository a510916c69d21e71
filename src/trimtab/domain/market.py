"""A market snapshot: spot prices, derivative marks and funding, volatilities and venue rules."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DerivativeQuote:
    """What the market says of one derivative.

    ``funding_rate`` is per funding interval (0.0001 = 0.01 % every ``funding_interval_hours``);
    positive means longs pay shorts. ``iv`` is an option's annualised implied volatility.
    """

    mark: float
    funding_rate: float = 0.0
    funding_interval_hours: float = 8.0
    iv: float | None = None

    @property
    def funding_per_day(self) -> float:
        """The funding rate per day (rate x settlements per day)."""
        return self.funding_rate * 24.0 / self.funding_interval_hours


@dataclass(frozen=True, slots=True)
class MarginTier:
    """One tier of a market's margin table, as ccxt's ``fetch_leverage_tiers`` gives it.

    A position whose notional (in the quote currency) is at least ``floor`` and below the next tier's
    floor has maintenance margin ``notional x rate - amount`` and may be opened at up to
    ``max_leverage``. ``amount`` keeps the maintenance margin continuous across floors.

    An inverse (coin-margined) market's tiers are counted in its settlement coin, as Binance's COIN-M
    brackets (``qtyFloor``, ``qtyCap``, ``cum``) and ccxt's ``fetch_leverage_tiers`` give them: ``floor`` and
    ``amount`` are coins and the size looked up is ``|contracts| x contract size / mark`` coins.
    """

    floor: float
    rate: float
    amount: float = 0.0
    max_leverage: float = math.inf


@dataclass(frozen=True, slots=True)
class MarketRules:
    """A venue's rules for one market: lot size, minimum amount and notional, contract size, margin tiers.

    ``amount_step`` 0 means amounts are not rounded; ``min_notional`` is in the quote currency.
    ``margin_tiers`` are sorted by floor, the first at floor 0; empty means the flat default rate.
    """

    amount_step: float = 0.0
    min_amount: float = 0.0
    min_notional: float = 0.0
    contract_size: float = 1.0
    margin_tiers: tuple[MarginTier, ...] = ()


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Prices at one moment, in the base currency (whose own price is 1)."""

    timestamp: datetime
    prices: Mapping[str, float]
    derivatives: Mapping[str, DerivativeQuote] = field(default_factory=dict)
    volatility: Mapping[str, float] = field(default_factory=dict)
    markets: Mapping[str, MarketRules] = field(default_factory=dict)

    def price(self, asset: str, base_currency: str) -> float:
        """The price of ``asset`` in ``base_currency``.

        Raises
        ------
        KeyError
            If the snapshot has no price for the asset (input validation rules this out upstream).
        """
        if asset == base_currency:
            return self.prices.get(asset, 1.0)
        return self.prices[asset]

    def quote(self, symbol: str) -> DerivativeQuote:
        """The quote of a derivative; raises KeyError if the snapshot has none."""
        return self.derivatives[symbol]

    def rules(self, symbol: str) -> MarketRules | None:
        return self.markets.get(symbol)

    def margin_tiers(self, symbol: str) -> tuple[MarginTier, ...]:
        """The market's margin tiers, empty when the snapshot lists none."""
        rules = self.markets.get(symbol)
        return rules.margin_tiers if rules is not None else ()
