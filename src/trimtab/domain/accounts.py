"""Accounts (wallets) that hold balances and margin positions, as the portfolio file declares them.

Every ``venue`` named by a portfolio row is an account. A venue without an ``[[account]]`` table is a
unified, cross-margin account whose collateral is the base currency at full value, so a portfolio without
accounts is one wallet whose base-currency balance is its margin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class AccountKind(StrEnum):
    """What an account may hold: spot balances only, derivatives, or both from one pool."""

    SPOT = "spot"
    DERIVATIVES = "derivatives"
    UNIFIED = "unified"


class MarginMode(StrEnum):
    """How an account's positions are margined: from the whole pool, or each from its own margin."""

    CROSS = "cross"
    ISOLATED = "isolated"


@dataclass(frozen=True, slots=True)
class Account:
    """One account of one exchange.

    ``collateral`` maps each collateral asset to its haircut in [0, 1]: a balance counts toward the
    account's collateral value at ``balance x price x haircut``; assets not listed are not collateral.
    ``exchange`` is the ccxt exchange id; accounts of one exchange may transfer to each other.
    """

    name: str
    exchange: str
    kind: AccountKind = AccountKind.UNIFIED
    margin_mode: MarginMode = MarginMode.CROSS
    collateral: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "collateral", MappingProxyType(dict(self.collateral)))

    @property
    def margins(self) -> bool:
        """Whether the account can hold derivatives (derivatives and unified accounts)."""
        return self.kind is not AccountKind.SPOT

    def haircut(self, asset: str) -> float:
        """The share of ``asset``'s value that counts as collateral (0 when it is not collateral)."""
        return self.collateral.get(asset, 0.0)


def default_account(name: str, base_currency: str) -> Account:
    """The account of a venue without an ``[[account]]`` table: unified, cross, the base currency at 1.0.

    Its exchange is its own name, so it shares a pool with no other account.
    """
    return Account(name, name, AccountKind.UNIFIED, MarginMode.CROSS, {base_currency: 1.0})
