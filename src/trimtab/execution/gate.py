"""The pre-trade gate: every order passes it just before it is journaled and sent.

Rules, in order: trading is not halted; the symbol is listed (and allowed); the amount is on the venue's
step and not below its minimum amount or notional (dust is refused, never rounded up); the price is within
the collar of a fresh reference; the order, the cycle and the day stay under their caps on count, notional
and turnover; a derivative order that shrinks a position is ``reduceOnly`` and no larger than the position;
no derivative order grows exposure while the account is reducing only (liquidation buffer crossed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from trimtab.domain.plan import Side
from trimtab.errors import TrimtabError
from trimtab.execution.config import ExecutionConfig
from trimtab.venues.ports import OrderRequest, VenueMarket


class GateRefusedError(TrimtabError):
    """An order the gate refused; ``rule`` names the rule (``halted``, ``collar``, ``cap``...)."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(message)


@dataclass(frozen=True)
class GateContext:
    """What the gate needs to know besides the order: equity, counters, position, trading state."""

    equity: float
    halted: bool = False
    halt_reason: str = ""
    reducing_only: bool = False
    cycle_orders: int = 0
    cycle_notional: float = 0.0
    day_orders: int = 0
    day_notional: float = 0.0
    position: float = 0.0


def floor_to_step(amount: float, step: float) -> float:
    """``amount`` truncated to a multiple of ``step`` (as exchanges do); unchanged when step is 0."""
    if step <= 0:
        return amount
    steps = math.floor(amount / step + 1e-9)
    return round(steps * step, 12)


class PreTradeGate:
    """Checks orders against the venue's markets and the execution limits."""

    def __init__(self, config: ExecutionConfig, markets: Mapping[str, VenueMarket]) -> None:
        self.config = config
        self.markets = markets

    def round_amount(self, symbol: str, amount: float) -> float:
        market = self.markets.get(symbol)
        return amount if market is None else floor_to_step(amount, market.rules.amount_step)

    def is_dust(self, symbol: str, amount: float, price: float) -> bool:
        """Whether ``amount`` rounds to nothing tradable (below the step, minimum amount or notional)."""
        market = self.markets.get(symbol)
        rounded = self.round_amount(symbol, amount)
        if rounded <= 0:
            return True
        if market is None:
            return False
        return rounded < market.rules.min_amount or rounded * price < market.rules.min_notional

    def check(self, request: OrderRequest, reference: float, fresh: float, context: GateContext) -> None:
        """Refuse ``request`` unless every rule holds.

        Parameters
        ----------
        request:
            The order about to be sent.
        reference:
            The plan's price for the leg (the collar's anchor).
        fresh:
            A reference price read just now (mid or mark).
        context:
            Equity, counters, the current position on the symbol and the trading state.

        Raises
        ------
        GateRefusedError
            Naming the rule that failed.
        """
        config = self.config
        if context.halted:
            raise GateRefusedError("halted", f"trading is halted ({context.halt_reason or 'kill switch'})")
        market = self.markets.get(request.symbol)
        if market is None:
            raise GateRefusedError("symbol", f"{request.symbol} is not listed by the venue")
        if config.allowed_symbols is not None and request.symbol not in config.allowed_symbols:
            raise GateRefusedError("symbol", f"{request.symbol} is not in allowed_symbols")
        rules = market.rules
        if floor_to_step(request.amount, rules.amount_step) != request.amount and rules.amount_step > 0:
            raise GateRefusedError("step", f"{request.amount:g} is not on the step {rules.amount_step:g}")
        price = request.price if request.price is not None else fresh
        if request.amount <= 0 or request.amount < rules.min_amount:
            raise GateRefusedError("minimum", f"{request.amount:g} {request.symbol} is below the minimum amount")
        # an inverse contract is worth its face value (contract size in the quote), whatever the price
        notional = request.amount * (rules.contract_size if market.instrument.is_inverse else price)
        if notional < rules.min_notional:
            raise GateRefusedError("minimum", f"{notional:.2f} is below the minimum notional {rules.min_notional:g}")
        if not (reference > 0 and fresh > 0):
            raise GateRefusedError("collar", f"{request.symbol}: no valid reference price")
        if abs(fresh - reference) / reference > config.max_slippage:
            raise GateRefusedError(
                "collar",
                f"{request.symbol} moved from {reference:g} to {fresh:g}, beyond the {config.max_slippage:.2%} collar",
            )
        if abs(price - reference) / reference > config.max_slippage:
            raise GateRefusedError(
                "collar",
                f"{request.symbol} price {price:g} is beyond the {config.max_slippage:.2%} collar of {reference:g}",
            )
        equity = max(context.equity, 0.0)
        order_cap = min(config.max_order_notional, config.max_order_fraction * equity)
        # A reduce-only order only lowers risk (the deleveraging ladder): the per-order cap does not hold it back.
        if notional > order_cap * (1 + 1e-9) and not request.reduce_only:
            raise GateRefusedError("cap", f"order notional {notional:.2f} exceeds the per-order cap {order_cap:.2f}")
        if context.cycle_orders + 1 > config.max_cycle_orders:
            raise GateRefusedError(
                "cap", f"the cycle already sent {context.cycle_orders} orders (cap {config.max_cycle_orders})"
            )
        cycle_cap = config.max_cycle_notional_fraction * equity
        if context.cycle_notional + notional > cycle_cap * (1 + 1e-9):
            raise GateRefusedError(
                "cap", f"the cycle's notional would reach {context.cycle_notional + notional:.2f} (cap {cycle_cap:.2f})"
            )
        if context.day_orders + 1 > config.max_day_orders:
            raise GateRefusedError(
                "cap", f"the day already sent {context.day_orders} orders (cap {config.max_day_orders})"
            )
        day_cap = config.max_day_notional
        if day_cap is not None and context.day_notional + notional > day_cap * (1 + 1e-9):
            raise GateRefusedError(
                "cap", f"the day's notional would reach {context.day_notional + notional:.2f} (cap {day_cap:.2f})"
            )
        if equity > 0 and (context.day_notional + notional) / equity > config.max_day_turnover * (1 + 1e-9):
            raise GateRefusedError(
                "cap",
                f"the day's turnover would reach {(context.day_notional + notional) / equity:.2f}x equity "
                f"(cap {config.max_day_turnover:g}x)",
            )
        if market.instrument.is_derivative:
            self._check_derivative(request, context)

    @staticmethod
    def _check_derivative(request: OrderRequest, context: GateContext) -> None:
        held = context.position
        signed = request.amount if request.side is Side.BUY else -request.amount
        reduces = held != 0 and signed * held < 0
        if reduces:
            if not request.reduce_only:
                raise GateRefusedError(
                    "reduce_only", f"{request.symbol}: an order that shrinks the position must be reduceOnly"
                )
            if request.amount > abs(held) * (1 + 1e-9):
                raise GateRefusedError(
                    "reduce_only", f"{request.symbol}: {request.amount:g} is more than the position {abs(held):g}"
                )
            return
        if request.reduce_only:
            raise GateRefusedError(
                "reduce_only", f"{request.symbol}: a reduceOnly order must shrink the position ({held:g})"
            )
        if context.reducing_only:
            raise GateRefusedError(
                "reducing_only", f"{request.symbol}: new exposure is blocked (liquidation buffer crossed)"
            )
