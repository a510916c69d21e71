"""Where a plan's derivative openings go, and the transfers between accounts of one exchange that fund them.

A new hedge opens on the derivatives or unified account with the most free collateral (the first declared
among equals; ``default`` when the portfolio has none), see :func:`hedge_account`.

When an opening leaves its account short of collateral (free collateral below ``margin_buffer x`` initial
margin after the plan) and another account of the same ``exchange`` holds an asset that the short account
counts as collateral, the plan moves what is missing, before any order:

* only what the plan's own orders do not need is moved: the source's balance *after* the plan's orders
  (a spot buy on the source spends its quote first);
* a derivatives or unified source keeps its own buffer: it gives at most the collateral it has beyond
  ``margin_buffer x`` its own initial margin after the plan;
* the short account's collateral assets are taken in the order of their haircut (highest first, the base
  currency first among equals), sources in the portfolio's order of accounts;
* amounts are rounded up to 1e-8 of the asset (never beyond what the source has).

What no source can cover is left to the guard, which cuts the openings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from trimtab.domain.accounts import Account
from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Trade, Transfer
from trimtab.domain.portfolio import DEFAULT_VENUE, Portfolio
from trimtab.valuation.model import AccountMargin, Valuation

AMOUNT_STEP = 1e-8
"""Transfers are rounded up to this many units of the asset (the precision of exchanges' transfer APIs)."""

After = Callable[[Sequence[Transfer], Sequence[Trade]], tuple[Portfolio, Valuation]]


def hedge_account(valuation: Valuation) -> str:
    """The account a new hedge opens on: the derivatives or unified account with the most free collateral
    (the first declared among equals); ``default`` when the portfolio has none."""
    best, best_free = DEFAULT_VENUE, -math.inf
    for account in valuation.accounts:
        if account.margins and account.free_collateral > best_free:
            best, best_free = account.name, account.free_collateral
    return best


def opening_accounts(trades: Sequence[Trade]) -> set[str]:
    """The accounts on which ``trades`` open or extend a derivative position."""
    return {t.venue for t in trades if t.instrument is not InstrumentKind.SPOT and not t.reduce_only}


def plan_transfers(
    portfolio: Portfolio,
    trades: Sequence[Trade],
    after: After,
    market: MarketSnapshot,
    margin_buffer: float,
) -> tuple[Transfer, ...]:
    """The transfers that fund the openings of ``trades`` (none when nothing is short or nothing can help).

    Parameters
    ----------
    portfolio:
        Holdings before the plan (its accounts say which exchange each belongs to and what is collateral).
    trades:
        The plan's orders.
    after:
        Applies transfers then orders and values the result: ``(portfolio after, valuation after)``.
    market:
        Prices of the assets moved.
    margin_buffer:
        ``[rebalance] margin_buffer``.

    Returns
    -------
    tuple[Transfer, ...]
        In the order they are to be made.
    """
    openings = opening_accounts(trades)
    if not openings:
        return ()
    held, valuation = after((), trades)
    balances: dict[tuple[str, str], float] = {}
    for holding in held.spot:
        key = (holding.asset, holding.venue)
        balances[key] = balances.get(key, 0.0) + holding.amount
    spare = {a.name: _spare(a, margin_buffer) for a in valuation.accounts}
    out: list[Transfer] = []
    for margin in valuation.accounts:
        if not margin.margins or margin.name not in openings:
            continue
        need = -_spare(margin, margin_buffer)
        if need <= 0.0:
            continue
        destination = portfolio.account(margin.name)
        for source_name in held.account_names():
            if need <= 0.0:
                break
            source = portfolio.account(source_name)
            if source_name == destination.name or source.exchange != destination.exchange:
                continue
            need = _draw(source, destination, need, balances, spare, market, portfolio.base_currency, out)
    return tuple(out)


def _spare(margin: AccountMargin, margin_buffer: float) -> float:
    """Collateral value beyond what the account's buffer asks (infinite without positions)."""
    if margin.initial <= 0.0:
        return math.inf
    return margin.free_collateral - margin_buffer * margin.initial


def _draw(
    source: Account,
    destination: Account,
    need: float,
    balances: dict[tuple[str, str], float],
    spare: dict[str, float],
    market: MarketSnapshot,
    base: str,
    out: list[Transfer],
) -> float:
    """Move from ``source`` what it can of ``need`` (collateral value at ``destination``); the rest."""
    assets = sorted(destination.collateral, key=lambda a: (-destination.haircut(a), a != base, a))
    for asset in assets:
        haircut = destination.haircut(asset)
        balance = balances.get((asset, source.name), 0.0)
        price = 1.0 if asset == base else market.prices.get(asset, 0.0)
        if need <= 0.0 or haircut <= 0.0 or balance <= 0.0 or price <= 0.0:
            continue
        available = balance
        source_haircut = source.haircut(asset) if source.margins else 0.0
        if source_haircut > 0.0:
            available = min(available, max(spare.get(source.name, math.inf), 0.0) / (price * source_haircut))
        wanted = math.ceil(need / (price * haircut) / AMOUNT_STEP) * AMOUNT_STEP
        amount = min(available, wanted)
        if amount < AMOUNT_STEP:
            continue
        balances[(asset, source.name)] = balance - amount
        if source_haircut > 0.0:
            spare[source.name] = spare.get(source.name, math.inf) - amount * price * source_haircut
        moved = amount * price * haircut
        out.append(
            Transfer(
                asset,
                amount,
                source.name,
                destination.name,
                f"{destination.name} needs {need:.2f} {base} more collateral for the plan's openings",
            )
        )
        need -= moved
    return need
