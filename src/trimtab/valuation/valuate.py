"""Valuing a portfolio at a snapshot.

Conventions (also in the README):

* Equity = spot value + unrealised PnL of futures and perpetuals at their mark + options at their mark.
* A derivative's exposure counts toward the class listing its base asset, else the class whose
  ``hedge`` it is (an index perpetual hedging a basket).
* Initial margin = ``|notional| / leverage``; a long option needs none, a short one
  ``|amount x underlying| / leverage``. Maintenance margin = ``|notional| x MAINTENANCE_MARGIN_RATE``.
* Liquidation price of an isolated linear position with entry E, leverage L and maintenance rate m:
  long ``E (1 - 1/L) / (1 - m)``, short ``E (1 + 1/L) / (1 + m)`` (the price at which the isolated margin
  plus the unrealised PnL equals the maintenance margin).
"""

from __future__ import annotations

from collections.abc import Sequence

from trimtab.domain.classes import AssetClass
from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.portfolio import DerivativePosition, Portfolio
from trimtab.valuation.black76 import black76
from trimtab.valuation.model import ClassExposure, PositionRisk, Valuation

MAINTENANCE_MARGIN_RATE = 0.005
"""Maintenance margin as a fraction of notional (Binance USD-M's lowest tier for majors is 0.4 %)."""


def valuate(portfolio: Portfolio, market: MarketSnapshot, classes: Sequence[AssetClass]) -> Valuation:
    """Value ``portfolio`` at ``market`` against the policy's ``classes``.

    Returns
    -------
    Valuation
        Equity, exposures per asset and class, weights, leverage, margin and per-position risk.

    Raises
    ------
    KeyError
        If a held asset or derivative has no price or quote in the snapshot.
    ValueError
        If a derivative counts toward no class.
    """
    base = portfolio.base_currency
    prices = market.prices
    class_of_asset: dict[str, str] = {}
    cash_name = ""
    for c in classes:
        for asset in c.assets:
            class_of_asset[asset] = c.name
        if c.cash:
            cash_name = c.name
    class_of_hedge = {c.hedge: c.name for c in classes if c.hedge}

    spot_values: dict[str, float] = {}
    for asset, amount in portfolio.spot_totals.items():
        price = 1.0 if asset == base and asset not in prices else prices[asset]
        spot_values[asset] = amount * price

    exposure = dict(spot_values)
    positions: list[PositionRisk] = []
    pnl_total = 0.0
    option_value = 0.0
    initial = 0.0
    maintenance = 0.0
    funding = 0.0
    gross_derivatives = 0.0
    for position in portfolio.derivatives:
        risk = _position_risk(position, market, base, class_of_asset, class_of_hedge)
        positions.append(risk)
        if risk.instrument.kind is InstrumentKind.OPTION:
            option_value += risk.market_value
        else:
            pnl_total += risk.unrealised_pnl
        initial += risk.initial_margin
        maintenance += risk.maintenance_margin
        funding += risk.funding_per_day
        gross_derivatives += abs(risk.delta_notional)
        exposure[risk.exposure_asset] = exposure.get(risk.exposure_asset, 0.0) + risk.delta_notional

    equity = sum(spot_values.values()) + pnl_total + option_value

    spot_by_class: dict[str, float] = {}
    for asset, value in spot_values.items():
        name = class_of_asset.get(asset, cash_name)
        spot_by_class[name] = spot_by_class.get(name, 0.0) + value
    deriv_by_class: dict[str, float] = {}
    for risk in positions:
        deriv_by_class[risk.class_name] = deriv_by_class.get(risk.class_name, 0.0) + risk.delta_notional

    out: list[ClassExposure] = []
    others_net = 0.0
    others_weight = 0.0
    gross_spot = 0.0
    for c in classes:
        if c.cash:
            continue
        spot_value = spot_by_class.get(c.name, 0.0)
        derivative = deriv_by_class.get(c.name, 0.0)
        net = spot_value + derivative
        weight = net / equity if equity else 0.0
        others_net += net
        others_weight += weight
        gross_spot += abs(spot_value)
        out.append(ClassExposure(c.name, spot_value, derivative, net, weight))
    cash_spot = spot_by_class.get(cash_name, 0.0)
    cash_exposure = ClassExposure(
        cash_name,
        cash_spot,
        deriv_by_class.get(cash_name, 0.0),
        equity - others_net,
        1.0 - others_weight,
        cash=True,
    )
    ordered = [cash_exposure if c.cash else next(o for o in out if o.name == c.name) for c in classes]

    gross = gross_spot + gross_derivatives
    cash_value = cash_spot + pnl_total
    return Valuation(
        base_currency=base,
        timestamp=market.timestamp,
        equity=equity,
        spot_values=spot_values,
        asset_exposure=exposure,
        classes=tuple(ordered),
        positions=tuple(positions),
        gross_exposure=gross,
        net_exposure=others_net,
        gross_leverage=gross / equity if equity > 0 else float("inf"),
        net_leverage=abs(others_net) / equity if equity > 0 else float("inf"),
        initial_margin=initial,
        maintenance_margin=maintenance,
        cash_value=cash_value,
        free_collateral=cash_value - initial,
        unrealised_pnl=pnl_total,
        funding_per_day=funding,
    )


def _position_risk(
    position: DerivativePosition,
    market: MarketSnapshot,
    base: str,
    class_of_asset: dict[str, str],
    class_of_hedge: dict[str, str],
) -> PositionRisk:
    instrument = position.instrument
    quote = market.derivatives[instrument.symbol]
    if instrument.base in class_of_asset:
        class_name = class_of_asset[instrument.base]
    elif instrument.symbol in class_of_hedge:
        class_name = class_of_hedge[instrument.symbol]
    else:
        raise ValueError(f"{instrument.symbol} counts toward no class")
    prices = market.prices
    quote_price = 1.0 if instrument.quote == base else prices.get(instrument.quote, 1.0)
    underlying = prices.get(instrument.base, quote.mark * quote_price) if instrument.base != base else 1.0
    amount = position.amount
    mark = quote.mark
    leverage = position.leverage
    rules = market.markets.get(instrument.symbol)

    delta = 1.0
    gamma = theta = 0.0
    liquidation: float | None = None
    distance: float | None = None
    if instrument.kind is InstrumentKind.OPTION:
        assert instrument.strike is not None and instrument.option_type is not None
        greeks = black76(
            underlying / quote_price,
            instrument.strike,
            instrument.years_to_expiry(market.timestamp),
            quote.iv or 0.0,
            instrument.option_type,
        )
        delta = greeks.delta
        gamma = greeks.gamma * amount
        theta = greeks.theta_per_day * amount * quote_price
        delta_notional = delta * amount * underlying
        market_value = amount * mark * quote_price
        notional = abs(amount * underlying)
        pnl = market_value - amount * position.entry_price * quote_price
        initial = 0.0 if amount > 0 else notional / leverage
        maintenance = 0.0 if amount > 0 else notional * MAINTENANCE_MARGIN_RATE
        funding = 0.0
    elif instrument.is_inverse:
        contract = rules.contract_size if rules is not None else 1.0
        coins_price = prices.get(instrument.base, mark)
        usd = amount * contract
        delta_notional = usd * coins_price / mark
        pnl = usd * (1.0 / position.entry_price - 1.0 / mark) * coins_price
        market_value = pnl
        notional = abs(delta_notional)
        initial = notional / leverage
        maintenance = notional * MAINTENANCE_MARGIN_RATE
        funding = delta_notional * quote.funding_per_day if instrument.kind is InstrumentKind.PERP else 0.0
    else:
        delta_notional = amount * mark * quote_price
        pnl = amount * (mark - position.entry_price) * quote_price
        market_value = pnl
        notional = abs(delta_notional)
        initial = notional / leverage
        maintenance = notional * MAINTENANCE_MARGIN_RATE
        funding = delta_notional * quote.funding_per_day if instrument.kind is InstrumentKind.PERP else 0.0
        liquidation = liquidation_price(position.entry_price, leverage, amount > 0)
        distance = abs(mark - liquidation) / mark if liquidation > 0 else 1.0
    return PositionRisk(
        instrument=instrument,
        amount=amount,
        mark=mark,
        underlying_price=underlying,
        delta_notional=delta_notional,
        notional=notional,
        unrealised_pnl=pnl,
        market_value=market_value,
        initial_margin=initial,
        maintenance_margin=maintenance,
        leverage=leverage,
        liquidation_price=liquidation,
        liquidation_distance=distance,
        class_name=class_name,
        exposure_asset=instrument.base,
        delta=delta,
        gamma=gamma,
        theta_per_day=theta,
        funding_per_day=funding,
    )


def liquidation_price(entry: float, leverage: float, long: bool, rate: float = MAINTENANCE_MARGIN_RATE) -> float:
    """Liquidation price of an isolated linear position (0 when a long cannot be liquidated)."""
    if long:
        return max(entry * (1.0 - 1.0 / leverage) / (1.0 - rate), 0.0)
    return entry * (1.0 + 1.0 / leverage) / (1.0 + rate)
