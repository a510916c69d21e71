"""From goals to reviewed orders: sizing, rounding, sending order, transfers and the margin guard.

:class:`OrderSizer` holds what one plan's sizing needs, so that ``auto``'s limits
(:mod:`trimtab.planner.hedge_limits`) can size the plan again with some hedges refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from trimtab.domain.classes import AssetClass
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Side, Trade, Transfer
from trimtab.domain.portfolio import Portfolio
from trimtab.planner.apply import apply_trades, apply_transfers
from trimtab.planner.costs import CostModel
from trimtab.planner.goals import Goals
from trimtab.planner.guard import Reviewed, review
from trimtab.planner.limits import Limits, margin_report
from trimtab.planner.rounding import edge_limits, round_trades
from trimtab.planner.sizing import Instruction, Sizing, size_trades
from trimtab.planner.transfers import plan_transfers
from trimtab.policy.config import RebalanceConfig
from trimtab.valuation.model import Valuation
from trimtab.valuation.valuate import valuate


def trade_order(trade: Trade) -> tuple[int, int]:
    """Sort key: sells before buys; within each side, reductions before openings."""
    return (0 if trade.side is Side.SELL else 1, 0 if trade.reduce_only else 1)


@dataclass(frozen=True, slots=True)
class Orders:
    """One sizing of a plan: the raw sizing, the rounded orders in sending order, the transfers and the guard's
    review."""

    sizing: Sizing
    rounding_notes: tuple[str, ...]
    ordered: tuple[Trade, ...]
    transfers: tuple[Transfer, ...]
    reviewed: Reviewed


@dataclass(frozen=True, slots=True)
class OrderSizer:
    """Sizes one plan's orders from its goals (``resplit``: see :func:`~trimtab.planner.sizing.size_trades`)."""

    portfolio: Portfolio
    market: MarketSnapshot
    classes: Sequence[AssetClass]
    valuation: Valuation
    goals: Goals
    instructions: Mapping[str, Instruction]
    costs: CostModel
    rebalance: RebalanceConfig
    resplit: bool
    edge_rooms: Mapping[str, tuple[float, float]] | None = None
    """Band-edge plans: class -> (room to fall, room to rise) before the far edge of its band, in the base
    currency; its spot orders round up to the lot, toward the band's inside (:func:`edge_limits`)."""

    def after(self, transfers: Sequence[Transfer], trades: Sequence[Trade]) -> tuple[Portfolio, Valuation]:
        """The book after ``transfers`` and ``trades`` (fees paid), and its valuation."""
        moved = apply_transfers(self.portfolio, transfers)
        applied = apply_trades(moved, trades, self.market, self.costs.fees.fee, self.rebalance.hedge_leverage)
        return applied, valuate(applied, self.market, self.classes)

    def size(self, refused: Mapping[str, str]) -> Orders:
        """The orders, with the hedges of the ``refused`` classes (class -> why) left to spot, rounded, funded
        and reviewed by the margin guard."""
        instructions = self.instructions
        if refused:
            instructions = {name: replace(i, refused=refused.get(name)) for name, i in instructions.items()}
        sizing = size_trades(
            self.valuation,
            self.portfolio,
            self.market,
            self.classes,
            self.goals.goals,
            self.goals.moving,
            instructions,
            self.costs,
            resplit=self.resplit,
        )
        up_to = edge_limits(sizing.trades, self.portfolio, self.market, self.edge_rooms) if self.edge_rooms else []
        rounded = round_trades(sizing.trades, self.market, self.rebalance.min_notional, up_to)
        ordered = tuple(sorted(rounded.trades, key=trade_order))
        limits = Limits(self.rebalance.margin_buffer, self.rebalance.max_leverage)
        transfers, reviewed = guarded(ordered, self.after, self.portfolio, self.market, limits, self.rebalance)
        return Orders(sizing, tuple(rounded.notes), ordered, transfers, reviewed)


def guarded(
    trades: Sequence[Trade],
    after: Callable[[Sequence[Transfer], Sequence[Trade]], tuple[Portfolio, Valuation]],
    portfolio: Portfolio,
    market: MarketSnapshot,
    limits: Limits,
    rebalance: RebalanceConfig,
) -> tuple[tuple[Transfer, ...], Reviewed]:
    """Fund the openings by transfers (unless ``transfers = false``), then let the guard cut what is left.

    When the guard cuts the openings, the transfers are planned again for what it kept, so that no more is
    moved than the plan needs.
    """
    transfers: tuple[Transfer, ...] = ()
    if rebalance.transfers:
        transfers = plan_transfers(portfolio, trades, after, market, limits.margin_buffer)
    reviewed = review(trades, lambda t: after(transfers, t)[1], market, limits, rebalance.min_notional)
    if transfers and reviewed.scale < 1.0:
        smaller = plan_transfers(portfolio, reviewed.trades, after, market, limits.margin_buffer)
        valued = after(smaller, reviewed.trades)[1]
        margin = margin_report(valued, limits, market)
        if margin.ok or not reviewed.margin.ok:
            transfers = smaller
            reviewed = replace(reviewed, valuation=valued, margin=margin)
    moves = tuple(
        f"transfer {t.amount:.8g} {t.asset} from {t.from_account} to {t.to_account} before the orders: {t.reason}"
        for t in transfers
    )
    reviewed = replace(reviewed, notes=(*moves, *reviewed.notes))
    if not rebalance.transfers and reviewed.scale < 1.0:
        note = "transfers = false: no collateral was moved between accounts to fund the openings"
        reviewed = replace(reviewed, notes=(*reviewed.notes, note))
    return transfers, reviewed
