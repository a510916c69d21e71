"""``make_plan``: valuation -> target model -> bands -> trigger -> goals -> orders -> guard -> report.

Pure and deterministic: the same portfolio, snapshot, policy and context give the same plan; "now" is
the snapshot's timestamp. Beyond the valuation before trading, one valuation values the plan applied (the
post-trade report and the margin check); the guard adds two when it has to cut (with and without the
derivative openings), so planning stays fast on large books.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial

from trimtab.domain.classes import AssetClass
from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.lots import LotBook
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import ClassReport, CostEstimate, MarginReport, Plan, Trade, Transfer
from trimtab.domain.portfolio import Portfolio
from trimtab.planner.apply import apply_trades, apply_transfers
from trimtab.planner.costs import CostModel, HedgeRisk
from trimtab.planner.flows import steer_goals
from trimtab.planner.goals import Goals, compute_goals
from trimtab.planner.hedge_limits import DEFAULT_LIQUIDATION_BUFFER, Buffers, within_limits
from trimtab.planner.horizon import auto_horizons
from trimtab.planner.limits import Limits, liquidation_notes, margin_report, position_reports
from trimtab.planner.orders import OrderSizer
from trimtab.planner.sizing import Instruction
from trimtab.planner.tax import TaxOutcome, realise, sale_tax
from trimtab.planner.transfers import plan_transfers
from trimtab.policy.bands import AutoBands, Band, class_bands, class_volatility
from trimtab.policy.config import Policy, RebalanceConfig
from trimtab.policy.estimation import PriceWindow
from trimtab.policy.targets import TargetContext, TargetSet, build_target_model
from trimtab.policy.triggers import TriggerContext, TriggerDecision, build_trigger
from trimtab.valuation.model import Valuation
from trimtab.valuation.valuate import valuate


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What the caller remembers between plans (the core keeps no state).

    ``last_rebalance`` and ``last_check`` pace calendar and hybrid triggers; ``peak_equity`` and ``betas``
    feed the CPPI and beta-neutral target models; ``volatility`` (asset -> annualised volatility)
    overrides the snapshot's for adaptive bands (a backtest passes realised volatility). ``lots`` are the
    open tax lots (None when the caller keeps none): spot sales consume them and, under ``[tax]``, pay tax.
    """

    last_rebalance: datetime | None = None
    last_check: datetime | None = None
    peak_equity: float | None = None
    betas: Mapping[str, float] = field(default_factory=dict)
    volatility: Mapping[str, float] | None = None
    window: PriceWindow | None = None
    lots: LotBook | None = None
    hold_days: Mapping[str, float] | None = None
    """Per hedge symbol, the session's measured notional-weighted holding time of its hedges, in days (a symbol
    absent: none measured); the funding horizon of ``funding_horizon_days = "auto"``
    (:mod:`trimtab.planner.horizon`)."""
    flow: float = 0.0
    """A deposit (> 0) or withdrawal (< 0) in the base currency that reached the account since the last
    carried-out cycle: the plan steers it (:mod:`trimtab.planner.flows`) instead of consulting the trigger."""
    liquidation_buffers: Buffers = DEFAULT_LIQUIDATION_BUFFER
    """How far from liquidation a hedge ``auto`` opens must stay (one buffer, or one per symbol): the session
    passes the buffers its guard keeps (:func:`trimtab.planner.hedge_limits.volatility_buffer`)."""


def _class_reports(
    classes: Sequence[AssetClass], valuation: Valuation, bands: Mapping[str, Band], goals: Mapping[str, float]
) -> tuple[ClassReport, ...]:
    reports = []
    for exposure in valuation.classes:
        band = bands[exposure.name]
        reports.append(
            ClassReport(
                name=exposure.name,
                target=band.target,
                lower=band.lower,
                upper=band.upper,
                weight=exposure.weight,
                net_exposure=exposure.net_exposure,
                breached=band.breached(exposure.weight),
                goal=goals[exposure.name],
                cash=exposure.cash,
            )
        )
    return tuple(reports)


def _instructions(classes: Sequence[AssetClass], policy: Policy, target_set: TargetSet) -> dict[str, Instruction]:
    """Per class: the instrument mode and hedge symbol, with the target model's overrides."""
    mode = policy.rebalance.instrument
    return {
        c.name: Instruction(target_set.instruments.get(c.name, mode), target_set.hedges.get(c.name, c.hedge))
        for c in classes
    }


def _costs(fees: float, slippage: float, funding_per_day: float, taxed: TaxOutcome | None) -> CostEstimate:
    if taxed is None:
        return CostEstimate(fees, slippage, funding_per_day)
    realised = taxed.realised
    return CostEstimate(fees, slippage, funding_per_day, taxed.tax, realised.gains, realised.losses)


def _realise(
    trades: Sequence[Trade], policy: Policy, market: MarketSnapshot, lots: LotBook | None
) -> TaxOutcome | None:
    """The lots the plan's spot sales consume and their tax; None without lots and without ``[tax]``."""
    if lots is None and policy.tax is None:
        return None
    rules = policy.tax.rules() if policy.tax is not None else None
    return realise(trades, lots if lots is not None else LotBook(), rules, market.timestamp)


def _auto_band_note(
    classes: Sequence[AssetClass], bands: Mapping[str, Band], volatility: Mapping[str, float], auto: AutoBands
) -> str:
    """The widths that ``band = "auto"`` gave, and the classes still without a volatility."""
    known = [c for c in classes if c.band_auto and class_volatility(c, volatility) is not None]
    unknown = [c.name for c in classes if c.band_auto and c not in known]
    widths = ", ".join(f"{c.name} +/- {bands[c.name].half_width * 100:.2f} %" for c in known)
    note = (
        f"bands from costs (round trip {auto.round_trip_cost * 100:.3f} %, tracking budget "
        f"{auto.tracking_budget * 100:.2f} %): {widths or 'none'}"
    )
    if unknown:
        note += f"; no volatility for {', '.join(unknown)}: +/- {math.sqrt(3.0) * auto.tracking_budget * 100:.2f} %"
    return note


def _quiet_plan(
    valuation: Valuation,
    classes: Sequence[AssetClass],
    bands: Mapping[str, Band],
    policy: Policy,
    market: MarketSnapshot,
    reason: str,
    notes: Sequence[str],
    taxed: TaxOutcome | None = None,
) -> Plan:
    """The plan when nothing is traded: every goal is the current weight."""
    weights = valuation.weights
    limits = Limits(policy.rebalance.margin_buffer, policy.rebalance.max_leverage)
    return Plan(
        base_currency=valuation.base_currency,
        equity=valuation.equity,
        triggered=False,
        classes=_class_reports(classes, valuation, bands, weights),
        trades=(),
        post_trade=dict(weights),
        costs=_costs(0.0, 0.0, valuation.funding_per_day, taxed),
        margin=_margin(valuation, margin_report(valuation, limits, market), limits, market),
        notes=tuple(notes),
        trigger_reason=reason,
        positions=position_reports(valuation, market),
    )


def _margin(before: Valuation, after: MarginReport, limits: Limits, market: MarketSnapshot) -> MarginReport:
    """The book's sums as it is, ``ok`` and ``accounts`` after the plan, and the sums after it in ``after``."""
    return replace(margin_report(before, limits, market), ok=after.ok, accounts=after.accounts, after=after)


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    """A plan and whether its trigger looked at the bands (a check point: the caller moves ``last_check``)."""

    plan: Plan
    checked: bool
    valuation: Valuation | None = None
    """The book as it was planned from (before the plan), so that the session's guards need not value it again."""
    bands: Mapping[str, Band] | None = None
    """The classes' bands the plan was made against (the session's funding monitor reads their drift horizons)."""


def make_plan(
    portfolio: Portfolio, market: MarketSnapshot, policy: Policy, context: PlanContext = PlanContext()
) -> Plan:
    """The rebalance plan for ``portfolio`` at ``market`` under ``policy`` (:func:`plan_outcome`'s plan)."""
    return plan_outcome(portfolio, market, policy, context).plan


def plan_outcome(
    portfolio: Portfolio, market: MarketSnapshot, policy: Policy, context: PlanContext = PlanContext()
) -> PlanOutcome:
    """The rebalance plan for ``portfolio`` at ``market`` under ``policy``. Never trades.

    Parameters
    ----------
    portfolio:
        What is held.
    market:
        Prices, marks, funding, volatilities and venue rules at one moment; its timestamp is "now".
    policy:
        Classes, targets, bands, trigger, rebalance rules and costs.
    context:
        Times and state remembered by the caller (triggers' pacing, CPPI peak, betas, volatility).

    Returns
    -------
    PlanOutcome
        The plan and whether this moment was a check point of the trigger. The plan holds the classes
        against their bands, the orders (sells before buys, reductions before openings),
        the weights after them at snapshot prices with fees paid, costs, margin after the plan and notes.
        When the trigger does not fire there are no orders and every goal is the current weight.

    Raises
    ------
    KeyError
        If a held or traded asset or derivative has no price or quote in the snapshot.
    ValueError
        If a derivative counts toward no class of the policy.
    """
    classes = policy.asset_classes()
    valuation = valuate(portfolio, market, classes)
    target_set = build_target_model(policy).targets(
        valuation, TargetContext(peak_equity=context.peak_equity, betas=context.betas, window=context.window)
    )
    volatility = context.volatility if context.volatility is not None else market.volatility
    auto = AutoBands.from_policy(policy)
    bands = class_bands(classes, target_set.targets, policy.trigger.adaptive, volatility, auto)
    steered = context.flow != 0.0
    if steered:
        decision = TriggerDecision(True, _flow_reason(context.flow, valuation.base_currency), (), checked=False)
    else:
        decision = build_trigger(policy.trigger).check(
            valuation,
            bands,
            TriggerContext(now=market.timestamp, last_rebalance=context.last_rebalance, last_check=context.last_check),
        )
    notes = [*target_set.notes, *liquidation_notes(valuation)]
    if auto is not None:
        notes.append(_auto_band_note(classes, bands, volatility, auto))
    untraded = _realise((), policy, market, context.lots)
    if not decision.fired:
        quiet = _quiet_plan(valuation, classes, bands, policy, market, decision.reason, notes, untraded)
        return PlanOutcome(quiet, decision.checked, valuation, bands)
    if valuation.equity <= 0.0:
        notes.append(f"equity is {valuation.equity:.2f}: nothing to rebalance")
        quiet = _quiet_plan(valuation, classes, bands, policy, market, decision.reason, notes, untraded)
        return PlanOutcome(quiet, decision.checked, valuation, bands)

    rebalance = policy.rebalance
    cash = next(c.name for c in classes if c.cash)
    edge = [c.name for c in classes if c.band_auto]
    costs = replace(CostModel.from_config(policy.costs), risk=_hedge_risk(policy, market, volatility))
    if policy.costs.fixed_horizon_days is None and rebalance.instrument == "auto":
        horizons = auto_horizons(classes, bands, volatility, context.hold_days)
        costs = replace(costs, funding=replace(costs.funding, by_symbol=horizons.days))
        notes.extend(horizons.notes)
    instructions = _instructions(classes, policy, target_set)
    rates = cost_rates(costs, instructions)
    goals = _goals(valuation, bands, cash, rebalance, edge, context.flow, rates)
    notes.extend(goals.notes)
    if policy.tax is not None:
        book = context.lots if context.lots is not None else LotBook()
        costs = replace(costs, sale_tax=partial(sale_tax, book=book, rules=policy.tax.rules(), now=market.timestamp))
    limits = Limits(rebalance.margin_buffer, rebalance.max_leverage)
    sizer = OrderSizer(
        portfolio,
        market,
        classes,
        valuation,
        goals,
        instructions,
        costs,
        rebalance,
        # A steered flow only buys (or sells) the class's shortfall (excess), never re-splits it.
        resplit=rebalance.to == "target" and not steered,
        edge_rooms=_edge_rooms(goals, bands, valuation.equity) if rebalance.to == "band-edge" and not steered else None,
    )
    orders = within_limits(sizer.size, context.liquidation_buffers, rebalance.hedge_leverage)
    notes.extend((*orders.sizing.notes, *orders.rounding_notes, *orders.reviewed.notes))
    transfers, reviewed = orders.transfers, orders.reviewed
    trades = reviewed.trades
    taxed = _realise(trades, policy, market, context.lots)
    if taxed is not None:
        trades = taxed.trades
        notes.extend(taxed.notes)
    fees = sum(costs.fees.fee(t.notional, t.instrument.value) for t in trades)
    slippage = sum(costs.slippage.cost(t.notional) for t in trades)
    plan = Plan(
        base_currency=valuation.base_currency,
        equity=valuation.equity,
        triggered=True,
        classes=_class_reports(classes, valuation, bands, goals.goals),
        trades=trades,
        post_trade=dict(reviewed.valuation.weights),
        costs=_costs(fees, slippage, reviewed.valuation.funding_per_day, taxed),
        margin=_margin(valuation, reviewed.margin, limits, market),
        notes=tuple(notes),
        trigger_reason=decision.reason,
        transfers=transfers,
        positions=position_reports(reviewed.valuation, market),
    )
    return PlanOutcome(plan, decision.checked, valuation, bands)


def _hedge_risk(policy: Policy, market: MarketSnapshot, volatility: Mapping[str, float]) -> HedgeRisk | None:
    """What ``auto`` charges a hedge for its margin use and liquidation risk when the policy opts in
    (:mod:`trimtab.planner.costs`); None, the contract's cost model, when it does not."""
    costs = policy.costs
    if costs.margin_yield == 0.0 and not costs.liquidation_risk:
        return None
    maintenance = {
        c.hedge: tiers[0].rate for c in policy.asset_classes() if c.hedge and (tiers := market.margin_tiers(c.hedge))
    }
    leverage = policy.rebalance.hedge_leverage
    return HedgeRisk(leverage, costs.margin_yield, volatility, maintenance, costs.liquidation_risk)


def fund_trades(
    portfolio: Portfolio, market: MarketSnapshot, policy: Policy, trades: Sequence[Trade]
) -> tuple[Transfer, ...]:
    """The transfers that fund ``trades`` when they differ from what the planner chose (a guard replaced some).

    The same rule as the plan's own transfers (:func:`trimtab.planner.transfers.plan_transfers`), applied to
    the trades that will actually be sent; none under ``[rebalance] transfers = false``.
    """
    rebalance = policy.rebalance
    if not rebalance.transfers:
        return ()
    classes = policy.asset_classes()
    costs = CostModel.from_config(policy.costs)

    def after(transfers: Sequence[Transfer], orders: Sequence[Trade]) -> tuple[Portfolio, Valuation]:
        moved = apply_transfers(portfolio, transfers)
        applied = apply_trades(moved, orders, market, costs.fees.fee, rebalance.hedge_leverage)
        return applied, valuate(applied, market, classes)

    return plan_transfers(portfolio, trades, after, market, rebalance.margin_buffer)


def _flow_reason(flow: float, base: str) -> str:
    kind = "deposit" if flow > 0.0 else "withdrawal"
    return f"cash flow: a {kind} of {abs(flow):.2f} {base} steers this rebalance"


def _edge_rooms(goals: Goals, bands: Mapping[str, Band], equity: float) -> dict[str, tuple[float, float]]:
    """Per moving class: how far (base currency) it may fall and rise from its goal inside its band."""
    return {
        name: (
            max(goals.goals[name] - bands[name].lower, 0.0) * equity,
            max(bands[name].upper - goals.goals[name], 0.0) * equity,
        )
        for name in goals.moving
    }


def cost_rates(costs: CostModel, instructions: Mapping[str, Instruction]) -> dict[str, float]:
    """Per class: the fee plus slippage the cost model charges per unit of notional traded.

    A class traded spot pays the spot fee, one hedged (``perp``) its derivative's; under ``auto`` either may
    trade, so the larger is taken (a band-edge goal then lands inside whichever it is).
    """
    rates: dict[str, float] = {}
    for name, instruction in instructions.items():
        kinds = {InstrumentKind.SPOT.value}
        if instruction.hedge and instruction.mode != "spot":
            hedge = parse_symbol(instruction.hedge).kind.value
            kinds = {hedge} if instruction.mode == "perp" else {hedge, *kinds}
        rates[name] = max(costs.rate(kind) for kind in sorted(kinds))
    return rates


def _goals(
    valuation: Valuation,
    bands: Mapping[str, Band],
    cash: str,
    rebalance: RebalanceConfig,
    edge: list[str],
    flow: float,
    rates: Mapping[str, float],
) -> Goals:
    """The steered goals of a cash flow, else the goals of the policy's scope and ``to``."""
    if flow != 0.0:
        return steer_goals(valuation.weights, bands, cash, flow, valuation.equity)
    return compute_goals(valuation.weights, bands, cash, rebalance.scope, rebalance.to, edge, rates)
