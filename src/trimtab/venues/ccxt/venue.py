"""The ccxt venue: a typed adapter over ccxt's synchronous client (Binance spot and USD-M, and others).

Features are gated on the exchange's static ``has[...]`` capabilities. Orders are placed and followed in
:mod:`~trimtab.venues.ccxt.orders`; every call goes through :mod:`~trimtab.venues.ccxt.calls` (one rate limiter
per key, reads and cancels retried with bounded backoff and jitter, creates never, ccxt's errors translated).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

import ccxt

from trimtab.errors import BadInputError, OrderRejectedError, PositionModeError
from trimtab.venues.ccxt import margin, market_reads, parsing, transfers
from trimtab.venues.ccxt.calls import ExchangeCalls
from trimtab.venues.ccxt.credentials import Credentials, RedactingLogger
from trimtab.venues.ccxt.orders import CcxtOrders
from trimtab.venues.ccxt.retry import RateLimiter, RetryPolicy, shared_limiter
from trimtab.venues.exchange_rules import ExchangeRules
from trimtab.venues.ports import (
    Fill,
    LeverageSetting,
    OrderRequest,
    OrderState,
    Ticker,
    TransferRequest,
    TransferState,
    VenueMarginTier,
    VenueMarket,
    VenuePosition,
)

PositionMode = Literal["one-way", "hedge"]


class CcxtVenue:
    """A :class:`~trimtab.venues.ports.Venue` backed by a ccxt exchange instance.

    Parameters
    ----------
    exchange:
        A configured ccxt sync exchange (see :func:`build_ccxt_venue`).
    credentials:
        The keys the exchange was built with; used to redact them from messages and logs.
    position_mode:
        The configured position mode, checked against the account before derivatives are traded. Only
        ``"one-way"`` is supported (hedge mode needs a position side on every order).
    margin_mode:
        ``"cross"`` or ``"isolated"`` to set with the leverage, or None to leave the account's.
    rules:
        The exchange's rules (client id format, account-wide margin mode), or None for none.
    """

    def __init__(
        self,
        exchange: Any,
        *,
        credentials: Credentials | None = None,
        name: str | None = None,
        position_mode: PositionMode = "one-way",
        margin_mode: str | None = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
        rules: ExchangeRules | None = None,
    ) -> None:
        self._exchange = exchange
        self._rules = rules
        self._credentials = credentials
        self.name = name or str(exchange.id)
        if position_mode != "one-way":
            # hedge mode needs positionSide on every order and changes what reduceOnly means: not supported
            raise BadInputError("position_mode", "", f"{position_mode!r}: trimtab trades in one-way mode only")
        self._position_mode = position_mode
        self._margin_mode = margin_mode
        # ccxt's weighted limiter, when on, already spaces requests: ours then only keeps the venue's pauses.
        spacing = 0.0 if getattr(exchange, "enableRateLimit", False) else float(exchange.rateLimit or 0) / 1000.0
        self._limiter = limiter or shared_limiter(
            str(exchange.id), credentials.api_key if credentials else None, spacing
        )
        self._calls = ExchangeCalls(
            exchange,
            name=self.name,
            rules=rules,
            redact=self._redact,
            retry=retry or RetryPolicy(),
            limiter=self._limiter,
            sleep=sleep,
            seed=seed,
        )
        self._markets: dict[str, VenueMarket] | None = None
        self._position_mode_checked = False
        self.fills_page_size = 500  # Binance's default page of trades
        self._orders = CcxtOrders(
            exchange, name=self.name, rules=rules, calls=self._calls, markets=self._raw_markets, redact=self._redact
        )
        exchange.logger = RedactingLogger(logging.getLogger("ccxt.base.exchange"), self._redact)

    def __repr__(self) -> str:
        keys = "set" if self._credentials else "none"
        return f"CcxtVenue(name={self.name!r}, exchange={self._exchange.id!r}, keys={keys})"

    # ------------------------------------------------------------------ markets and account
    def load_markets(self) -> dict[str, VenueMarket]:
        raw = self._calls.read("load_markets", self._exchange.load_markets)
        mode = int(getattr(self._exchange, "precisionMode", ccxt.TICK_SIZE))
        markets = {}
        for market in raw.values():
            parsed = parsing.parse_market(market, mode)
            if parsed is not None:
                markets[parsed.symbol] = parsed
        self._markets = self._with_tiers(markets)
        self._check_position_mode()
        return dict(self._markets)

    def _with_tiers(self, markets: dict[str, VenueMarket]) -> dict[str, VenueMarket]:
        if self._credentials is None:  # the tiers are a private read
            return markets
        return margin.with_rule_tiers(self._exchange, markets, dict(self._exchange.markets or {}), self._calls.read)

    def fetch_balances(self) -> dict[str, float]:
        balance = self._calls.read("fetch_balance", self._exchange.fetch_balance)
        totals = dict(balance.get("total") or {})
        # a derivatives account's ccxt total includes unrealised PnL, which positions already carry
        totals.update(parsing.wallet_balances(balance.get("info")))
        balances = {str(asset): parsing.number(raw, 0.0) or 0.0 for asset, raw in totals.items()}
        return {asset: value for asset, value in balances.items() if value != 0.0}

    def fetch_positions(self) -> list[VenuePosition]:
        by_settle = self._rules is not None and self._rules.positions_by_settle_coin
        positions = margin.read_positions(
            self._exchange, self._raw_markets(), self.name, self._calls.read, by_settle=by_settle
        )
        if positions and self._rules is not None and self._rules.account_margin_mode:
            positions = margin.with_account_margin_mode(self._exchange, positions, self._calls.read)
        return positions

    def fetch_leverage_settings(self, symbols: Sequence[str]) -> dict[str, LeverageSetting]:
        """The account's leverage and margin mode per derivative symbol, as the exchange keeps them."""
        return margin.read_leverage_settings(self._exchange, self._raw_markets(), symbols, self._calls.read)

    def fetch_margin_tiers(self, symbols: Sequence[str]) -> dict[str, tuple[VenueMarginTier, ...]]:
        """Maintenance-margin tiers per derivative symbol (ccxt ``fetch_leverage_tiers``), lowest first."""
        return margin.read_margin_tiers(self._exchange, self._raw_markets(), symbols, self._calls.read)

    def fetch_tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        groups = self._groups(symbols)
        return market_reads.read_tickers(self._exchange, groups, self._raw_markets(), self._calls.read)

    def fetch_funding_rates(self, symbols: Sequence[str]) -> dict[str, tuple[float, float]]:
        wanted = [s for s in symbols if self._raw_markets().get(s, {}).get("swap")]
        if not wanted:
            return {}
        return market_reads.read_funding(self._exchange, self._groups(wanted), self._calls.read)

    # ------------------------------------------------------------------ orders
    def create_order(self, request: OrderRequest) -> OrderState:
        market = self._raw_markets().get(request.symbol)
        if market is None:
            raise OrderRejectedError(f"{self.name}: {request.symbol} is not a market of this venue")
        if market.get("contract"):
            self._check_position_mode()
        return self._orders.create(request, market, lambda: self._reference_price(request.symbol))

    def cancel_order(self, client_order_id: str, symbol: str) -> OrderState:
        return self._orders.cancel(client_order_id, symbol)

    def fetch_order(self, client_order_id: str, symbol: str) -> OrderState | None:
        return self._orders.fetch(client_order_id, symbol)

    def fetch_open_orders(self, symbol: str | None = None) -> list[OrderState]:
        return self._orders.open_orders(symbol)

    def fetch_fills(self, symbol: str, since: datetime | None = None) -> list[Fill]:
        return self._orders.fills(symbol, since, self.fills_page_size)

    def set_leverage(self, symbol: str, leverage: float) -> None:
        if self._margin_mode is not None and self._exchange.has.get("setMarginMode"):
            self._calls.ignoring_no_change(
                "set_margin_mode", lambda: self._exchange.set_margin_mode(self._margin_mode, symbol)
            )
        if not self._exchange.has.get("setLeverage"):
            raise OrderRejectedError(f"{self.name}: the venue cannot set leverage")
        value = int(leverage) if float(leverage).is_integer() else leverage
        self._calls.ignoring_no_change("set_leverage", lambda: self._exchange.set_leverage(value, symbol))

    def transfer(self, request: TransferRequest) -> TransferState:
        """Move an asset between two wallets of this exchange account (ccxt ``transfer``); never retried.

        Raises
        ------
        AmbiguousTransferError
            It may have happened: look it up with :meth:`fetch_transfers` before anything else.
        TransferRejectedError
            The exchange refused it.
        """
        self._raw_markets()
        params = transfers.client_id_params(self._rules, request.transfer_id)
        self._limiter.acquire()
        return transfers.send_transfer(self._exchange, request, self._calls.translate, params)

    @property
    def keeps_transfer_ids(self) -> bool:
        """Whether the exchange keeps a client id with each transfer (Bybit), so one is looked up by it."""
        return self._rules is not None and self._rules.client_transfer_id is not None

    def fetch_transfer(
        self, transfer_id: str, asset: str, from_wallet: str, to_wallet: str, since: datetime | None = None
    ) -> TransferState | None:
        """The transfer sent under trimtab's ``transfer_id``, as the exchange lists it (None while it lists none).

        Raises
        ------
        TransferRejectedError
            The exchange keeps no client id for transfers (look them up with :meth:`fetch_transfers`).
        """
        self._raw_markets()
        wallets = (from_wallet, to_wallet)
        return transfers.transfer_by_id(
            self._exchange, self._rules, transfer_id, asset, wallets, since, self._calls.read
        )

    def fetch_transfers(
        self, asset: str, from_wallet: str, to_wallet: str, since: datetime | None = None
    ) -> list[TransferState]:
        """The exchange's transfers of ``asset`` from one wallet to another since a moment."""
        self._raw_markets()
        return transfers.transfer_history(self._exchange, asset, from_wallet, to_wallet, since, self._calls.read)

    def close(self) -> None:
        closer = getattr(self._exchange, "close", None)
        if callable(closer):
            closer()

    # ------------------------------------------------------------------ helpers
    def _redact(self, text: str) -> str:
        return self._credentials.redact(text) if self._credentials else text

    def _raw_markets(self) -> dict[str, Any]:
        if self._markets is None:
            self.load_markets()
        markets: dict[str, Any] = self._exchange.markets or {}
        return markets

    def _groups(self, symbols: Sequence[str]) -> list[list[str]]:
        markets = self._raw_markets()
        groups: dict[str, list[str]] = {}
        for symbol in symbols:
            market = markets.get(symbol)
            if market is None:
                raise BadInputError(self.name, symbol, "is not a market of this venue")
            groups.setdefault(f"{market.get('type')}:{market.get('subType')}", []).append(symbol)
        return list(groups.values())

    def _reference_price(self, symbol: str) -> float | None:
        ticker = self.fetch_tickers([symbol]).get(symbol)
        if ticker is None:
            return None
        return ticker.mid or ticker.last or None

    def _check_position_mode(self) -> None:
        if self._position_mode_checked or self._credentials is None:
            return
        hedged = margin.account_is_hedged(self._exchange, self._calls.read)
        actual: PositionMode = "hedge" if hedged else "one-way"
        if hedged is not None and actual != self._position_mode:
            raise PositionModeError(
                f"{self.name}: the account is in {actual} position mode but trimtab is configured for "
                f"{self._position_mode}; change one of them before trading"
            )
        self._position_mode_checked = True
