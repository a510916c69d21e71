"""A rebalance plan: the classes against their bands, transfers, trades, costs and the margin after them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.lots import LotTake


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True, slots=True)
class Trade:
    """One order the plan asks for.

    ``amount`` is positive, in the instrument's units (coins for spot and linear derivatives, contracts
    for inverse ones); ``notional`` is positive, in the base currency, at ``price``. ``reduce_only``
    marks a trade that only shrinks an existing derivative position. ``lots`` are the tax lots a spot sale
    consumes (empty on other trades, and on sales of assets without lots).
    """

    class_name: str
    symbol: str
    instrument: InstrumentKind
    side: Side
    amount: float
    notional: float
    price: float
    venue: str = "default"
    reduce_only: bool = False
    reason: str = ""
    lots: tuple[LotTake, ...] = ()

    def signed_amount(self) -> float:
        return self.amount if self.side is Side.BUY else -self.amount

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "class": self.class_name,
            "symbol": self.symbol,
            "instrument": self.instrument.value,
            "side": self.side.value,
            "amount": self.amount,
            "notional": self.notional,
            "venue": self.venue,
            "price": self.price,
            "reduce_only": self.reduce_only,
            "reason": self.reason,
        }
        if self.instrument is InstrumentKind.SPOT and self.side is Side.SELL:
            out["lots"] = [take.to_dict() for take in self.lots]
        return out


@dataclass(frozen=True, slots=True)
class ClassReport:
    """A class against its band, before trading, and the goal the planner aimed at."""

    name: str
    target: float
    lower: float
    upper: float
    weight: float
    net_exposure: float
    breached: bool
    goal: float
    cash: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target,
            "lower": self.lower,
            "upper": self.upper,
            "weight": self.weight,
            "net_exposure": self.net_exposure,
            "breached": self.breached,
            "goal": self.goal,
            "cash": self.cash,
        }


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """Expected costs of a plan, in the base currency.

    ``funding_per_day`` is what the derivative book after the plan pays per day at the snapshot's
    funding rates (negative when it receives). ``tax`` is the tax the plan's spot sales realise under the
    policy's ``[tax]`` (None without it); ``realised_gain`` and ``realised_loss`` are the gross gains and
    losses (both >= 0) of the lots those sales consume (None when there are neither lots nor tax rules).
    """

    fees: float = 0.0
    slippage: float = 0.0
    funding_per_day: float = 0.0
    tax: float | None = None
    realised_gain: float | None = None
    realised_loss: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fees": self.fees,
            "slippage": self.slippage,
            "funding_per_day": self.funding_per_day,
            "tax": self.tax,
            "realised_gain": self.realised_gain,
            "realised_loss": self.realised_loss,
        }


@dataclass(frozen=True, slots=True)
class Transfer:
    """A move of ``amount`` of ``asset`` from one account to another of the same exchange (before any order)."""

    asset: str
    amount: float
    from_account: str
    to_account: str
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "amount": self.amount,
            "from": self.from_account,
            "to": self.to_account,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class AccountReport:
    """One derivatives or unified account's margin, in the base currency.

    ``ok``: free collateral >= ``margin_buffer x`` initial margin (collateral >= ``(1 + margin_buffer) x``
    initial margin). ``at_liquidation``: a cross account whose collateral is at or below its maintenance
    margin (liquidated now; its positions are 0 away from liquidation).
    """

    name: str
    exchange: str
    kind: str
    margin_mode: str
    collateral: float
    initial: float
    maintenance: float
    free_collateral: float
    ok: bool
    at_liquidation: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "exchange": self.exchange,
            "kind": self.kind,
            "margin_mode": self.margin_mode,
            "collateral": self.collateral,
            "initial": self.initial,
            "maintenance": self.maintenance,
            "free_collateral": self.free_collateral,
            "ok": self.ok,
            "at_liquidation": self.at_liquidation,
        }


@dataclass(frozen=True, slots=True)
class PositionReport:
    """One derivative position: its size, margin and liquidation price (quote currency).

    ``liquidation_distance`` = ``|mark - liquidation price| / mark`` (None where no liquidation price exists);
    ``max_leverage`` is what its margin tier allows (None without tiers).
    """

    symbol: str
    venue: str
    amount: float
    notional: float
    leverage: float
    initial_margin: float
    maintenance_margin: float
    liquidation_price: float | None
    liquidation_distance: float | None
    max_leverage: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "venue": self.venue,
            "amount": self.amount,
            "notional": self.notional,
            "leverage": self.leverage,
            "initial_margin": self.initial_margin,
            "maintenance_margin": self.maintenance_margin,
            "liquidation_price": self.liquidation_price,
            "liquidation_distance": self.liquidation_distance,
            "max_leverage": self.max_leverage,
        }


@dataclass(frozen=True, slots=True)
class MarginReport:
    """Margin of a book, summed over its derivatives and unified accounts, and per account.

    A plan's report gives ``initial`` and ``free_collateral`` of the book as it is (before the plan), with
    ``ok`` saying whether the book after the plan respects every limit (each account's margin buffer, the
    leverage cap, the tiers' maximum leverage), ``accounts`` the accounts after the plan and ``after`` the
    sums after the plan. ``required`` is the free collateral the buffer asks for (``margin_buffer x``
    initial margin).
    """

    initial: float
    free_collateral: float
    required: float
    maintenance: float
    gross_leverage: float
    ok: bool
    after: MarginReport | None = None
    accounts: tuple[AccountReport, ...] = ()

    @property
    def final(self) -> MarginReport:
        """The figures after the plan (the report itself when it has no ``after``)."""
        return self.after if self.after is not None else self

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "initial": self.initial,
            "free_collateral": self.free_collateral,
            "ok": self.ok,
            "required": self.required,
            "maintenance": self.maintenance,
            "gross_leverage": self.gross_leverage,
            "accounts": [a.to_dict() for a in self.accounts],
        }
        if self.after is not None:
            # The accounts after the plan are the report's own ``accounts``; not repeated.
            out["after"] = {k: v for k, v in self.after.to_dict().items() if k != "accounts"}
        return out


@dataclass(frozen=True, slots=True)
class Plan:
    """What the planner proposes; ``to_dict`` gives the contract's JSON shape."""

    base_currency: str
    equity: float
    triggered: bool
    classes: tuple[ClassReport, ...]
    trades: tuple[Trade, ...]
    post_trade: dict[str, float]
    costs: CostEstimate
    margin: MarginReport
    notes: tuple[str, ...] = ()
    trigger_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    transfers: tuple[Transfer, ...] = ()
    positions: tuple[PositionReport, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "base_currency": self.base_currency,
            "equity": self.equity,
            "triggered": self.triggered,
            "trigger_reason": self.trigger_reason,
            "classes": [c.to_dict() for c in self.classes],
            "transfers": [t.to_dict() for t in self.transfers],
            "trades": [t.to_dict() for t in self.trades],
            "post_trade": dict(self.post_trade),
            "costs": self.costs.to_dict(),
            "margin": self.margin.to_dict(),
            "positions": [p.to_dict() for p in self.positions],
            "notes": list(self.notes),
        }
        out.update(self.extra)
        return out
