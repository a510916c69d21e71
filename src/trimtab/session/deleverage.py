"""The deleveraging ladder: reduce a position near liquidation until the buffer is restored.

One step closes ``fraction`` of the position with a ``reduceOnly`` order; after each step the book is valued
again with the account model (:mod:`trimtab.valuation.accounts`), so the liquidation price is recomputed:
under cross margin (every account without an ``[[account]]`` table, the backtest's among them), shrinking a
position frees collateral and moves its liquidation price away; under isolated margin (an account declared
``margin_mode = "isolated"``) the price does not move (the position's margin shrinks with it) unless the
smaller position falls into a lower margin tier, so once a step leaves the price where it was the ladder
closes the position. Whether a step moved the price is judged on the account model's figures before and
after it, never against a venue-reported price (which a step drops). The ladder stops as soon as the
distance to liquidation is back above the buffer. All the steps on one symbol are sent as one reduce-only order (the
per-order cap does not apply to reduce-only orders: they only lower risk).

The exposure the cut removes moves to spot where it can (the plan says which): buying back part of a short
hedge is paired with selling the same amount of the coin when it is held; selling part of a long perpetual
with buying the coin when cash allows. Without that fallback a book whose margin cannot carry its hedges
would drift away from its targets once the hedges are gone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from trimtab.domain.accounts import MarginMode
from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Side, Trade
from trimtab.domain.portfolio import Portfolio
from trimtab.planner.apply import apply_trades
from trimtab.planner.hedge_limits import Buffers, buffer_of, inside_buffer
from trimtab.policy.config import Policy
from trimtab.valuation.model import PositionRisk, Valuation
from trimtab.valuation.valuate import valuate

MAX_STEPS = 12
_STUCK = {
    MarginMode.ISOLATED: ": its liquidation price does not move as it shrinks (isolated margin)",
    MarginMode.CROSS: (
        ": its liquidation price does not move away as it shrinks (cross margin: the account's collateral does"
        " not cover its other positions' maintenance margin)"
    ),
}
DERIVATIVES = (InstrumentKind.PERP, InstrumentKind.FUTURE)


@dataclass(frozen=True)
class Ladder:
    """The ladder's verdict: whether new exposure is blocked, the trades, and one sentence per position."""

    reducing_only: bool
    trades: tuple[Trade, ...] = ()
    reasons: tuple[str, ...] = ()


CLEAR = Ladder(False)
"""The verdict when no position is inside its buffer (most cycles: one shared value)."""


def reducing_trade(risk: PositionRisk, amount: float, reason: str, venue: str | None = None) -> Trade:
    """A reduce-only trade of ``amount`` against ``risk``'s position (selling a long, buying back a short) at its
    mark, on ``venue`` (by default the account that holds the position)."""
    side = Side.SELL if risk.amount > 0 else Side.BUY
    return Trade(
        risk.class_name,
        risk.symbol,
        risk.instrument.kind,
        side,
        amount,
        amount * risk.mark,
        risk.mark,
        venue or risk.venue or "default",
        True,
        reason,
    )


def _at_risk(valuation: Valuation, buffers: Buffers) -> list[PositionRisk]:
    return [
        p
        for p in valuation.positions
        if p.liquidation_distance is not None
        and p.amount != 0
        and p.instrument.kind in DERIVATIVES
        and inside_buffer(buffers, p.instrument.symbol, p.liquidation_distance)
    ]


def _position(
    portfolio: Portfolio, market: MarketSnapshot, policy: Policy, symbol: str, venue: str | None
) -> PositionRisk | None:
    valuation = valuate(portfolio, market, policy.asset_classes())
    return next((p for p in valuation.positions if p.symbol == symbol and p.venue == venue and p.amount != 0), None)


def _modelled(portfolio: Portfolio, start: PositionRisk) -> Portfolio:
    """``portfolio`` without the venue's own liquidation price on ``start``'s row: the account model's figure.

    Each step's book is priced by the account model (an order drops the venue's figure, see
    :mod:`trimtab.planner.apply`), so whether a step moved the price is judged model against model.
    """
    rows = tuple(
        replace(p, liquidation_price=None) if p.symbol == start.symbol and p.venue == start.venue else p
        for p in portfolio.derivatives
    )
    return replace(portfolio, derivatives=rows)


def _climb(
    portfolio: Portfolio, market: MarketSnapshot, policy: Policy, start: PositionRisk, buffer: float, fraction: float
) -> tuple[float, PositionRisk | None, int, bool]:
    """Steps on ``start`` until its buffer is back: (amount cut, the position after, steps, closed as stuck).

    After each step the book is valued again, so the liquidation price is the account model's for what is
    left: under cross margin the cut frees collateral and the price moves away; when a step does not move it
    away (isolated margin without a lower tier to fall into, or a cross account whose collateral no longer
    covers its other positions' maintenance margin) only closing helps, and the position is closed.
    """
    fee, leverage = policy.costs.taker_fee, policy.rebalance.hedge_leverage
    current, cut, steps, stuck = portfolio, 0.0, 0, False
    risk: PositionRisk | None = start
    modelled = _position(_modelled(portfolio, start), market, policy, start.symbol, start.venue)
    previous = modelled.liquidation_distance if modelled is not None else None
    while risk is not None and steps < MAX_STEPS:
        distance = risk.liquidation_distance
        if distance is None or distance >= buffer:
            break
        if steps > 0:
            previous_distance, previous = previous, distance
            if previous_distance is not None and distance <= previous_distance + 1e-12:
                stuck = True  # the liquidation price does not move away: only closing helps
        amount = abs(risk.amount) if stuck else abs(risk.amount) * fraction
        if abs(risk.amount) - amount <= 1e-12 * abs(start.amount):
            amount = abs(risk.amount)
        current = apply_trades(current, [reducing_trade(risk, amount, "")], market, fee, leverage)
        cut += amount
        steps += 1
        if cut >= abs(start.amount) * (1 - 1e-12):
            return abs(start.amount), None, steps, stuck
        risk = _position(current, market, policy, start.symbol, start.venue)
    return cut, risk, steps, stuck


def _margin_mode(valuation: Valuation, venue: str | None) -> MarginMode:
    """The margin mode of the account ``venue`` names (cross when the valuation does not list it)."""
    return next((a.margin_mode for a in valuation.accounts if a.name == venue), MarginMode.CROSS)


def _spot_fallback(
    risk: PositionRisk, cut: float, portfolio: Portfolio, market: MarketSnapshot, policy: Policy, reason: str
) -> Trade | None:
    """The spot trade that keeps the class's exposure when ``cut`` of the hedge goes (None when impossible)."""
    asset, base = risk.instrument.base, policy.base_currency
    price = market.prices.get(asset)
    if price is None or asset == base:
        return None
    if risk.amount < 0:
        amount = min(cut, max(portfolio.spot_amount(asset), 0.0))
        side = Side.SELL
    else:
        cash = max(portfolio.spot_amount(base), 0.0) / (1.0 + policy.costs.taker_fee + policy.costs.slippage)
        amount = min(cut, cash / price)
        side = Side.BUY
    if amount * price < max(policy.rebalance.min_notional, 1e-9):
        return None
    symbol = f"{asset}/{base}"
    venue = risk.venue or "default"
    return Trade(
        risk.class_name, symbol, InstrumentKind.SPOT, side, amount, amount * price, price, venue, False, reason
    )


def deleverage_ladder(
    portfolio: Portfolio,
    market: MarketSnapshot,
    policy: Policy,
    buffer: Buffers,
    fraction: float,
    valuation: Valuation | None = None,
) -> Ladder:
    """Reduce every derivative closer to liquidation than ``buffer`` until it is ``buffer`` away again.

    ``valuation`` is the book's valuation at ``market`` when the caller has it.

    Returns
    -------
    Ladder
        ``reducing_only`` when a position was inside the buffer; per such position one reduce-only trade
        (the ladder's steps added up) and, where possible, the spot trade that keeps the class's exposure.
    """
    trades: list[Trade] = []
    reasons: list[str] = []
    if valuation is None:
        valuation = valuate(portfolio, market, policy.asset_classes())
    at_risk = _at_risk(valuation, buffer)
    if not at_risk:
        return CLEAR
    for start in at_risk:
        limit = buffer_of(buffer, start.symbol)
        cut, after, steps, stuck = _climb(portfolio, market, policy, start, limit, fraction)
        if cut <= 0:
            continue
        share = cut / abs(start.amount)
        before = f"{start.symbol} is {start.liquidation_distance:.1%} from liquidation (buffer {limit:.1%})"
        if after is None:
            how = "closing it" + (_STUCK[_margin_mode(valuation, start.venue)] if stuck else "")
        else:
            moved = f"liquidation price {start.liquidation_price:,.2f} -> {after.liquidation_price:,.2f}"
            how = f"reducing it by {share:.0%} in {steps} step(s) ({moved}, {after.liquidation_distance:.1%} away)"
        reason = f"{before}: {how}"
        trades.append(reducing_trade(start, cut, reason))
        spot = _spot_fallback(start, cut, portfolio, market, policy, "")
        if spot is not None:
            side = "selling" if spot.side is Side.SELL else "buying"
            reason += (
                f"; {side} {spot.amount:g} {start.instrument.base} spot instead keeps {start.class_name}'s exposure"
            )
            spot = Trade(
                spot.class_name,
                spot.symbol,
                spot.instrument,
                spot.side,
                spot.amount,
                spot.notional,
                spot.price,
                spot.venue,
                False,
                reason,
            )
            trades.append(spot)
        reasons.append(reason)
    return Ladder(bool(at_risk), tuple(trades), tuple(reasons))
