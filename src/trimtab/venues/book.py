"""Several accounts, one connection each, valued and traded as one book.

Real exchanges keep assets in separate accounts (Binance: the spot wallet, the USD-M wallet and the COIN-M
wallet; another exchange's unified account). :class:`AccountBook` holds one venue per account of the
portfolio and is itself a :class:`~trimtab.venues.ports.Venue`: every symbol is routed to the account that
trades it (spot symbols to the first spot or unified account that lists them, linear contracts to the
first linear-derivatives or unified account, inverse ones to the first inverse one), balances and
positions are read per account (:meth:`AccountBook.account_balances`, :meth:`AccountBook.account_positions`)
so the account model sees each wallet, and transfers go through the exchange's transfer endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from trimtab.errors import BadInputError, OrderRejectedError, TransferRejectedError
from trimtab.venues.ports import (
    Fill,
    OrderRequest,
    OrderState,
    Ticker,
    TransferCapable,
    TransferRequest,
    Venue,
    VenueMarket,
    VenuePosition,
)

SPOT_WALLETS = frozenset({"spot", "unified"})


@dataclass(frozen=True)
class BookAccount:
    """One account of the book: the portfolio's account name, its exchange, its wallet and its connection.

    ``wallet`` is the exchange's name for the account as ccxt's ``transfer`` takes it: ``spot``, ``linear``
    (Binance USD-M), ``inverse`` (Binance COIN-M) or ``unified``.
    """

    name: str
    exchange: str
    wallet: str
    venue: Venue


class AccountBook:
    """A :class:`~trimtab.venues.ports.Venue` over several accounts, with per-account balances and positions."""

    def __init__(self, name: str, accounts: Sequence[BookAccount]) -> None:
        if not accounts:
            raise BadInputError("portfolio", "account", "a book needs at least one account")
        self.name = name
        self.accounts = tuple(accounts)
        self._routes: dict[str, BookAccount] = {}
        self._markets: dict[str, VenueMarket] = {}

    def __repr__(self) -> str:
        return f"AccountBook({self.name!r}, accounts={[a.name for a in self.accounts]})"

    # ------------------------------------------------------------------ markets and accounts
    def load_markets(self) -> dict[str, VenueMarket]:
        self._routes.clear()
        self._markets.clear()
        for account in self.accounts:
            for symbol, market in account.venue.load_markets().items():
                if symbol not in self._routes and _trades(account.wallet, market):
                    self._routes[symbol] = account
                    self._markets[symbol] = market
        return dict(self._markets)

    def account_of(self, symbol: str) -> BookAccount:
        """The account that trades ``symbol``."""
        if not self._routes:
            self.load_markets()
        account = self._routes.get(symbol)
        if account is None:
            raise OrderRejectedError(f"{self.name}: no account of the book trades {symbol}")
        return account

    def account_balances(self) -> dict[str, dict[str, float]]:
        """Each account's balances (its wallet), by account name."""
        return {account.name: account.venue.fetch_balances() for account in self.accounts}

    def account_positions(self) -> dict[str, list[VenuePosition]]:
        """Each account's open positions, by account name (only the symbols the account trades)."""
        if not self._routes:
            self.load_markets()
        result: dict[str, list[VenuePosition]] = {}
        for account in self.accounts:
            routes_derivatives = any(a is account and m.instrument.is_derivative for a, m in self._routed())
            held = account.venue.fetch_positions() if routes_derivatives else []  # a spot wallet holds none
            result[account.name] = [p for p in held if self._routes.get(p.symbol) is account]
        return result

    def fetch_balances(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for balances in self.account_balances().values():
            for asset, amount in balances.items():
                totals[asset] = totals.get(asset, 0.0) + amount
        return {asset: amount for asset, amount in totals.items() if amount != 0.0}

    def fetch_positions(self) -> list[VenuePosition]:
        return [p for positions in self.account_positions().values() for p in positions]

    # ------------------------------------------------------------------ market data
    def fetch_tickers(self, symbols: Sequence[str]) -> dict[str, Ticker]:
        result: dict[str, Ticker] = {}
        for account, group in self._by_account(symbols):
            result.update(account.venue.fetch_tickers(group))
        return result

    def fetch_funding_rates(self, symbols: Sequence[str]) -> dict[str, tuple[float, float]]:
        result: dict[str, tuple[float, float]] = {}
        for account, group in self._by_account(symbols):
            result.update(account.venue.fetch_funding_rates(group))
        return result

    # ------------------------------------------------------------------ orders
    def create_order(self, request: OrderRequest) -> OrderState:
        return self.account_of(request.symbol).venue.create_order(request)

    def cancel_order(self, client_order_id: str, symbol: str) -> OrderState:
        return self.account_of(symbol).venue.cancel_order(client_order_id, symbol)

    def fetch_order(self, client_order_id: str, symbol: str) -> OrderState | None:
        return self.account_of(symbol).venue.fetch_order(client_order_id, symbol)

    def fetch_open_orders(self, symbol: str | None = None) -> list[OrderState]:
        if symbol is not None:
            return self.account_of(symbol).venue.fetch_open_orders(symbol)
        if not self._routes:
            self.load_markets()
        orders = [o for account in self.accounts for o in account.venue.fetch_open_orders()]
        return [o for o in orders if o.symbol in self._routes]

    def fetch_fills(self, symbol: str, since: datetime | None = None) -> list[Fill]:
        """The symbol's fills, each ``trade_id`` qualified by its account (``<account>/<id>``) when the book has
        several: each account numbers its trades on its own (a paper account's ``T1``, Binance's spot and
        futures sequences), and the journal applies a fill once per book and trade id."""
        account = self.account_of(symbol)
        fills = account.venue.fetch_fills(symbol, since)
        if len(self.accounts) == 1:
            return fills
        return [replace(fill, trade_id=f"{account.name}/{fill.trade_id}") for fill in fills]

    def set_leverage(self, symbol: str, leverage: float) -> None:
        self.account_of(symbol).venue.set_leverage(symbol, leverage)

    # ------------------------------------------------------------------ transfers
    def wallet_of(self, account_name: str) -> BookAccount:
        """The book's account of that name."""
        for account in self.accounts:
            if account.name == account_name:
                return account
        raise BadInputError("portfolio", "account", f"{account_name!r} is not an account of the book")

    def transfer_venue(self, exchange: str) -> TransferCapable:
        """The connection that sends an exchange's transfers (its spot or unified account's, which knows every
        currency; else any of its accounts that can)."""
        ordered = sorted(self.accounts, key=lambda a: a.wallet not in SPOT_WALLETS)
        for account in ordered:
            if account.exchange == exchange and isinstance(account.venue, TransferCapable):
                return account.venue
        raise TransferRejectedError(f"{self.name}: no account of {exchange} can send transfers")

    def transfer_request(
        self, transfer_id: str, asset: str, amount: float, source: str, target: str
    ) -> TransferRequest:
        """A transfer between two accounts of the book, by account name, as the exchange names the wallets."""
        origin, destination = self.wallet_of(source), self.wallet_of(target)
        if origin.exchange != destination.exchange:
            raise TransferRejectedError(
                f"{self.name}: {source} ({origin.exchange}) and {target} ({destination.exchange}) "
                "are accounts of different exchanges"
            )
        return TransferRequest(transfer_id, asset, amount, origin.wallet, destination.wallet)

    def close(self) -> None:
        for account in self.accounts:
            account.venue.close()

    # ------------------------------------------------------------------ helpers
    def _routed(self) -> list[tuple[BookAccount, VenueMarket]]:
        return [(account, self._markets[symbol]) for symbol, account in self._routes.items()]

    def _by_account(self, symbols: Sequence[str]) -> list[tuple[BookAccount, list[str]]]:
        groups: dict[str, tuple[BookAccount, list[str]]] = {}
        for symbol in symbols:
            account = self.account_of(symbol)
            groups.setdefault(account.name, (account, []))[1].append(symbol)
        return list(groups.values())


def _trades(wallet: str, market: VenueMarket) -> bool:
    """Whether an account with this wallet trades the market (spot on spot and unified accounts, linear
    contracts on linear and unified ones, inverse contracts on inverse and unified ones)."""
    instrument = market.instrument
    if wallet == "unified":
        return True
    if not instrument.is_derivative:
        return wallet == "spot"
    return wallet == ("inverse" if instrument.is_inverse else "linear")


def wallet_for(exchange_class: str, kind: str) -> str:
    """The ccxt wallet of an account: ``spot`` for a spot account, ``unified`` for a unified one, and for a
    derivatives account ``inverse`` when ccxt's class is COIN-M (``binancecoinm``), else ``linear``."""
    if kind == "spot":
        return "spot"
    if kind == "unified":
        return "unified"
    return "inverse" if exchange_class.endswith("coinm") else "linear"
