"""The account model: collateral, margin, free collateral and liquidation prices per account.

One function, :func:`account_margins`, takes the accounts, balances and positions of a portfolio and the
prices, marks and margin tiers of a snapshot and returns, per account, its collateral value, initial and
maintenance margin and free collateral, and per position its liquidation price. Valuation, the planner's
guard, the backtest's simulated account and the paper venue all call it; the rules are the contract's
(*Accounts, collateral and margin*) and docs/valuation.md works an example of each account kind.

* Collateral value = ``sum(balance x price x haircut)`` over the account's collateral assets + the
  unrealised PnL of its futures and perpetuals + the (negative) mark value of its short options. A negative
  balance (a debt) counts at its full value whatever the asset. Long options are not collateral.
* Initial margin of a position = ``|notional| / leverage``; maintenance margin = ``|notional| x rate -
  amount`` of its tier (0.5 % without tiers); both come with the positions (see
  :func:`trimtab.valuation.valuate.valuate`).
* Free collateral = collateral value - the initial margin of its positions (cross positions' initial margin
  and the margin held by isolated ones, both ``|notional| / leverage``).
* Liquidation price: the venue's figure when the portfolio row gives one; isolated, where the position's
  margin (``|amount| x entry / leverage``) plus its PnL meets its maintenance margin; cross, the price of that
  position at which the account's collateral value meets its total maintenance margin, other prices unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trimtab.domain.accounts import Account, MarginMode
from trimtab.domain.classes import AssetClass
from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.portfolio import DerivativePosition, Portfolio, SpotHolding
from trimtab.valuation.margin import inverse_liquidation_price, linear_liquidation_price
from trimtab.valuation.model import AccountMargin, PositionRisk, Valuation

_OPTION = InstrumentKind.OPTION


@dataclass(frozen=True, slots=True)
class MarginBook:
    """Every account's margin and every position with its liquidation price, in the portfolio's order."""

    accounts: tuple[AccountMargin, ...]
    positions: tuple[PositionRisk, ...]

    def account(self, name: str) -> AccountMargin:
        """The account called ``name``; raises KeyError if there is none."""
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)

    @property
    def margining(self) -> tuple[AccountMargin, ...]:
        """The derivatives and unified accounts (those the contract's ``margin`` figures cover)."""
        return tuple(a for a in self.accounts if a.margins)

    @property
    def free_collateral(self) -> float:
        """Free collateral summed over the derivatives and unified accounts."""
        return sum(a.free_collateral for a in self.margining)

    @property
    def initial(self) -> float:
        """Initial margin summed over the derivatives and unified accounts."""
        return sum(a.initial for a in self.margining)


def account_margins(
    portfolio: Portfolio, market: MarketSnapshot, positions: Sequence[PositionRisk] | None = None
) -> MarginBook:
    """Per-account margin and per-position liquidation prices of ``portfolio`` at ``market``.

    Parameters
    ----------
    portfolio : Portfolio
        Accounts (declared or default), balances per venue and derivative positions per venue.
    market : MarketSnapshot
        Prices in the base currency, marks, and the markets' ``margin_tiers``.
    positions : Sequence[PositionRisk], optional
        The positions valued (one per ``portfolio.derivatives`` row, in that order), as
        :func:`trimtab.valuation.valuate.valuate` gives them; valued here when not given.

    Returns
    -------
    MarginBook
        One :class:`AccountMargin` per account (declared accounts in their order, then the venues the rows
        name), and the positions with ``liquidation_price`` and ``liquidation_distance`` filled in.

    Raises
    ------
    KeyError
        If a held derivative has no quote in the snapshot.
    """
    if positions is None:
        valued = _valued_without_policy(portfolio, market)
        return MarginBook(valued.accounts, valued.positions)
    base = portfolio.base_currency
    names = portfolio.account_names()
    collateral = dict.fromkeys(names, 0.0)
    for holding in portfolio.spot:
        collateral[holding.venue] += _balance_value(portfolio.account(holding.venue), holding, market, base)
    initial = dict.fromkeys(names, 0.0)
    maintenance = dict.fromkeys(names, 0.0)
    pnl = dict.fromkeys(names, 0.0)
    count = dict.fromkeys(names, 0)
    for row, risk in zip(portfolio.derivatives, positions, strict=True):
        venue = row.venue
        count[venue] += 1
        initial[venue] += risk.initial_margin
        maintenance[venue] += risk.maintenance_margin
        if risk.instrument.kind is _OPTION:
            if risk.amount < 0.0:
                collateral[venue] += risk.market_value
        else:
            collateral[venue] += risk.unrealised_pnl
            pnl[venue] += risk.unrealised_pnl
    accounts = []
    for name in names:
        account = portfolio.account(name)
        accounts.append(
            AccountMargin(
                name,
                account.exchange,
                account.kind,
                account.margin_mode,
                collateral[name],
                initial[name],
                maintenance[name],
                collateral[name] - initial[name],
                pnl[name],
                count[name],
            )
        )
    by_name = {a.name: a for a in accounts}
    priced = tuple(
        _with_liquidation(row, risk, portfolio.account(row.venue), by_name[row.venue], market, base)
        for row, risk in zip(portfolio.derivatives, positions, strict=True)
    )
    return MarginBook(tuple(accounts), priced)


def _valued_without_policy(portfolio: Portfolio, market: MarketSnapshot) -> Valuation:
    """``portfolio`` valued at ``market`` against one class holding every derivative's base asset."""
    from trimtab.valuation.valuate import valuate

    assets = tuple(sorted({p.instrument.base for p in portfolio.derivatives}))
    classes = (
        AssetClass("book", assets, 0.0, {}, band=0.0),
        AssetClass("cash", (), 1.0, {}, band=0.0, cash=True),
    )
    return valuate(portfolio, market, classes)


def _balance_value(account: Account, holding: SpotHolding, market: MarketSnapshot, base: str) -> float:
    """What one balance adds to its account's collateral value (a debt counts in full)."""
    amount = holding.amount
    haircut = 1.0 if amount < 0.0 else account.haircut(holding.asset)
    if haircut == 0.0 or amount == 0.0:
        return 0.0
    price = 1.0 if holding.asset == base else market.prices.get(holding.asset)
    if price is None:
        return 0.0
    return amount * price * haircut


def _with_liquidation(
    row: DerivativePosition,
    risk: PositionRisk,
    account: Account,
    margin: AccountMargin,
    market: MarketSnapshot,
    base: str,
) -> PositionRisk:
    """``risk`` with its liquidation price (quote currency) and distance from the mark."""
    if row.liquidation_price is not None:
        price: float | None = row.liquidation_price
    elif risk.instrument.kind is _OPTION:
        return risk._replace(liquidation_price=None, liquidation_distance=None)
    elif account.margin_mode is MarginMode.ISOLATED:
        price = _isolated(row, risk, market)
    else:
        price = _cross(row, risk, margin, market, base)
    if price is None:
        return risk._replace(liquidation_price=None, liquidation_distance=None)
    return risk._replace(liquidation_price=price, liquidation_distance=distance(risk.mark, price, risk.amount > 0))


def distance(mark: float, liquidation: float, long: bool) -> float:
    """``|mark - liquidation| / mark`` while the mark is on the safe side of it; 0 once it is reached."""
    if math.isinf(liquidation):
        return 0.0
    gap = mark - liquidation if long else liquidation - mark
    return gap / mark if gap > 0.0 else 0.0


def _face(row: DerivativePosition, market: MarketSnapshot) -> float:
    rules = market.markets.get(row.symbol)
    return row.amount * (rules.contract_size if rules is not None else 1.0)


def _isolated(row: DerivativePosition, risk: PositionRisk, market: MarketSnapshot) -> float | None:
    tiers = market.margin_tiers(row.symbol)
    entry = row.entry_price
    if risk.instrument.is_inverse:
        face = _face(row, market)
        return inverse_liquidation_price(face, entry, abs(face) / (entry * row.leverage), tiers)
    return linear_liquidation_price(row.amount, entry, abs(row.amount) * entry / row.leverage, tiers)


def _cross(
    row: DerivativePosition, risk: PositionRisk, margin: AccountMargin, market: MarketSnapshot, base: str
) -> float | None:
    """Solve for the position's price at which the account's collateral meets its maintenance margin."""
    tiers = market.margin_tiers(row.symbol)
    others = margin.maintenance - risk.maintenance_margin
    if risk.instrument.is_inverse:
        coin = risk.underlying_price
        if coin <= 0.0:
            return None
        cushion = (margin.collateral - risk.unrealised_pnl - others) / coin
        return inverse_liquidation_price(_face(row, market), row.entry_price, cushion, tiers)
    quote = _quote_price(risk, market, base)
    return linear_liquidation_price(row.amount, risk.mark, (margin.collateral - others) / quote, tiers)


def _quote_price(risk: PositionRisk, market: MarketSnapshot, base: str) -> float:
    quote = risk.instrument.quote
    return 1.0 if quote == base else market.prices.get(quote, 1.0)


def ok_accounts(book: MarginBook, margin_buffer: float) -> Mapping[str, bool]:
    """Per derivatives or unified account: collateral >= ``(1 + margin_buffer) x`` initial margin.

    That is, free collateral >= ``margin_buffer x`` initial margin. An account without positions is ok.
    """
    return {a.name: account_ok(a, margin_buffer) for a in book.margining}


def account_ok(account: AccountMargin, margin_buffer: float) -> bool:
    """Free collateral >= ``margin_buffer x`` initial margin (within float rounding); true without positions."""
    if account.initial <= 0.0:
        return True
    return account.free_collateral >= margin_buffer * account.initial - 1e-9 * account.initial


def tier_notional(risk: PositionRisk, market: MarketSnapshot, base: str) -> float:
    """The notional a position's margin tier is looked up with, in its quote currency (absolute).

    Linear futures and perpetuals: ``|amount| x mark``; inverse ones: their face value, ``|contracts| x
    contract size``; options: ``|amount x underlying|`` in the quote currency.
    """
    if risk.instrument.kind is _OPTION:
        return risk.notional / _quote_price(risk, market, base)
    if risk.instrument.is_inverse:
        rules = market.markets.get(risk.symbol)
        return abs(risk.amount) * (rules.contract_size if rules is not None else 1.0)
    return abs(risk.amount) * risk.mark
