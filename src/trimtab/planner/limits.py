"""The limits a plan must respect, measured on a valuation: per-account margin, gross leverage, tiers.

* every derivatives or unified account keeps collateral >= ``(1 + margin_buffer) x`` its initial margin,
  that is free collateral >= ``margin_buffer x`` initial margin;
* gross leverage <= ``max_leverage``;
* no futures or perpetual position above its margin tier's ``max_leverage`` (its leverage is at most
  what the tier of its notional allows).

Each limit is also given as a *slack* that is >= 0 exactly when it holds; the guard scales the plan's
openings with them (each is linear in the openings' size while the tiers of the positions do not change).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import AccountReport, MarginReport, PositionReport
from trimtab.valuation.accounts import account_ok, tier_notional
from trimtab.valuation.margin import max_leverage_at, notional_cap
from trimtab.valuation.model import PositionRisk, Valuation

LEVERAGE_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Limits:
    """``[rebalance]`` margin limits."""

    margin_buffer: float
    max_leverage: float


def account_reports(valuation: Valuation, limits: Limits) -> tuple[AccountReport, ...]:
    """The derivatives and unified accounts of ``valuation``, each with whether its buffer holds."""
    return tuple(
        AccountReport(
            a.name,
            a.exchange,
            a.kind.value,
            a.margin_mode.value,
            a.collateral,
            a.initial,
            a.maintenance,
            a.free_collateral,
            account_ok(a, limits.margin_buffer),
            a.at_liquidation,
        )
        for a in valuation.accounts
        if a.margins
    )


def liquidation_notes(valuation: Valuation) -> list[str]:
    """One note per cross account at or past liquidation now (collateral at or below maintenance margin)."""
    base = valuation.base_currency
    return [
        f"account {a.name} is at or past liquidation: collateral {a.collateral:,.2f} {base} <= maintenance margin "
        f"{a.maintenance:,.2f} {base}; its positions are 0 away from liquidation"
        for a in valuation.accounts
        if a.at_liquidation
    ]


def over_tier(valuation: Valuation, market: MarketSnapshot) -> list[tuple[PositionRisk, float]]:
    """Positions whose leverage exceeds their tier's maximum, each with that maximum."""
    out = []
    for risk in valuation.positions:
        if risk.instrument.kind is InstrumentKind.OPTION:
            continue
        tiers = market.margin_tiers(risk.symbol)
        if not tiers:
            continue
        allowed = max_leverage_at(tier_notional(risk, market, valuation.base_currency), tiers)
        if risk.leverage > allowed * (1.0 + LEVERAGE_TOLERANCE):
            out.append((risk, allowed))
    return out


def margin_report(valuation: Valuation, limits: Limits, market: MarketSnapshot) -> MarginReport:
    """Margin figures of ``valuation`` (sums over its derivatives and unified accounts) and whether every
    limit holds."""
    accounts = account_reports(valuation, limits)
    ok = (
        all(a.ok for a in accounts)
        and valuation.gross_leverage <= limits.max_leverage
        and not over_tier(valuation, market)
    )
    initial = sum(a.initial for a in accounts)
    return MarginReport(
        initial=initial,
        free_collateral=sum(a.free_collateral for a in accounts),
        required=limits.margin_buffer * initial,
        maintenance=sum(a.maintenance for a in accounts),
        gross_leverage=valuation.gross_leverage,
        ok=ok,
        accounts=accounts,
    )


def position_reports(valuation: Valuation, market: MarketSnapshot) -> tuple[PositionReport, ...]:
    """The derivative book of ``valuation`` as the plan's ``positions`` list."""
    out = []
    for risk in valuation.positions:
        tiers = market.margin_tiers(risk.symbol)
        allowed = max_leverage_at(tier_notional(risk, market, valuation.base_currency), tiers) if tiers else None
        liquidation = risk.liquidation_price
        if liquidation is not None and math.isinf(liquidation):
            # Already past it at any price (a long whose cushion is gone): reported at the mark, 0 away.
            liquidation = risk.mark
        out.append(
            PositionReport(
                risk.symbol,
                risk.venue,
                risk.amount,
                risk.notional,
                risk.leverage,
                risk.initial_margin,
                risk.maintenance_margin,
                liquidation,
                risk.liquidation_distance,
                allowed,
            )
        )
    return tuple(out)


def tier_caps(valuation: Valuation, market: MarketSnapshot) -> dict[tuple[str, ...], float]:
    """Per futures or perpetual position with tiers: the notional its leverage may reach (finite caps only)."""
    out: dict[tuple[str, ...], float] = {}
    for risk in valuation.positions:
        tiers = market.margin_tiers(risk.symbol)
        if tiers and risk.instrument.kind is not InstrumentKind.OPTION:
            cap = notional_cap(risk.leverage, tiers)
            if cap != float("inf"):
                out[("tier", risk.symbol, risk.venue)] = cap
    return out


def slacks(valuation: Valuation, limits: Limits, market: MarketSnapshot) -> dict[tuple[str, ...], float]:
    """Every limit's slack, keyed by what it limits; each is >= 0 exactly when that limit holds.

    Accounts: ``free collateral - margin_buffer x initial margin`` (those with positions). Leverage:
    ``max_leverage x equity - gross exposure``. Tiers: the notional a position at its leverage may reach
    under its tiers minus its notional (quote currency).
    """
    out: dict[tuple[str, ...], float] = {}
    for a in valuation.accounts:
        if a.margins:
            # An account without positions is ok whatever its balance (a fee may leave it slightly short).
            slack = a.free_collateral - limits.margin_buffer * a.initial if a.initial > 0.0 else max(a.collateral, 0.0)
            out[("account", a.name)] = slack
    out[("leverage",)] = limits.max_leverage * valuation.equity - valuation.gross_exposure
    caps = tier_caps(valuation, market)
    for risk in valuation.positions:
        key = ("tier", risk.symbol, risk.venue)
        if key in caps:
            out[key] = caps[key] - tier_notional(risk, market, valuation.base_currency)
    return out


def describe(valuation: Valuation, limits: Limits, market: MarketSnapshot) -> str:
    """What the book breaks, in words (empty when every limit holds)."""
    problems = []
    for a in account_reports(valuation, limits):
        if not a.ok:
            problems.append(
                f"account {a.name}: free collateral {a.free_collateral:.2f} < {limits.margin_buffer:g} x initial "
                f"margin {a.initial:.2f} (collateral {a.collateral:.2f})"
            )
    if valuation.gross_leverage > limits.max_leverage:
        problems.append(f"gross leverage {valuation.gross_leverage:.3f} > max_leverage {limits.max_leverage:g}")
    for risk, allowed in over_tier(valuation, market):
        notional = tier_notional(risk, market, valuation.base_currency)
        problems.append(
            f"{risk.symbol} on {risk.venue}: leverage {risk.leverage:g} above its margin tier's max_leverage "
            f"{allowed:g} at notional {notional:.2f}"
        )
    return " and ".join(problems)
