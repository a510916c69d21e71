"""Inverse (coin-margined) contracts: ``BTC/USD:BTC``, counted in contracts of ``contract_size`` USD each.

Everything is settled in the coin. A position of signed ``n`` contracts of size ``c`` entered at ``E``:

* its PnL at ``P`` is ``n x c x (1/E - 1/P)`` coins (a long gains when the price rises);
* adding ``d`` contracts at ``P`` moves the entry to the contract-weighted harmonic mean
  ``(n + d) / (n/E + d/P)`` (Binance COIN-M's average entry);
* a fee of rate ``f`` on a fill of ``d`` contracts at ``P`` is ``|d| x c x f / P`` coins;
* funding at rate ``r`` and mark ``M`` is ``r x n x c / M`` coins (positive: the account pays).
"""

from __future__ import annotations


def coin_pnl(contracts: float, contract_size: float, entry: float, price: float) -> float:
    """PnL in coins of ``contracts`` (signed) from ``entry`` to ``price``."""
    return contracts * contract_size * (1.0 / entry - 1.0 / price)


def harmonic_entry(held: float, entry: float, added: float, price: float) -> float:
    """The average entry after adding ``added`` contracts at ``price`` to ``held`` entered at ``entry``."""
    return (held + added) / (held / entry + added / price)


def coins(contracts: float, contract_size: float, price: float) -> float:
    """The coin value of ``|contracts|`` at ``price``: their face value in the quote divided by the price."""
    return abs(contracts) * contract_size / price
