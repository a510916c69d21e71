"""Loading the three inputs of ``plan`` together, with the checks that need more than one file."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.lots import LotBook
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.portfolio import Portfolio
from trimtab.errors import BadInputError
from trimtab.loaders.market import load_market
from trimtab.loaders.policy import load_policy
from trimtab.loaders.portfolio import load_lots
from trimtab.loaders.validation import quote_key
from trimtab.policy.config import CppiStrategy, Policy
from trimtab.valuation.valuate import valuate


@dataclass(frozen=True)
class PlanInputs:
    """The three validated inputs of a plan."""

    portfolio: Portfolio
    policy: Policy
    market: MarketSnapshot
    lots: LotBook | None = None


def load_plan_inputs(portfolio_path: Path | str, policy_path: Path | str, market_path: Path | str) -> PlanInputs:
    """Load and cross-check a portfolio, a policy and a market snapshot.

    Raises
    ------
    BadInputError
        On the first problem found, naming the file and the field.
    """
    policy = load_policy(policy_path)
    portfolio, lots = load_lots(portfolio_path)
    market = load_market(market_path)
    names = Path(portfolio_path).name, Path(policy_path).name, Path(market_path).name
    check_consistency(portfolio, policy, market, *names)
    check_equity(portfolio, policy, market, names[0], names[2])
    check_lot_times(lots, market, names[0], names[2])
    check_auto_band_volatility(policy, market, names[1], names[2])
    return PlanInputs(portfolio, policy, market, lots)


def check_auto_band_volatility(policy: Policy, market: MarketSnapshot, policy_name: str, market_name: str) -> None:
    """A class with ``band = "auto"`` needs the volatility of at least one of its assets in the snapshot.

    Raises
    ------
    BadInputError
        Naming the snapshot's ``volatility`` and the class.
    """
    base = policy.base_currency
    for index, cls in enumerate(policy.classes):
        assets = [a for a in cls.assets if a != base]
        if cls.band_auto and assets and not any(a in market.volatility for a in assets):
            raise BadInputError(
                market_name,
                "volatility",
                f'{policy_name}\'s class[{index}] ({cls.name}) has band = "auto": give the volatility of '
                + " or ".join(assets),
            )


def check_lot_times(lots: LotBook | None, market: MarketSnapshot, portfolio_name: str, market_name: str) -> None:
    """A lot cannot have been bought after the snapshot's time.

    Raises
    ------
    BadInputError
        Naming the first such lot.
    """
    for index, lot in enumerate(lots.lots if lots is not None else ()):
        if lot.acquired > market.timestamp:
            raise BadInputError(
                portfolio_name,
                f"lots[{index}].acquired",
                f"{lot.acquired.isoformat()} is after {market_name}'s time {market.timestamp.isoformat()}",
            )


def check_equity(
    portfolio: Portfolio,
    policy: Policy,
    market: MarketSnapshot,
    portfolio_name: str = "portfolio",
    market_name: str = "market",
) -> None:
    """A plan needs a positive, finite equity: weights are fractions of it.

    Raises
    ------
    BadInputError
        If a value overflows to infinity, or the equity is zero or negative.
    """
    valuation = valuate(portfolio, market, policy.asset_classes())
    numbers = [valuation.equity, valuation.gross_exposure, valuation.initial_margin, valuation.funding_per_day]
    numbers += list(valuation.asset_exposure.values())
    if not all(math.isfinite(number) for number in numbers):
        raise BadInputError(portfolio_name, "", f"its values at {market_name}'s prices are too large to compute")
    if valuation.equity <= 0:
        raise BadInputError(
            portfolio_name,
            "",
            f"its equity at {market_name}'s prices is {valuation.equity:g} {portfolio.base_currency}; "
            "a plan needs a positive equity",
        )


def check_consistency(
    portfolio: Portfolio,
    policy: Policy,
    market: MarketSnapshot,
    portfolio_name: str = "portfolio",
    policy_name: str = "policy",
    market_name: str = "market",
) -> None:
    """The checks that span files: currencies, prices, classes and quotes all line up."""
    base = policy.base_currency
    if portfolio.base_currency != base:
        raise BadInputError(
            portfolio_name,
            "base_currency",
            f"{portfolio.base_currency!r} differs from {policy_name}'s {base!r}",
        )
    if base in market.prices and abs(market.prices[base] - 1.0) > 1e-12:
        raise BadInputError(market_name, f"prices.{base}", "the base currency's own price must be 1")
    class_of = {asset: c.name for c in policy.classes for asset in c.assets}
    hedges = {c.hedge: c.name for c in policy.classes if c.hedge}
    for index, holding in enumerate(portfolio.spot):
        if holding.asset not in class_of:
            raise BadInputError(
                portfolio_name, f"spot[{index}].asset", f"{holding.asset} belongs to no class of {policy_name}"
            )
        if holding.asset != base and holding.asset not in market.prices:
            raise BadInputError(market_name, f"prices.{holding.asset}", f"missing ({portfolio_name} holds it)")
    for index, position in enumerate(portfolio.derivatives):
        instrument = position.instrument
        expires = instrument.expires_at
        if expires is not None and expires <= market.timestamp:
            raise BadInputError(
                portfolio_name,
                f"derivatives[{index}].symbol",
                f"{position.symbol} expired at {expires.isoformat()}, at or before {market_name}'s timestamp "
                f"{market.timestamp.isoformat()}; it cannot be held (remove the row or record its settlement)",
            )
        if instrument.base not in class_of and position.symbol not in hedges:
            raise BadInputError(
                portfolio_name,
                f"derivatives[{index}].symbol",
                f"{position.symbol} counts toward no class of {policy_name} (its base asset "
                f"{instrument.base} is in none and no class hedges with it)",
            )
        quote = market.derivatives.get(position.symbol)
        if quote is None:
            raise BadInputError(
                market_name, f"derivatives.{quote_key(position.symbol)}", f"missing ({portfolio_name} holds it)"
            )
        if instrument.kind is InstrumentKind.OPTION:
            if quote.iv is None:
                raise BadInputError(
                    market_name, f"derivatives.{quote_key(position.symbol)}.iv", "required for an option"
                )
            if instrument.base not in market.prices and instrument.base != base:
                raise BadInputError(
                    market_name, f"prices.{instrument.base}", f"missing (the option {position.symbol} needs it)"
                )
        if instrument.is_inverse and instrument.base not in market.prices:
            raise BadInputError(
                market_name, f"prices.{instrument.base}", f"missing (the inverse {position.symbol} settles in it)"
            )
    trades_hedges = policy.rebalance.instrument != "spot" or policy.strategy.kind != "fixed"
    # CPPI gives its risky classes weight whatever their written targets (equal shares when all are 0).
    strategy = policy.strategy
    risky = set(strategy.risky or [c.name for c in policy.classes]) if isinstance(strategy, CppiStrategy) else set()
    for index, cls in enumerate(policy.classes):
        expires = parse_symbol(cls.hedge).expires_at if cls.hedge else None
        if trades_hedges and expires is not None and expires <= market.timestamp:
            raise BadInputError(
                policy_name,
                f"class[{index}].hedge",
                f"{cls.hedge} expired at {expires.isoformat()}, at or before {market_name}'s timestamp",
            )
        if cls.hedge and trades_hedges and cls.hedge not in market.derivatives:
            raise BadInputError(
                market_name,
                f"derivatives.{quote_key(cls.hedge)}",
                f"missing ({policy_name} class[{index}].hedge may trade it)",
            )
        if cls.cash or (cls.target == 0 and cls.name not in risky):
            continue
        for asset in cls.assets:
            if asset != base and asset not in market.prices:
                raise BadInputError(
                    market_name, f"prices.{asset}", f"missing ({policy_name} class[{index}] may buy it)"
                )
    index_hedge = getattr(policy.strategy, "index_hedge", None)
    if index_hedge and index_hedge not in market.derivatives:
        raise BadInputError(
            market_name, f"derivatives.{quote_key(index_hedge)}", f"missing ({policy_name} strategy uses it)"
        )
