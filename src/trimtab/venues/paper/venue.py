"""The paper venue: the backtest's simulated exchange running on a price feed, behind the Venue port.

Balances, positions, fees, slippage, funding, expiry, margin and liquidation are
:mod:`trimtab.venues.simulation`'s, so a paper run and a backtest of the same policy over the same bars give
the same numbers. On top of that account this module adds what an exchange has and a backtest does not:
orders with client ids, a touch with a spread and finite depth, resting limit orders, partial fills, trade
ids, reduce-only, and transfers between the wallets of one exchange (:mod:`.transfers`).

Rules (deterministic; applied at the start of every call, i.e. as time passes):

* The touch is ``reference x (1 -/+ half_spread)`` (the spot close or the mark; the slippage model's
  fraction for a zero-size order). A market order fills at once, as a taker, at the slippage model's price;
  a limit order that crosses the touch fills at once as a taker, up to ``touch_depth`` (quote notional).
* A resting limit order fills only once the market has traded through it, at its limit price, as a maker
  (:mod:`.matching`): a fill is never better than the market was.
* Funding is paid at the feed's settlements (a replay: the funding file's own stamps, as the backtest);
  dated futures and options settle at expiry at the underlying's price (the account's ``settlements``
  record, the journal's ``settlement`` decision through ``on_settlement``); positions are liquidated at the
  account model's liquidation price.

The account is saved in the ``--state`` store after every change, in one transaction, so a crash leaves it
before or after an order, never half-way. The paper venue makes no network call at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Side
from trimtab.domain.portfolio import Portfolio
from trimtab.errors import OrderRejectedError, TransferRejectedError
from trimtab.venues.paper.book import PaperBook
from trimtab.venues.paper.feed import PriceFeed
from trimtab.venues.paper.funds import check_funds, check_min_notional, check_request, reduce_only_amount
from trimtab.venues.paper.listing import listed_markets, open_positions
from trimtab.venues.paper.matching import match_resting
from trimtab.venues.paper.persistence import AccountStore, MemoryStore, iso, parse_time
from trimtab.venues.paper.transfers import PaperTransferDesk
from trimtab.venues.ports import (
    Fill,
    OrderRequest,
    OrderState,
    OrderStatus,
    OrderType,
    Ticker,
    TransferRequest,
    TransferState,
    VenueMarket,
    VenuePosition,
)
from trimtab.venues.simulation import Liquidity, RealityModels, Settlement
from trimtab.venues.simulation.margin import Liquidation
from trimtab.venues.simulation.slippage import BarConditions

PAPER_ACCOUNT_KEY = "paper_account"
DEFAULT_TOUCH_DEPTH = 250_000.0
"""Quote notional available at the touch per matching step (a liquid major's top of book)."""
_EPS = 1e-12


class PaperVenue:
    """A simulated exchange account on a price feed (spot and linear perpetuals and futures).

    Parameters
    ----------
    feed:
        The prices (:class:`~trimtab.venues.paper.feed.FixedFeed` or :class:`~trimtab.venues.paper.feed.ReplayFeed`).
    base_currency:
        The quote of every market and the currency fees and PnL are paid in.
    models:
        Fees, slippage, funding and margin (usually ``RealityModels.from_costs(policy.costs)``).
    store:
        Where the account lives (a :class:`~trimtab.storage.state.StateStore` for ``--state``).
    initial:
        The balances and positions of a new account (read on the first start only).
    clock:
        The time for a fixed feed; a replaying feed's time is its bar's close.
    touch_depth:
        Quote notional a limit order can fill per matching step.
    on_settlement:
        Called with each expiry settlement and the time it was noticed, after the account is saved.
    on_liquidation:
        Called with each forced close of a position and the time it was noticed, after the account is saved.
    key:
        The store key of this account (one per wallet when several paper accounts share a store).
    account:
        The portfolio account (venue) this paper account simulates, holding only that venue's rows and
        margined as the portfolio declares it; None merges every venue into one account, margined as the
        contract's account of a venue without an ``[[account]]`` table (unified, cross, the base currency at 1.0).
    """

    def __init__(
        self,
        feed: PriceFeed,
        *,
        base_currency: str,
        models: RealityModels | None = None,
        store: AccountStore | Any | None = None,
        initial: Portfolio | None = None,
        clock: Callable[[], datetime] | None = None,
        touch_depth: float = DEFAULT_TOUCH_DEPTH,
        name: str = "paper",
        on_settlement: Callable[[Settlement, datetime], None] | None = None,
        on_liquidation: Callable[[Liquidation, datetime], None] | None = None,
        key: str = PAPER_ACCOUNT_KEY,
        account: str | None = None,
    ) -> None:
        self.name = name
        self.on_settlement = on_settlement
        self.on_liquidation = on_liquidation
        self.key = key
        self.desk: PaperTransferDesk | None = None
        self.feed = feed
        self.base_currency = base_currency
        self.models = models or RealityModels()
        self.store = store if store is not None else MemoryStore()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.touch_depth = touch_depth
        document = self.store.get(key)
        if document is None:
            self.book = PaperBook.new(initial or Portfolio(base_currency), self.models, self._now(), account)
        else:
            self.book = PaperBook.from_document(document, self.models, self._now())
        # The book's containers, under the names an exchange account would use.
        self.account = self.book.account
        self.orders = self.book.orders
        self.trades = self.book.trades
        self.leverage = self.book.leverage
        if document is None:
            self._save()

    # -- persistence ---------------------------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        """The account as the JSON document kept in the store."""
        return self.book.to_document()

    def _save(self) -> None:
        self.store.set(self.key, self.document())

    # -- prices and time -----------------------------------------------------------------------------
    def _now(self) -> datetime:
        if self.feed.replaying:
            return self.feed.snapshot().timestamp
        return self.clock()

    def _half_spread(self) -> float:
        return self.models.slippage.fraction(0.0, BarConditions())

    def _reference(self, symbol: str, market: MarketSnapshot) -> float:
        instrument = parse_symbol(symbol)
        if instrument.kind is InstrumentKind.SPOT:
            if instrument.quote != self.base_currency:
                raise OrderRejectedError(f"{symbol}: the paper venue quotes every market in {self.base_currency}")
            price = market.prices.get(instrument.base)
        else:
            quote = market.derivatives.get(symbol)
            price = None if quote is None else quote.mark
        if price is None or not (price > 0 and math.isfinite(price)):
            raise OrderRejectedError(f"{symbol}: the paper venue has no price for it")
        return float(price)

    def _touch(self, symbol: str, market: MarketSnapshot) -> tuple[float, float, float]:
        reference = self._reference(symbol, market)
        half = self._half_spread()
        return reference * (1.0 - half), reference * (1.0 + half), reference

    # -- the port --------------------------------------------------------------------------------------
    def load_markets(self) -> dict[str, VenueMarket]:
        return listed_markets(self.feed.snapshot(), self.base_currency, self._now())

    def fetch_balances(self) -> dict[str, float]:
        self._sync()
        return {asset: amount for asset, amount in self.account.balances.items() if abs(amount) > _EPS}

    def fetch_positions(self) -> list[VenuePosition]:
        self._sync()
        return open_positions(self.account, self.feed.snapshot())

    def fetch_tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        market = self.feed.snapshot()
        now = self._now()
        out: dict[str, Ticker] = {}
        for symbol in symbols:
            try:
                bid, ask, reference = self._touch(symbol, market)
            except OrderRejectedError:
                continue
            quote = market.derivatives.get(symbol)
            mark, iv = (None, None) if quote is None else (quote.mark, quote.iv)
            out[symbol] = Ticker(symbol, bid, ask, reference, mark, now, iv)
        return out

    def fetch_funding_rates(self, symbols: Sequence[str]) -> dict[str, tuple[float, float]]:
        market = self.feed.snapshot()
        return {
            s: (market.derivatives[s].funding_rate, market.derivatives[s].funding_interval_hours)
            for s in symbols
            if s in market.derivatives
        }

    def set_leverage(self, symbol: str, leverage: float) -> None:
        if not leverage > 0:
            raise OrderRejectedError(f"{symbol}: leverage must be positive")
        self.leverage[symbol] = float(leverage)
        self._save()

    def create_order(self, request: OrderRequest) -> OrderState:
        self._sync()
        if request.client_order_id in self.orders:
            raise OrderRejectedError(f"duplicate client order id {request.client_order_id}")
        markets = self.load_markets()
        rules = check_request(request, markets)
        market = self.feed.snapshot()
        bid, ask, reference = self._touch(request.symbol, market)
        amount = reduce_only_amount(self.account, request)
        unit = rules.contract_size if markets[request.symbol].instrument.is_inverse else (request.price or reference)
        check_min_notional(request.symbol, amount * unit, rules)
        signed = amount if request.side is Side.BUY else -amount
        crosses = request.type is OrderType.MARKET or (
            request.price is not None
            and (
                (request.side is Side.BUY and request.price >= ask)
                or (request.side is Side.SELL and request.price <= bid)
            )
        )
        if request.post_only and crosses:
            raise OrderRejectedError(f"{request.symbol}: a post-only order would take liquidity")
        worst = ask if request.side is Side.BUY else bid
        price_for_funds = worst if request.type is OrderType.MARKET else float(request.price or worst)
        check_funds(
            self.account,
            self.orders,
            self.leverage,
            market,
            (request.symbol, signed, price_for_funds, reference),
            rules.contract_size,
        )
        self.book.order_seq += 1
        now = self._now()
        order: dict[str, Any] = {
            "client_order_id": request.client_order_id,
            "exchange_order_id": f"P{self.book.order_seq}",
            "symbol": request.symbol,
            "side": request.side.value,
            "type": request.type.value,
            "amount": amount,
            "price": request.price,
            "filled": 0.0,
            "cost": 0.0,
            "fee": 0.0,
            "status": OrderStatus.OPEN.value,
            "reduce_only": request.reduce_only,
            "timestamp": iso(now),
            "contract_size": rules.contract_size,
        }
        self.orders[request.client_order_id] = order
        if request.type is OrderType.MARKET:
            self.book.execute(order, amount, reference, Liquidity.TAKER, None, now)
            order["status"] = OrderStatus.FILLED.value
        elif crosses:
            # A marketable limit takes what the touch offers, never worse than its limit.
            take = min(amount, self.touch_depth / worst)
            self.book.execute(order, take, reference, Liquidity.TAKER, None, now)
        self.book.settle_status(order)
        self._save()
        return self.book.order_state(order)

    def cancel_order(self, client_order_id: str, symbol: str) -> OrderState:
        self._sync()
        order = self.orders.get(client_order_id)
        if order is None or order["symbol"] != symbol:
            raise OrderRejectedError(f"order {client_order_id} not found on {symbol}")
        if OrderStatus(order["status"]).is_open:
            order["status"] = OrderStatus.CANCELED.value
            self._save()
        return self.book.order_state(order)

    def fetch_order(self, client_order_id: str, symbol: str) -> OrderState | None:
        self._sync()
        order = self.orders.get(client_order_id)
        if order is None or order["symbol"] != symbol:
            return None
        return self.book.order_state(order)

    def fetch_open_orders(self, symbol: str | None = None) -> list[OrderState]:
        self._sync()
        return [
            self.book.order_state(o)
            for o in self.orders.values()
            if OrderStatus(o["status"]).is_open and (symbol is None or o["symbol"] == symbol)
        ]

    def fetch_fills(self, symbol: str, since: datetime | None = None) -> list[Fill]:
        self._sync()
        out = []
        for t in self.trades:
            moment = parse_time(t["timestamp"]) or self._now()
            if t["symbol"] != symbol or (since is not None and moment < since):
                continue
            out.append(
                Fill(
                    t["trade_id"],
                    t["client_order_id"],
                    t["exchange_order_id"],
                    t["symbol"],
                    Side(t["side"]),
                    t["amount"],
                    t["price"],
                    t["fee"],
                    self.base_currency,
                    moment,
                )
            )
        return out

    def close(self) -> None:
        """Nothing to release: the account is saved after every change."""

    # -- transfers between the wallets of one simulated exchange ----------------------------------------
    def transfer(self, request: TransferRequest) -> TransferState:
        """Move an asset between two wallets of this account's exchange (see :mod:`.transfers`).

        Raises
        ------
        TransferRejectedError
            Without other wallets, or as the desk refuses (unknown wallet, more than may leave).
        """
        if self.desk is None:
            raise TransferRejectedError(f"{self.name}: a single paper account has no other wallet")
        return self.desk.transfer(request)

    keeps_transfer_ids = True
    """The desk's ledger keeps trimtab's transfer id with each transfer (as Bybit keeps its ``transferId``)."""

    def fetch_transfer(
        self, transfer_id: str, asset: str, from_wallet: str, to_wallet: str, since: datetime | None = None
    ) -> TransferState | None:
        return None if self.desk is None else self.desk.lookup(transfer_id)

    def fetch_transfers(
        self, asset: str, from_wallet: str, to_wallet: str, since: datetime | None = None
    ) -> list[TransferState]:
        return [] if self.desk is None else self.desk.history(asset, from_wallet, to_wallet, since)

    def sync(self) -> None:
        """Let time pass (funding, expiries, liquidations, resting orders) and save what changed."""
        self._sync()

    def fill_order(self, client_order_id: str, amount: float | None = None) -> OrderState:
        """Fill a resting limit order at its price, as the market would (``amount`` None: all of it).

        For tests and demonstrations: the equivalent of another trader taking the order.
        """
        order = self.orders.get(client_order_id)
        if order is None or not OrderStatus(order["status"]).is_open or order["price"] is None:
            raise OrderRejectedError(f"order {client_order_id} is not resting")
        remaining = order["amount"] - order["filled"]
        take = remaining if amount is None else min(amount, remaining)
        price = float(order["price"])
        self.book.execute(order, take, price, Liquidity.MAKER, price, self._now())
        self.book.settle_status(order)
        self._save()
        return self.book.order_state(order)

    # -- views used by the run loop and the tests -------------------------------------------------------
    def apply_cash_flow(self, flow_id: int, amount: float) -> bool:
        """Credit a deposit (``amount`` > 0) or debit a withdrawal of the base currency, once per journal id.

        A withdrawal beyond the base-currency balance leaves it negative until the steered sales settle (the
        flow's own cycle). Returns False when the flow ``flow_id`` was credited already (a restarted run).
        """
        if flow_id <= self.book.flows_applied:
            return False
        self.account.deposit(self.base_currency, amount)
        self.book.flows_applied = flow_id
        self._save()
        return True

    def portfolio(self) -> Portfolio:
        """The account as a core portfolio (venue name ``paper``)."""
        return self.account.to_portfolio()

    def equity(self) -> float:
        market = self.feed.snapshot()
        marks = {s: q.mark for s, q in market.derivatives.items()}
        return self.account.equity(market.prices, marks)

    # -- internals -----------------------------------------------------------------------------------
    def _sync(self) -> None:
        """Let time pass: settle funding and expiries, liquidate, and match resting orders against the touch."""
        market = self.feed.snapshot()
        now = self._now()
        changed = self.book.settle_funding(self.feed, market, now)
        settlements = self.book.settle_expiries(self.feed, now)
        changed = bool(settlements) or changed
        liquidations = self.book.liquidate(market, now)
        changed = bool(liquidations) or changed
        changed = (
            match_resting(
                self.book, lambda symbol, since: self.feed.traded_range(symbol, since, now), self.touch_depth, now
            )
            or changed
        )
        if changed:
            self._save()
        if self.on_settlement is not None:
            # Recorded once the account that holds them is saved.
            for settlement in settlements:
                self.on_settlement(settlement, now)
        if self.on_liquidation is not None:
            for liquidation in liquidations:
                self.on_liquidation(liquidation, now)
