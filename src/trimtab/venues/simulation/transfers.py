"""Moving an asset between two simulated accounts of one exchange (Binance's spot and USD-M wallets).

An exchange lets leave an account only what the account does not need. What it needs is the account
model's (:mod:`trimtab.valuation.accounts`, the one definition valuation, the planner and the paper venue's
order checks use), so :func:`withdrawable` is, for a collateral asset of an account that holds positions,

    min(balance, min(free collateral, collateral value - maintenance margin) / (price x haircut))

Free collateral is the collateral value (balances at their haircuts plus the unrealised PnL of futures and
perpetuals, less short options) minus the initial margin its positions hold (``|notional| / leverage`` at
the mark); capping at the balance keeps unrealised profit from leaving (Binance's ``maxWithdrawAmount``).
The maintenance term matters with tiered maintenance margin: a position held at more leverage than its
tier allows can need more maintenance than initial margin, and no transfer may leave such an account at
or under its maintenance margin (liquidated). An asset that is not collateral of the account (haircut 0,
or no price to value it at) leaves in full, as does anything of an account without positions.
:func:`move` refuses more than :func:`withdrawable`.
"""

from __future__ import annotations

from trimtab.domain.market import MarketSnapshot
from trimtab.valuation.accounts import account_margins
from trimtab.venues.simulation.account import SimulatedAccount
from trimtab.venues.simulation.margin import quoted


def withdrawable(account: SimulatedAccount, asset: str, market: MarketSnapshot) -> float:
    """How much of ``asset`` may leave ``account`` now, by the account model at ``market``."""
    balance = account.balances.get(asset, 0.0)
    if balance <= 0.0:
        return 0.0
    haircut = account.declared.haircut(asset)
    price = 1.0 if asset == account.base_currency else market.prices.get(asset)
    if haircut <= 0.0 or price is None or not account.positions:
        return balance
    portfolio = account.to_portfolio()
    try:
        margin = account_margins(portfolio, quoted(market, portfolio.derivatives)).account(account.declared.name)
    except KeyError:
        return 0.0  # an underlying without any price: nothing can be shown to be spare
    room = min(margin.free_collateral, margin.collateral - margin.maintenance)
    return max(min(balance, room / (price * haircut)), 0.0)


def move(source: SimulatedAccount, target: SimulatedAccount, asset: str, amount: float, market: MarketSnapshot) -> None:
    """Move ``amount`` of ``asset`` from ``source`` to ``target`` (``market``: prices, marks and tiers now).

    Raises
    ------
    ValueError
        If the amount is not positive or more than :func:`withdrawable` allows; nothing moves then.
    """
    if not amount > 0.0:
        raise ValueError(f"a transfer moves a positive amount, not {amount:g}")
    free = withdrawable(source, asset, market)
    if amount > free * (1.0 + 1e-12) + 1e-12:
        raise ValueError(f"{amount:g} {asset} asked, {free:g} may leave the account")
    source.deposit(asset, -amount)
    target.deposit(asset, amount)
