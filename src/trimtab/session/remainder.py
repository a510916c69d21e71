"""When margin cannot carry a hedge: the remainder of the exposure goes to spot.

The planner's margin guard (:mod:`trimtab.planner.guard`) scales a plan's derivative openings down to what the
accounts can carry, after any transfer between accounts of one exchange that tops their margin up
(:mod:`trimtab.planner.transfers`). What it cuts leaves a class short of its goal; this module trades that
remainder, and only that, with spot: for each such class, ``(goal - weight after the plan) x equity`` of the
class's hedged coin (the base of its ``hedge``, else its largest asset) is sold when held (a short hedge
cut) or bought with the base currency left after the plan (a long one). The hedge the guard kept stays, and
so does its margin: a buy on a margin account spends only the collateral beyond ``margin_buffer x`` its
initial margin. When nothing can be traded (no coin to sell, no spare cash) the caller plans the whole
rebalance with spot instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from trimtab.domain.classes import AssetClass
from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Plan, Side, Trade
from trimtab.domain.portfolio import DEFAULT_VENUE, Portfolio
from trimtab.planner.apply import apply_plan, apply_trades
from trimtab.planner.costs import CostModel
from trimtab.planner.rounding import round_trade
from trimtab.policy.config import Policy
from trimtab.valuation.model import Valuation
from trimtab.valuation.valuate import valuate


def _coin(asset_class: AssetClass) -> str:
    """The coin that stands in for the class's hedge: the hedge's base when the class holds it."""
    if asset_class.hedge is not None:
        base = parse_symbol(asset_class.hedge).base
        if base in asset_class.assets:
            return base
    return max(asset_class.assets, key=lambda asset: asset_class.weights.get(asset, 0.0))


def _venue(portfolio: Portfolio, asset: str) -> str:
    held = [h for h in portfolio.spot if h.asset == asset and h.amount > 0.0]
    return max(held, key=lambda h: h.amount).venue if held else DEFAULT_VENUE


def _spendable(portfolio: Portfolio, valuation: Valuation, base: str, venue: str, margin_buffer: float) -> float:
    """The base currency on ``venue`` that a spot buy may spend: on a margin account, only what its
    margin buffer does not need (spending collateral the hedge needs would break the limit the guard kept)."""
    cash = sum(h.amount for h in portfolio.spot if h.asset == base and h.venue == venue)
    for account in valuation.accounts:
        if account.name == venue and account.margins:
            cash = min(cash, account.free_collateral - margin_buffer * account.initial)
    return max(cash, 0.0)


def _transfer_clause(plan: Plan) -> str:
    if not plan.transfers:
        return ""
    moved = ", ".join(f"{t.amount:,.2f} {t.asset} {t.from_account} -> {t.to_account}" for t in plan.transfers)
    return f" after the planned transfer ({moved}) topped up margin"


def remainder_to_spot(
    portfolio: Portfolio, market: MarketSnapshot, policy: Policy, plan: Plan, short: Sequence[str]
) -> Plan | None:
    """``plan`` with spot orders for what the margin guard cut from the hedges of ``short`` (None: none possible).

    The returned plan keeps every order of ``plan`` (the hedge the margin carries included), adds the spot
    orders, and says so in its notes; its ``post_trade`` weights and fees include them.
    """
    classes = {c.name: c for c in policy.asset_classes()}
    costs = CostModel.from_config(policy.costs)
    after = apply_plan(portfolio, plan, market, policy)
    base = policy.base_currency
    cash_venue = _venue(after, base)
    cash = _spendable(
        after, valuate(after, market, policy.asset_classes()), base, cash_venue, policy.rebalance.margin_buffer
    )
    per_unit = 1.0 + policy.costs.taker_fee + policy.costs.slippage
    added: list[Trade] = []
    for report in plan.classes:
        if report.name not in short:
            continue
        coin = _coin(classes[report.name])
        price = market.prices.get(coin)
        if price is None or price <= 0.0 or coin == base:
            continue
        gap = (report.goal - plan.post_trade.get(report.name, report.weight)) * plan.equity
        if gap < 0.0:
            amount, side = min(-gap / price, max(after.spot_amount(coin), 0.0)), Side.SELL
        else:
            amount, side = min(gap / price, cash / per_unit / price), Side.BUY
        reason = f"{report.name}: the part of the hedge margin cannot carry, in spot"
        order = Trade(
            report.name,
            f"{coin}/{base}",
            InstrumentKind.SPOT,
            side,
            amount,
            amount * price,
            price,
            _venue(after, coin),
            False,
            reason,
        )
        rounded, _ = round_trade(order, market, policy.rebalance.min_notional)
        if rounded is None:
            continue
        if side is Side.BUY:
            cash -= rounded.notional * per_unit
        added.append(rounded)
    if not added:
        return None
    final = apply_trades(after, added, market, costs.fees.fee, policy.rebalance.hedge_leverage)
    weights = valuate(final, market, policy.asset_classes()).weights
    fees = sum(costs.fees.fee(t.notional, t.instrument.value) for t in added)
    slippage = sum(costs.slippage.cost(t.notional) for t in added)
    spent = replace(plan.costs, fees=plan.costs.fees + fees, slippage=plan.costs.slippage + slippage)
    names = ", ".join(dict.fromkeys(t.class_name for t in added))
    moves = "; ".join(
        f"{'selling' if t.side is Side.SELL else 'buying'} {t.amount:g} {t.symbol} ({t.notional:,.2f} {base})"
        for t in added
    )
    note = (
        f"margin cannot carry the whole hedge of {names}{_transfer_clause(plan)}: the hedge it carries is kept "
        f"and only the remainder goes to spot ({moves})"
    )
    return replace(
        plan, trades=(*plan.trades, *added), post_trade=dict(weights), costs=spent, notes=(*plan.notes, note)
    )
