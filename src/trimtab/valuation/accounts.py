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
  A cross account whose collateral is at or below its maintenance margin is at liquidation now
  (:attr:`AccountMargin.at_liquidation`): its positions are 0 away, and one for which no price solves the
  equation (a short whose account stays under maintenance even at a price of zero, an inverse long past it
  at any price) reports its mark, never None, so that nothing reads it as safe.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from trimtab.domain.accounts import Account, MarginMode
from trimtab.domain.classes import AssetClass
from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.market import MarginTier, MarketRules, MarketSnapshot
from trimtab.domain.portfolio import DerivativePosition, Portfolio
from trimtab.valuation.margin import MAINTENANCE_MARGIN_RATE, inverse_liquidation_price, linear_liquidation_price
from trimtab.valuation.model import AccountMargin, PositionRisk, Valuation

_OPTION = InstrumentKind.OPTION
_ISOLATED = MarginMode.ISOLATED
_new = tuple.__new__  # builds a named tuple from a complete tuple, skipping keyword handling


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
    static = _static(portfolio)
    size = len(static.names)
    prices = market.prices
    collateral = [0.0] * size
    for index, asset, weight in static.balances:
        price = 1.0 if asset == base else prices.get(asset)
        if price is not None:
            collateral[index] += weight * price
    initial = [0.0] * size
    maintenance = [0.0] * size
    pnl = [0.0] * size
    count = [0] * size
    for index, risk in zip(static.position_account, positions, strict=True):
        count[index] += 1
        initial[index] += risk.initial_margin
        maintenance[index] += risk.maintenance_margin
        if risk.instrument.kind is _OPTION:
            if risk.amount < 0.0:
                collateral[index] += risk.market_value
        else:
            collateral[index] += risk.unrealised_pnl
            pnl[index] += risk.unrealised_pnl
    accounts = tuple(
        _new(
            AccountMargin,
            (
                name,
                account.exchange,
                account.kind,
                account.margin_mode,
                collateral[index],
                initial[index],
                maintenance[index],
                collateral[index] - initial[index],
                pnl[index],
                count[index],
            ),
        )
        for index, (name, account) in enumerate(zip(static.names, static.accounts, strict=True))
    )
    return MarginBook(accounts, _priced(portfolio, positions, static, accounts, market))


class _Static(NamedTuple):
    """What the account model reads of a portfolio before any price: its accounts, and per account the
    balances that count as collateral (``amount x haircut``; a debt in full) and its positions."""

    names: tuple[str, ...]
    accounts: tuple[Account, ...]
    balances: tuple[tuple[int, str, float], ...]
    position_account: tuple[int, ...]


_MEMO_SIZE = 32
_memo: dict[int, tuple[Portfolio, _Static]] = {}


def _static(portfolio: Portfolio) -> _Static:
    """The price-independent part, memoised on the (immutable) portfolio's identity like valuation's layout."""
    hit = _memo.get(id(portfolio))
    if hit is not None and hit[0] is portfolio:
        return hit[1]
    names = tuple(portfolio.account_names())
    accounts = tuple(portfolio.account(name) for name in names)
    index = {name: i for i, name in enumerate(names)}
    balances = []
    for holding in portfolio.spot:
        where = index[holding.venue]
        amount = holding.amount
        haircut = 1.0 if amount < 0.0 else accounts[where].haircut(holding.asset)
        if amount != 0.0 and haircut != 0.0:
            balances.append((where, holding.asset, amount * haircut))
    static = _Static(names, accounts, tuple(balances), tuple(index[p.venue] for p in portfolio.derivatives))
    if len(_memo) >= _MEMO_SIZE:
        _memo.pop(next(iter(_memo), 0), None)
    _memo[id(portfolio)] = (portfolio, static)
    return static


def _valued_without_policy(portfolio: Portfolio, market: MarketSnapshot) -> Valuation:
    """``portfolio`` valued at ``market`` against one class holding every derivative's base asset."""
    from trimtab.valuation.valuate import valuate

    assets = tuple(sorted({p.instrument.base for p in portfolio.derivatives}))
    classes = (
        AssetClass("book", assets, 0.0, {}, band=0.0),
        AssetClass("cash", (), 1.0, {}, band=0.0, cash=True),
    )
    return valuate(portfolio, market, classes)


def _priced(
    portfolio: Portfolio,
    positions: Sequence[PositionRisk],
    static: _Static,
    accounts: tuple[AccountMargin, ...],
    market: MarketSnapshot,
) -> tuple[PositionRisk, ...]:
    """Every position with its liquidation price (quote currency) and distance from the mark."""
    base = portfolio.base_currency
    markets = market.markets
    prices = market.prices
    out = []
    for row, risk, index in zip(portfolio.derivatives, positions, static.position_account, strict=True):
        price = row.liquidation_price
        if price is None:
            instrument = risk.instrument
            if instrument.kind is _OPTION:
                out.append(risk)
                continue
            rules = markets.get(instrument.symbol)
            tiers = rules.margin_tiers if rules is not None else ()
            margin = accounts[index]
            if static.accounts[index].margin_mode is _ISOLATED:
                price = _isolated(row, risk, rules, tiers)
            elif instrument.is_inverse:
                price = _cross_inverse(row, risk, margin, rules, tiers)
            else:
                # The hot path (most books are linear perpetuals in cross accounts), kept inline: the
                # cushion is the account's collateral less the other positions' maintenance margin.
                quote = 1.0 if instrument.quote == base else prices.get(instrument.quote, 1.0)
                cushion = (margin.collateral - margin.maintenance + risk.maintenance_margin) / quote
                amount = risk.amount
                if tiers:
                    price = linear_liquidation_price(amount, risk.mark, cushion, tiers)
                else:
                    solved = (amount * risk.mark - cushion) / (amount - abs(amount) * MAINTENANCE_MARGIN_RATE)
                    price = solved if solved > 0.0 else None
            if (price is None or math.isinf(price)) and margin.at_liquidation:
                # No price carries the account (its collateral is at or below its maintenance margin whatever
                # this position's price): it is liquidated now, at the mark, 0 away.
                price = risk.mark
            if price is None:
                out.append(risk)
                continue
        # liquidation_price and liquidation_distance are fields 11 and 12 (valuate leaves them None).
        gap = distance(risk.mark, price, risk.amount > 0)
        out.append(_new(PositionRisk, (*risk[:11], price, gap, *risk[13:])))
    return tuple(out)


def distance(mark: float, liquidation: float, long: bool) -> float:
    """``|mark - liquidation| / mark`` while the mark is on the safe side of it; 0 once it is reached."""
    if math.isinf(liquidation):
        return 0.0
    gap = mark - liquidation if long else liquidation - mark
    return gap / mark if gap > 0.0 else 0.0


def _contract_size(rules: MarketRules | None) -> float:
    return rules.contract_size if rules is not None else 1.0


def _isolated(
    row: DerivativePosition, risk: PositionRisk, rules: MarketRules | None, tiers: tuple[MarginTier, ...]
) -> float | None:
    """Where the position's own margin (``|amount| x entry / leverage``) plus its PnL meets its maintenance."""
    entry = row.entry_price
    if risk.instrument.is_inverse:
        face = row.amount * _contract_size(rules)
        return inverse_liquidation_price(face, entry, abs(face) / (entry * row.leverage), tiers)
    return linear_liquidation_price(row.amount, entry, abs(row.amount) * entry / row.leverage, tiers)


def _cross_inverse(
    row: DerivativePosition,
    risk: PositionRisk,
    margin: AccountMargin,
    rules: MarketRules | None,
    tiers: tuple[MarginTier, ...],
) -> float | None:
    """Solved in coins: the account's collateral less this position's PnL and the others' maintenance."""
    coin = risk.underlying_price
    if coin <= 0.0:
        return None
    others = margin.maintenance - risk.maintenance_margin
    cushion = (margin.collateral - risk.unrealised_pnl - others) / coin
    return inverse_liquidation_price(row.amount * _contract_size(rules), row.entry_price, cushion, tiers)


def _quote_price(risk: PositionRisk, market: MarketSnapshot, base: str) -> float:
    quote = risk.instrument.quote
    return 1.0 if quote == base else market.prices.get(quote, 1.0)


def account_ok(account: AccountMargin, margin_buffer: float) -> bool:
    """Free collateral >= ``margin_buffer x`` initial margin (within float rounding); true without positions."""
    if account.initial <= 0.0:
        return True
    return account.free_collateral >= margin_buffer * account.initial - 1e-9 * account.initial


def tier_notional(risk: PositionRisk, market: MarketSnapshot, base: str) -> float:
    """The notional a position's margin tier is looked up with (absolute).

    Linear futures and perpetuals: ``|amount| x mark`` in the quote currency; inverse ones: their size in
    coins, ``|contracts| x contract size / mark`` (Binance's COIN-M brackets are in coins); options:
    ``|amount x underlying|`` in the quote currency.
    """
    if risk.instrument.kind is _OPTION:
        return risk.notional / _quote_price(risk, market, base)
    if risk.instrument.is_inverse:
        rules = market.markets.get(risk.symbol)
        return abs(risk.amount) * (rules.contract_size if rules is not None else 1.0) / risk.mark
    return abs(risk.amount) * risk.mark
