"""Moving an asset between two simulated accounts of one exchange (Binance's spot and USD-M wallets).

An exchange lets leave an account only what the account does not need: the balance of an asset, and for
the account's margin currency no more than its balance plus the unrealised PnL of its futures and
perpetuals minus the initial margin they hold (Binance's ``maxWithdrawAmount``, unrealised profit not
withdrawable). :func:`withdrawable` is that figure; :func:`move` refuses more.
"""

from __future__ import annotations

from collections.abc import Mapping

from trimtab.domain.instruments import InstrumentKind
from trimtab.venues.simulation.account import SimulatedAccount


def withdrawable(account: SimulatedAccount, asset: str, marks: Mapping[str, float]) -> float:
    """How much of ``asset`` may leave ``account`` now (marks: symbol -> mark, for unrealised PnL)."""
    balance = account.balances.get(asset, 0.0)
    if asset != account.base_currency:
        return max(balance, 0.0)
    unrealised = 0.0
    held = 0.0
    for symbol, position in account.positions.items():
        if position.instrument.kind is InstrumentKind.OPTION:
            continue
        mark = marks.get(symbol, position.entry_price)
        unrealised += position.amount * (mark - position.entry_price)
        held += account.models.margin.initial_margin(position.amount, position.entry_price, position.leverage)
    return max(min(balance, balance + unrealised - held), 0.0)


def move(
    source: SimulatedAccount, target: SimulatedAccount, asset: str, amount: float, marks: Mapping[str, float]
) -> None:
    """Move ``amount`` of ``asset`` from ``source`` to ``target``.

    Raises
    ------
    ValueError
        If the amount is not positive or more than :func:`withdrawable` allows; nothing moves then.
    """
    if not amount > 0.0:
        raise ValueError(f"a transfer moves a positive amount, not {amount:g}")
    free = withdrawable(source, asset, marks)
    if amount > free * (1.0 + 1e-12) + 1e-12:
        raise ValueError(f"{amount:g} {asset} asked, {free:g} may leave the account")
    source.deposit(asset, -amount)
    target.deposit(asset, amount)
