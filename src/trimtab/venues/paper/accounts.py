"""A paper run on a portfolio that declares its accounts: one paper account per account, as one book.

Each ``[[account]]`` of the portfolio (and each venue its rows name; a portfolio without tables whose rows
name several venues is a book of their default accounts, unified and cross, as ``plan`` reads it) becomes a
:class:`~trimtab.venues.paper.PaperVenue` holding only that account's rows, margined as the account is
declared, kept under its own key (``paper_account:<name>``); the accounts of one exchange share a
:class:`~trimtab.venues.paper.transfers.PaperTransferDesk`. Together they are an
:class:`~trimtab.venues.book.AccountBook`, the same object a live run builds from one ccxt connection per
account, so the loop reads, routes and transfers alike. The accounts are remembered in the store
(``paper_accounts``), so a restart rebuilds the same book without the portfolio file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from trimtab.domain.accounts import Account, AccountKind
from trimtab.domain.portfolio import Portfolio
from trimtab.errors import BadInputError
from trimtab.venues.book import AccountBook, BookAccount
from trimtab.venues.paper.book import account_from_document, account_to_document
from trimtab.venues.paper.feed import PriceFeed
from trimtab.venues.paper.transfers import PaperTransferDesk
from trimtab.venues.paper.venue import PAPER_ACCOUNT_KEY, PaperVenue
from trimtab.venues.simulation import RealityModels, Settlement
from trimtab.venues.simulation.margin import Liquidation

PAPER_ACCOUNTS_KEY = "paper_accounts"
WALLETS = {AccountKind.SPOT: "spot", AccountKind.DERIVATIVES: "linear", AccountKind.UNIFIED: "unified"}
"""The wallet a paper account of each kind is (inverse contracts are not simulated)."""


def declared_accounts(store: Any, initial: Portfolio | None) -> list[Account]:
    """The accounts of the paper book: those stored, else the initial portfolio's.

    A portfolio that declares accounts, or whose rows name several venues, is a book of its accounts (a venue
    without a table is the contract's default, unified and cross, margined from its own balances only, as
    ``plan`` margins it). A portfolio of one venue without a table is one paper account (empty list), and so
    is a store that already keeps one (a run started before, read back as it was).
    """
    stored = store.get(PAPER_ACCOUNTS_KEY)
    if stored:
        return [a for a in (account_from_document(d) for d in stored) if a is not None]
    if initial is None:
        return []
    names = initial.account_names()
    if not initial.accounts and (len(names) <= 1 or store.get(PAPER_ACCOUNT_KEY) is not None):
        return []
    return [initial.account(name) for name in names]


def build_paper_book(
    feed: PriceFeed,
    *,
    base_currency: str,
    models: RealityModels,
    store: Any,
    initial: Portfolio | None,
    clock: Callable[[], datetime],
    on_settlement: Callable[[Settlement, datetime], None] | None = None,
    on_liquidation: Callable[[Liquidation, datetime], None] | None = None,
) -> AccountBook | None:
    """The book of the portfolio's accounts, or None for one paper account (see :func:`declared_accounts`).

    Raises
    ------
    BadInputError
        When two accounts of one exchange would be the same wallet (two spot accounts of one exchange).
    """
    accounts = declared_accounts(store, initial)
    if not accounts:
        return None
    if store.get(PAPER_ACCOUNTS_KEY) is None:
        store.set(PAPER_ACCOUNTS_KEY, [account_to_document(a) for a in accounts])
    desks: dict[str, PaperTransferDesk] = {}
    members = []
    for account in accounts:
        wallet = WALLETS[account.kind]
        desk = desks.setdefault(
            account.exchange, PaperTransferDesk(store, clock, f"paper_transfers:{account.exchange}")
        )
        if wallet in desk.wallets:
            raise BadInputError(
                "portfolio", "account", f"{account.name}: {account.exchange} already has a {wallet} account"
            )
        venue = PaperVenue(
            feed,
            base_currency=base_currency,
            models=models,
            store=store,
            initial=initial,
            clock=clock,
            name=account.name,
            on_settlement=on_settlement,
            on_liquidation=on_liquidation,
            key=f"paper_account:{account.name}",
            account=account.name,
        )
        desk.join(wallet, venue)
        members.append(BookAccount(account.name, account.exchange, wallet, venue))
    return AccountBook("paper", members)
