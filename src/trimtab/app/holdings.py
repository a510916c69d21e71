"""What the live loop holds, read from the venue: balances and positions, account by account.

A plain venue is one account (its name). An :class:`~trimtab.venues.book.AccountBook` (one connection per
account of the portfolio: Binance's spot, USD-M and COIN-M wallets) is read wallet by wallet, so each
holding names the account that holds it and the account model margins each derivatives account from its
own wallet only. Balances count toward their classes wherever they sit; positions keep the venue's own
leverage (never assumed).
"""

from __future__ import annotations

from collections.abc import Sequence

from trimtab.domain.accounts import Account
from trimtab.domain.instruments import parse_symbol
from trimtab.domain.portfolio import DerivativePosition, Portfolio, SpotHolding
from trimtab.policy.config import Policy
from trimtab.venues.book import AccountBook
from trimtab.venues.ports import Venue, VenuePosition


def read_holdings(
    venue: Venue, policy: Policy, accounts: Sequence[Account] = (), *, venue_liquidation: bool = False
) -> tuple[Portfolio, list[str]]:
    """The portfolio the venue holds now, and the symbols of its derivative positions.

    Only balances of the policy's assets (and the base currency) are kept; zero positions are dropped.
    ``accounts`` are the portfolio's ``[[account]]`` tables (kind, margin mode, collateral); each position
    keeps the venue's own liquidation price when ``venue_liquidation`` (a live exchange's figure, which takes
    precedence); the paper venue's is its simulation's, and the account model computes it instead.
    """
    base = policy.base_currency
    known = {a for c in policy.classes for a in c.assets} | {base}
    if isinstance(venue, AccountBook):
        balances = venue.account_balances()
        positions = venue.account_positions()
    else:
        balances = {venue.name: venue.fetch_balances()}
        positions = {venue.name: venue.fetch_positions()}
    spot = tuple(
        SpotHolding(asset, amount, account)
        for account, held in balances.items()
        for asset, amount in sorted(held.items())
        if asset in known
    )
    derivatives = tuple(
        _position(p, account, venue_liquidation) for account, held in positions.items() for p in held if p.amount
    )
    symbols = [p.symbol for held in positions.values() for p in held]
    return Portfolio(base, spot, derivatives, tuple(accounts)), symbols


def _position(position: VenuePosition, account: str, venue_liquidation: bool) -> DerivativePosition:
    return DerivativePosition(
        parse_symbol(position.symbol),
        position.amount,
        position.entry_price,
        position.leverage,
        account,
        liquidation_price=position.liquidation_price if venue_liquidation else None,
    )
