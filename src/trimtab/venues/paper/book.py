"""The paper account's book: the simulated account plus orders, trades and ids, and what time does to it.

A :class:`PaperBook` is what the paper venue keeps in its store, as one JSON document. It records fills
(:meth:`PaperBook.execute`), settles funding stamps, expiries and liquidations as time passes, and turns its order
records into the Venue port's :class:`~trimtab.venues.ports.OrderState`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from trimtab.domain.accounts import Account, AccountKind, MarginMode
from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Side
from trimtab.domain.portfolio import Portfolio
from trimtab.venues.paper.feed import PriceFeed
from trimtab.venues.paper.persistence import iso, parse_time
from trimtab.venues.ports import OrderState, OrderStatus, OrderType
from trimtab.venues.simulation import Liquidity, PerpPosition, RealityModels, Settlement, SimulatedAccount, is_expired
from trimtab.venues.simulation.margin import Liquidation

_EPS = 1e-12


@dataclass
class PaperBook:
    """Balances and positions (the simulated account), leverage per symbol, orders by client id, trades."""

    account: SimulatedAccount
    leverage: dict[str, float]
    orders: dict[str, dict[str, Any]]
    trades: list[dict[str, Any]]
    order_seq: int
    trade_seq: int
    funding_at: datetime
    settlements: list[dict[str, Any]] = field(default_factory=list)
    flows_applied: int = 0
    """The journal id of the last cash flow (``trimtab flow``) credited to the account: each is credited once."""

    @classmethod
    def new(cls, portfolio: Portfolio, models: RealityModels, now: datetime, venue: str | None = None) -> PaperBook:
        """A fresh account holding ``portfolio`` (every venue merged), or its ``venue`` as that account."""
        account = SimulatedAccount.from_portfolio(portfolio, models, venue)
        account.balances = {a: v for a, v in account.balances.items() if v != 0.0}
        leverage = {p.symbol: p.leverage for p in portfolio.derivatives}
        return cls(account, leverage, {}, [], 0, 0, now)

    @classmethod
    def from_document(cls, document: dict[str, Any], models: RealityModels, now: datetime) -> PaperBook:
        """The book a stored document describes."""
        account = SimulatedAccount(document["base_currency"], models, dict(document["balances"]))
        account.account = account_from_document(document.get("account"))
        for symbol, p in document["positions"].items():
            account.positions[symbol] = PerpPosition(
                parse_symbol(symbol), p["amount"], p["entry_price"], p.get("leverage", 1.0), p.get("contract_size", 1.0)
            )
        account.fees_paid = document.get("fees_paid", 0.0)
        account.funding_paid = document.get("funding_paid", 0.0)
        account.slippage_paid = document.get("slippage_paid", 0.0)
        return cls(
            account,
            dict(document.get("leverage", {})),
            dict(document["orders"]),
            list(document["trades"]),
            int(document["order_seq"]),
            int(document["trade_seq"]),
            parse_time(document.get("funding_at")) or now,
            list(document.get("settlements", [])),
            int(document.get("flows_applied", 0)),
        )

    def to_document(self) -> dict[str, Any]:
        """The JSON document kept in the store."""
        account = self.account
        return {
            "base_currency": account.base_currency,
            "account": account_to_document(account.account),
            "balances": dict(account.balances),
            "positions": {
                s: {
                    "amount": p.amount,
                    "entry_price": p.entry_price,
                    "leverage": p.leverage,
                    "contract_size": p.contract_size,
                }
                for s, p in account.positions.items()
            },
            "leverage": dict(self.leverage),
            "orders": self.orders,
            "trades": self.trades,
            "order_seq": self.order_seq,
            "trade_seq": self.trade_seq,
            "funding_at": iso(self.funding_at),
            "settlements": self.settlements,
            "fees_paid": account.fees_paid,
            "funding_paid": account.funding_paid,
            "slippage_paid": account.slippage_paid,
            "flows_applied": self.flows_applied,
        }

    def execute(
        self,
        order: dict[str, Any],
        amount: float,
        reference: float,
        liquidity: Liquidity,
        limit_price: float | None,
        now: datetime,
    ) -> None:
        """Fill ``amount`` of ``order`` on the account (at the slippage model's price, or at ``limit_price``)."""
        if amount <= _EPS:
            return
        signed = amount if order["side"] == "buy" else -amount
        leverage = self.leverage.get(order["symbol"], 1.0)
        size = order.get("contract_size")
        if limit_price is None:
            report = self.account.fill(
                order["symbol"], signed, reference, leverage=leverage, liquidity=liquidity, contract_size=size
            )
        else:
            report = self.account.fill(
                order["symbol"],
                signed,
                limit_price,
                leverage=leverage,
                liquidity=liquidity,
                slippage_fraction=0.0,
                contract_size=size,
            )
        self.trade_seq += 1
        order["filled"] += report.amount
        order["cost"] += report.notional
        order["fee"] += report.fee
        self._trade(
            f"T{self.trade_seq}",
            order["client_order_id"],
            order["exchange_order_id"],
            order["symbol"],
            order["side"],
            report.amount,
            report.price,
            report.fee,
            liquidity.value,
            now,
        )

    def _trade(
        self,
        trade_id: str,
        client_order_id: str | None,
        exchange_order_id: str,
        symbol: str,
        side: str,
        amount: float,
        price: float,
        fee: float,
        liquidity: str,
        now: datetime,
    ) -> None:
        self.trades.append(
            {
                "trade_id": trade_id,
                "client_order_id": client_order_id,
                "exchange_order_id": exchange_order_id,
                "symbol": symbol,
                "side": side,
                "amount": amount,
                "price": price,
                "fee": fee,
                "liquidity": liquidity,
                "timestamp": iso(now),
            }
        )

    @staticmethod
    def settle_status(order: dict[str, Any]) -> None:
        """Mark an open order filled or partly filled from its filled amount."""
        if OrderStatus(order["status"]).is_final:
            return
        if order["filled"] >= order["amount"] * (1.0 - 1e-12):
            order["status"] = OrderStatus.FILLED.value
        elif order["filled"] > 0:
            order["status"] = OrderStatus.PARTIALLY_FILLED.value

    def settle_funding(self, feed: PriceFeed, market: MarketSnapshot, now: datetime) -> bool:
        """Pay every funding settlement the feed had since the last call; True when money moved.

        Each settlement is paid at its own rate and at the mark of its stamp when the feed knows it, else at
        the mark now (the backtest's rule, so a replay pays what the backtest pays).
        """
        if now <= self.funding_at:
            return False
        changed = False
        for symbol, position in list(self.account.positions.items()):
            quote = market.derivatives.get(symbol)
            if quote is None or position.instrument.kind is not InstrumentKind.PERP:
                continue
            for _stamp, rate, mark in feed.funding_between(symbol, self.funding_at, now):
                self.account.accrue_funding(symbol, rate, quote.mark if mark is None else mark)
                changed = True
        self.funding_at = now
        return changed

    def settle_expiries(self, feed: PriceFeed, now: datetime) -> list[Settlement]:
        """Settle the futures and options that expired by ``now`` and expire their resting orders.

        Each settlement is kept in the account's record (``settlements``) at the underlying's price at expiry.
        """
        settlements = self.account.settle_expired(now, lambda instrument, at: feed.price_at(instrument.base, at))
        for settlement in settlements:
            self.settlements.append(settlement.to_dict() | {"settled_at": iso(now)})
            self.leverage.pop(settlement.symbol, None)
        for order in self.orders.values():
            if OrderStatus(order["status"]).is_open and is_expired(parse_symbol(order["symbol"]), now):
                order["status"] = OrderStatus.EXPIRED.value
        return settlements

    def liquidate(self, market: MarketSnapshot, now: datetime) -> list[Liquidation]:
        """Close every position whose mark reached its liquidation price; the liquidations (empty: none)."""
        adverse = {s: (q.mark, q.mark) for s, q in market.derivatives.items() if s in self.account.positions}
        if not adverse:
            return []
        liquidations = self.account.check_liquidations(adverse, market)
        for liquidation in liquidations:
            self.trade_seq += 1
            side = "sell" if liquidation.amount > 0 else "buy"
            self._trade(
                f"L{self.trade_seq}",
                None,
                f"liquidation-{self.trade_seq}",
                liquidation.symbol,
                side,
                abs(liquidation.amount),
                liquidation.price,
                liquidation.fee,
                "taker",
                now,
            )
        return list(liquidations)

    def order_state(self, order: dict[str, Any]) -> OrderState:
        """An order record as the Venue port reports it."""
        filled = float(order["filled"])
        return OrderState(
            client_order_id=order["client_order_id"],
            exchange_order_id=order["exchange_order_id"],
            symbol=order["symbol"],
            side=Side(order["side"]),
            type=OrderType(order["type"]),
            amount=float(order["amount"]),
            price=order["price"],
            filled=filled,
            average_price=order["cost"] / filled if filled > 0 else None,
            fee=float(order["fee"]),
            fee_currency=self.account.base_currency,
            status=OrderStatus(order["status"]),
            timestamp=parse_time(order["timestamp"]),
        )


def account_to_document(account: Account | None) -> dict[str, Any] | None:
    """The portfolio account a paper account simulates, as JSON (None: the contract's default, unified and cross)."""
    if account is None:
        return None
    return {
        "name": account.name,
        "exchange": account.exchange,
        "kind": account.kind.value,
        "margin_mode": account.margin_mode.value,
        "collateral": dict(account.collateral),
    }


def account_from_document(document: dict[str, Any] | None) -> Account | None:
    """The account :func:`account_to_document` wrote."""
    if not document:
        return None
    return Account(
        document["name"],
        document["exchange"],
        AccountKind(document["kind"]),
        MarginMode(document["margin_mode"]),
        dict(document["collateral"]),
    )
