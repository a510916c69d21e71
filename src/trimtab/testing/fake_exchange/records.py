"""The fake exchange's records: a market (filters, book, brackets), an order and a trade."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trimtab.testing.fake_exchange.brackets import BTCUSD_PERP, BTCUSDT, Bracket

Family = Literal["spot", "usdm", "coinm"]

_FINAL = frozenset({"FILLED", "CANCELED", "REJECTED", "EXPIRED"})


@dataclass
class MarketSpec:
    """One market of the fake: exchange id (``BTCUSDT``), assets, filters and the current book.

    ``percent_price_by_side`` is ``(bidMultiplierUp, bidMultiplierDown, askMultiplierUp, askMultiplierDown)``
    and ``percent_price`` ``(multiplierUp, multiplierDown)``; by default a spot market has Binance's
    ``PERCENT_PRICE_BY_SIDE`` of its major pairs (5, 0.2, 5, 0.2) and a futures market its ``PERCENT_PRICE``
    (1.05, 0.95). ``brackets`` default to the published BTCUSDT (USD-M) and BTCUSD_PERP (COIN-M) tables.
    COIN-M amounts are contracts of ``contract_size`` USD.
    """

    family: Family
    id: str
    base: str
    quote: str
    price: float
    amount_step: str = "0.00001"
    min_amount: str = "0.00001"
    max_amount: str = "9000000"
    tick: str = "0.01"
    min_price: str = ""
    max_price: str = "10000000"
    min_notional: float = 5.0
    spread: float = 0.0002
    funding_rate: float = 0.0001
    funding_interval_hours: int = 8
    mark: float | None = None
    contract_size: float = 1.0
    percent_price: tuple[float, float] | None = None
    percent_price_by_side: tuple[float, float, float, float] | None = None
    brackets: tuple[Bracket, ...] = ()

    def __post_init__(self) -> None:
        if self.family == "spot" and self.percent_price_by_side is None and self.percent_price is None:
            self.percent_price_by_side = (5.0, 0.2, 5.0, 0.2)
        if self.family != "spot" and self.percent_price is None:
            self.percent_price = (1.05, 0.95)
        if self.family != "spot" and not self.brackets:
            self.brackets = BTCUSD_PERP if self.family == "coinm" else BTCUSDT

    @property
    def bid(self) -> float:
        return self.price * (1.0 - self.spread / 2.0)

    @property
    def ask(self) -> float:
        return self.price * (1.0 + self.spread / 2.0)

    @property
    def mark_price(self) -> float:
        return self.mark if self.mark is not None else self.price


@dataclass
class FakeOrder:
    family: Family
    order_id: int
    client_order_id: str
    symbol: str
    side: str  # BUY | SELL
    type: str  # LIMIT | MARKET | LIMIT_MAKER
    time_in_force: str
    amount: float
    price: float | None
    reduce_only: bool
    created_ms: int
    visible_after: float = 0.0  # monotonic seconds; invisible to queries before
    filled: float = 0.0
    quote_filled: float = 0.0
    coin_filled: float = 0.0  # COIN-M: the coins the filled contracts were worth at their fill prices
    contract_size: float = 1.0
    fee: float = 0.0
    status: str = "NEW"
    updated_ms: int = 0

    @property
    def is_open(self) -> bool:
        return self.status not in _FINAL

    @property
    def average_price(self) -> float:
        if self.family == "coinm":  # inverse contracts average harmonically
            return self.filled * self.contract_size / self.coin_filled if self.coin_filled > 0 else 0.0
        return self.quote_filled / self.filled if self.filled > 0 else 0.0


@dataclass
class FakeTrade:
    family: Family
    trade_id: int
    order_id: int
    symbol: str
    side: str
    amount: float
    price: float
    fee: float
    fee_asset: str
    maker: bool
    time_ms: int
    realized_pnl: float = 0.0
    contract_size: float = 1.0
