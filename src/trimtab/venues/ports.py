"""The venue port: the one protocol every venue (paper, ccxt) implements, and the values it speaks in.

The API is synchronous on purpose: the run loop places a handful of orders per cycle, and a blocking call
keeps the order lifecycle easy to reason about (one request, one answer, one journal row).

Amounts are in the instrument's own units (coins for spot and linear derivatives); prices are in the quote
currency. Every timestamp is timezone-aware UTC.

Errors a venue raises (all from :mod:`trimtab.errors`):

* :class:`~trimtab.errors.AmbiguousOrderError`: a create may or may not have happened; look the order up
  by its client order id before anything else, never resend blindly.
* :class:`~trimtab.errors.RateLimitedError`, :class:`~trimtab.errors.VenueUnavailableError`: passing faults.
* :class:`~trimtab.errors.OrderRejectedError`, :class:`~trimtab.errors.PositionModeError`,
  :class:`~trimtab.errors.AuthenticationError`: definitive; a person has to look.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from trimtab.domain import Instrument, MarketRules, Side

__all__ = [
    "Fill",
    "LeverageSetting",
    "OrderRequest",
    "OrderState",
    "OrderStatus",
    "OrderType",
    "Side",
    "Ticker",
    "TransferCapable",
    "TransferRequest",
    "TransferState",
    "Venue",
    "VenueMarginTier",
    "VenueMarket",
    "VenuePosition",
    "Wallet",
]


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class OrderStatus(StrEnum):
    """The life of an order. ``NEW`` is accepted but not yet resting; the last four are final."""

    NEW = "new"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        """Whether the order can no longer change (filled, canceled, rejected or expired)."""
        return self in _FINAL

    @property
    def is_open(self) -> bool:
        """Whether the order may still fill."""
        return self not in _FINAL


_FINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


@dataclass(frozen=True)
class OrderRequest:
    """An order to place.

    ``client_order_id`` is chosen by trimtab and journaled before the request leaves, so an ambiguous
    outcome can be resolved by looking the order up. ``amount`` is positive, in instrument units
    (coins for spot and linear derivatives); ``price`` is required for limit orders.
    """

    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    amount: float
    price: float | None = None
    reduce_only: bool = False
    post_only: bool = False


@dataclass(frozen=True)
class OrderState:
    """What the venue says of an order now. ``filled`` and ``fee`` are cumulative."""

    client_order_id: str
    exchange_order_id: str | None
    symbol: str
    side: Side
    type: OrderType
    amount: float
    price: float | None
    filled: float
    average_price: float | None
    fee: float
    fee_currency: str | None
    status: OrderStatus
    timestamp: datetime | None

    @property
    def remaining(self) -> float:
        """The amount still to fill (0 once the order is final)."""
        if self.status.is_final:
            return 0.0
        return max(self.amount - self.filled, 0.0)


@dataclass(frozen=True)
class Fill:
    """One execution; ``trade_id`` is unique per venue and symbol, so fills are applied once each."""

    trade_id: str
    client_order_id: str | None
    exchange_order_id: str
    symbol: str
    side: Side
    amount: float
    price: float
    fee: float
    fee_currency: str | None
    timestamp: datetime


@dataclass(frozen=True)
class VenuePosition:
    """An open derivative position: ``amount`` is signed (negative = short), in the instrument's units
    (base coin for linear contracts, contracts for inverse ones).

    ``leverage`` is the position's real leverage as the venue keeps it (never assumed);
    ``liquidation_price`` the venue's own, which takes precedence over any computed one; ``margin_mode``
    ``"cross"`` or ``"isolated"`` where the venue says.
    """

    symbol: str
    amount: float
    entry_price: float
    leverage: float
    mark_price: float | None
    liquidation_price: float | None
    margin_mode: str | None = None


@dataclass(frozen=True)
class VenueMarginTier:
    """One maintenance-margin tier (Binance's leverage bracket) of a derivative market.

    ``floor`` and ``cap`` bound the position's size and ``amount`` is the maintenance amount (Binance's
    ``cum``), all in ``currency``: the quote for linear markets (notional), the coin for inverse ones
    (Binance's COIN-M brackets are quantities of the coin). Maintenance margin = size x ``rate`` - ``amount``;
    a position in the tier may hold at most ``max_leverage``.
    """

    floor: float
    cap: float | None
    rate: float
    amount: float
    max_leverage: float | None
    currency: str


Wallet = str
"""A wallet of one exchange account, by ccxt's account name: ``spot``, ``linear`` (Binance USD-M),
``inverse`` (Binance COIN-M), ``unified``..."""


@dataclass(frozen=True)
class TransferRequest:
    """Move ``amount`` of ``asset`` from one wallet of the exchange to another.

    ``transfer_id`` is trimtab's, journaled before the request leaves (exchanges such as Binance take no
    client id for transfers: an ambiguous answer is resolved from the transfer history).
    """

    transfer_id: str
    asset: str
    amount: float
    from_wallet: Wallet
    to_wallet: Wallet


@dataclass(frozen=True)
class TransferState:
    """A transfer as the exchange reports it; ``status`` is ``ok``, ``pending`` or ``failed``."""

    exchange_id: str | None
    asset: str
    amount: float
    from_wallet: Wallet
    to_wallet: Wallet
    status: str
    timestamp: datetime | None


@dataclass(frozen=True)
class LeverageSetting:
    """The leverage and margin mode an account has set for a derivative market."""

    symbol: str
    leverage: float | None
    margin_mode: str | None


@dataclass(frozen=True)
class Ticker:
    """Best bid and ask, last trade and (for derivatives) mark price; ``iv``: an option's implied volatility."""

    symbol: str
    bid: float
    ask: float
    last: float
    mark: float | None
    timestamp: datetime
    iv: float | None = None

    @property
    def mid(self) -> float:
        """The mid price, or ``last`` when one side of the book is missing."""
        if self.bid > 0 and self.ask > 0:
            return (self.bid + self.ask) / 2.0
        return self.last


@dataclass(frozen=True)
class VenueMarket:
    """A market the venue lists: its instrument and its lot-size and notional rules."""

    symbol: str
    instrument: Instrument
    rules: MarketRules


@runtime_checkable
class Venue(Protocol):
    """A place to trade. Every implementation passes ``tests/integration/venues/test_venue_contract.py``."""

    name: str

    def load_markets(self) -> dict[str, VenueMarket]:
        """The markets the venue lists, keyed by ccxt unified symbol."""
        ...

    def fetch_balances(self) -> dict[str, float]:
        """The total balance per asset (free plus locked in orders); zero balances may be left out.

        For a derivatives account this is the wallet balance: realised, without unrealised PnL, which the
        positions carry (entry price against mark), so that equity counts it once.
        """
        ...

    def fetch_positions(self) -> list[VenuePosition]:
        """Open derivative positions (amount not zero)."""
        ...

    def fetch_tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        """Tickers for the given symbols, keyed by symbol."""
        ...

    def fetch_funding_rates(self, symbols: Sequence[str]) -> dict[str, tuple[float, float]]:
        """Per perpetual symbol: (funding rate per interval, interval in hours)."""
        ...

    def create_order(self, request: OrderRequest) -> OrderState:
        """Place an order. Never retried automatically.

        Raises
        ------
        AmbiguousOrderError
            The request may have reached the venue (timeout, 5xx, disconnect after sending).
        OrderRejectedError
            A definitive refusal: insufficient funds, below the minimum, invalid order.
        """
        ...

    def cancel_order(self, client_order_id: str, symbol: str) -> OrderState:
        """Cancel an order; returns its state after the cancel (it may have filled in the meantime)."""
        ...

    def fetch_order(self, client_order_id: str, symbol: str) -> OrderState | None:
        """The order with this client id, or None when the venue does not know it (evidence, not proof)."""
        ...

    def fetch_open_orders(self, symbol: str | None = None) -> list[OrderState]:
        """Orders that may still fill, on one symbol or on all."""
        ...

    def fetch_fills(self, symbol: str, since: datetime | None = None) -> list[Fill]:
        """Executions on a symbol since a moment, oldest first, each trade id once."""
        ...

    def set_leverage(self, symbol: str, leverage: float) -> None:
        """Set a derivative's leverage; setting the current value again is a success."""
        ...

    def close(self) -> None:
        """Release connections; the venue is not used afterwards."""
        ...


@runtime_checkable
class TransferCapable(Protocol):
    """A venue that can move assets between the wallets of its exchange account and find a transfer again (by
    trimtab's transfer id where the exchange keeps one, ``keeps_transfer_ids``; else among the exchange's
    transfers)."""

    name: str

    @property
    def keeps_transfer_ids(self) -> bool: ...

    def transfer(self, request: TransferRequest) -> TransferState: ...

    def fetch_transfer(
        self, transfer_id: str, asset: str, from_wallet: str, to_wallet: str, since: datetime | None = None
    ) -> TransferState | None: ...

    def fetch_transfers(
        self, asset: str, from_wallet: str, to_wallet: str, since: datetime | None = None
    ) -> list[TransferState]: ...
