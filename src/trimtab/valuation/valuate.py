"""Valuing a portfolio at a snapshot (conventions in docs/valuation.md).

* Equity = spot value + unrealised PnL of futures and perpetuals at their mark + options at their mark.
* Net exposure of an asset = its spot value + the delta-notional of every derivative on it.
* A derivative counts toward the class listing its base asset, else the class whose ``hedge`` it is
  (an index perpetual hedging a basket). The cash class's weight is the remainder.
* Initial margin = ``|notional| / leverage``; a long option needs none, a short one
  ``|amount x underlying| / leverage``. Maintenance margin = ``|notional| x rate - amount`` of the
  position's tier in the market's ``margin_tiers`` (``MAINTENANCE_MARGIN_RATE`` without tiers).
* Accounts, collateral, free collateral and liquidation prices: :mod:`trimtab.valuation.accounts`.

The work that does not depend on prices is done once per (portfolio, classes) pair by
:mod:`trimtab.valuation.layout`; this module only prices, multiplies and adds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from trimtab.domain.classes import AssetClass
from trimtab.domain.market import DerivativeQuote, MarginTier, MarketSnapshot
from trimtab.domain.portfolio import Portfolio
from trimtab.valuation.accounts import account_margins
from trimtab.valuation.black76 import black76
from trimtab.valuation.layout import LINEAR, OPTION, DerivativeLayout, layout_for
from trimtab.valuation.margin import MAINTENANCE_MARGIN_RATE, liquidation_price, maintenance_margin
from trimtab.valuation.model import ClassExposure, PositionRisk, Valuation

__all__ = ["MAINTENANCE_MARGIN_RATE", "liquidation_price", "valuate"]

_SECONDS_PER_YEAR = 365.0 * 86400.0

# Builds a named tuple from a tuple of every field, skipping the keyword-argument handling of its
# constructor: half the cost, which matters for a book of hundreds of positions.
_new = tuple.__new__


def valuate(portfolio: Portfolio, market: MarketSnapshot, classes: Sequence[AssetClass]) -> Valuation:
    """Value ``portfolio`` at ``market`` against the policy's ``classes``.

    Parameters
    ----------
    portfolio : Portfolio
        Spot holdings and derivative positions.
    market : MarketSnapshot
        Prices in the base currency, derivative marks, funding rates and implied volatilities.
    classes : Sequence[AssetClass]
        The policy's asset classes. Pass the same tuple each time: the price-independent layout of
        (portfolio, classes) is memoised on their identity.

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
    layout = layout_for(portfolio, classes)
    base = layout.base_currency
    prices = market.prices
    if layout.holds_base and base not in prices:
        # The base currency's own price is 1 and may be left out of the snapshot.
        prices = {**prices, base: 1.0}

    assets = layout.spot_assets
    values = [amount * prices[asset] for asset, amount in zip(assets, layout.spot_amounts, strict=True)]
    spot_values = dict(zip(assets, values, strict=True))
    names = layout.class_names
    class_spot = [0.0] * (len(names) + 1)
    for index, value in zip(layout.spot_class, values, strict=True):
        class_spot[index] += value
    class_derivative = [0.0] * (len(names) + 1)

    exposure = dict(spot_values)
    positions: list[PositionRisk] = []
    pnl_total = option_value = initial = maintenance = funding = gross_derivatives = 0.0
    if layout.derivatives:
        quotes = market.derivatives
        timestamp = market.timestamp
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=UTC)
        rate = MAINTENANCE_MARGIN_RATE
        markets = market.markets
        for d in layout.derivatives:
            (instrument, symbol, form, perp, amount, entry, leverage, _long, class_index, class_name, asset,
             quote_asset, quote_is_base, venue, *_) = d  # fmt: skip
            quote = quotes[symbol]
            rules = markets.get(symbol)
            tiers = rules.margin_tiers if rules is not None else ()
            quote_price = 1.0 if quote_is_base else prices.get(quote_asset, 1.0)
            if form == LINEAR:
                # The hot path (most books are linear perpetuals), kept inline.
                mark = quote.mark
                delta_notional = amount * mark * quote_price
                pnl = amount * (mark - entry) * quote_price
                notional = abs(delta_notional)
                underlying = prices.get(asset, mark * quote_price) if asset != base else 1.0
                position_initial = notional / leverage
                if tiers:
                    position_maintenance = maintenance_margin(amount * mark, tiers) * quote_price
                else:
                    position_maintenance = notional * rate
                position_funding = (
                    delta_notional * (quote.funding_rate * 24.0 / quote.funding_interval_hours) if perp else 0.0
                )
                positions.append(
                    _new(
                        PositionRisk,
                        (
                            instrument,
                            amount,
                            mark,
                            underlying,
                            delta_notional,
                            notional,
                            pnl,
                            pnl,
                            position_initial,
                            position_maintenance,
                            leverage,
                            None,
                            None,
                            class_name,
                            asset,
                            1.0,
                            0.0,
                            0.0,
                            position_funding,
                            venue,
                        ),
                    )
                )
                pnl_total += pnl
            else:
                if form == OPTION:
                    risk = _option_risk(d, quote, prices, quotes, quote_price, base, timestamp, tiers)
                    option_value += risk.market_value
                else:
                    risk = _inverse_risk(d, quote, market, tiers)
                    pnl_total += risk.unrealised_pnl
                positions.append(risk)
                delta_notional = risk.delta_notional
                position_initial = risk.initial_margin
                position_maintenance = risk.maintenance_margin
                position_funding = risk.funding_per_day
            initial += position_initial
            maintenance += position_maintenance
            funding += position_funding
            gross_derivatives += abs(delta_notional)
            exposure[asset] = exposure.get(asset, 0.0) + delta_notional
            class_derivative[class_index] += delta_notional

    equity = sum(values) + pnl_total + option_value

    cash_index = layout.cash_index
    out: list[ClassExposure] = []
    others_net = others_weight = gross_spot = 0.0
    for index, name in enumerate(names):
        if index == cash_index:
            continue
        spot_value = class_spot[index]
        derivative = class_derivative[index]
        net = spot_value + derivative
        weight = net / equity if equity else 0.0
        others_net += net
        others_weight += weight
        gross_spot += abs(spot_value)
        out.append(_new(ClassExposure, (name, spot_value, derivative, net, weight, False)))
    sink = layout.sink_index
    cash_spot = class_spot[sink]
    if cash_index >= 0:
        cash = ClassExposure(
            names[cash_index],
            cash_spot,
            class_derivative[cash_index],
            equity - others_net,
            1.0 - others_weight,
            True,
        )
        out.insert(cash_index, cash)

    gross = gross_spot + gross_derivatives
    # Free collateral is each account's, as an exchange computes it; never a class weight.
    book = account_margins(portfolio, market, positions)
    return Valuation(
        base_currency=base,
        timestamp=market.timestamp,
        equity=equity,
        spot_values=spot_values,
        asset_exposure=exposure,
        classes=tuple(out),
        positions=book.positions,
        gross_exposure=gross,
        net_exposure=others_net,
        gross_leverage=gross / equity if equity > 0 else float("inf"),
        net_leverage=abs(others_net) / equity if equity > 0 else float("inf"),
        initial_margin=initial,
        maintenance_margin=maintenance,
        free_collateral=book.free_collateral,
        unrealised_pnl=pnl_total,
        funding_per_day=funding,
        accounts=book.accounts,
    )


def _inverse_risk(
    d: DerivativeLayout, quote: DerivativeQuote, market: MarketSnapshot, tiers: tuple[MarginTier, ...]
) -> PositionRisk:
    """An inverse future or perpetual: contracts of ``contract_size`` quote units, settled in the coin.

    It is margined in the coin: its size is ``|face| / mark`` coins (face = contracts x contract size, in the
    quote currency), its tier the one that size falls in (tiers in coins, as Binance's COIN-M brackets), its
    maintenance margin ``size x rate - amount`` coins, valued at the coin's price.
    """
    mark = quote.mark
    rules = market.markets.get(d.symbol)
    contract = rules.contract_size if rules is not None else 1.0
    coin_price = market.prices.get(d.base_asset, mark)
    face = d.amount * contract
    # The position is worth face / mark coins; PnL is paid in coins, valued at the coin's price.
    delta_notional = face * coin_price / mark
    pnl = face * (1.0 / d.entry_price - 1.0 / mark) * coin_price
    notional = abs(delta_notional)
    return PositionRisk(
        d.instrument,
        d.amount,
        mark,
        coin_price,
        delta_notional,
        notional,
        pnl,
        pnl,
        notional / d.leverage,
        maintenance_margin(face / mark, tiers) * coin_price,
        d.leverage,
        None,
        None,
        d.class_name,
        d.base_asset,
        1.0,
        0.0,
        0.0,
        delta_notional * quote.funding_per_day if d.perp else 0.0,
        d.venue,
    )


def _option_risk(
    d: DerivativeLayout,
    quote: DerivativeQuote,
    prices: Mapping[str, float],
    quotes: Mapping[str, DerivativeQuote],
    quote_price: float,
    base: str,
    now: datetime,
    tiers: tuple[MarginTier, ...],
) -> PositionRisk:
    """An option: Black-76 greeks on the underlying's price, its ``iv``, strike and expiry, zero rates.

    The mark of a linear option is in its quote currency; an inverse one (settled in the coin, as on
    Deribit) is quoted in coins per option.
    """
    underlying = _underlying_price(d, prices, quotes, quote_price, base)
    assert d.expires_at is not None and d.option_type is not None
    years = max((d.expires_at - now).total_seconds(), 0.0) / _SECONDS_PER_YEAR
    greeks = black76(underlying / quote_price, d.strike, years, quote.iv or 0.0, d.option_type)
    amount = d.amount
    premium_price = underlying if d.instrument.is_inverse else quote_price
    market_value = amount * quote.mark * premium_price
    pnl = market_value - amount * d.entry_price * premium_price
    notional = abs(amount * underlying)
    short = amount < 0
    return PositionRisk(
        d.instrument,
        amount,
        quote.mark,
        underlying,
        greeks.delta * amount * underlying,
        notional,
        pnl,
        market_value,
        notional / d.leverage if short else 0.0,
        maintenance_margin(notional / quote_price, tiers) * quote_price if short else 0.0,
        d.leverage,
        None,
        None,
        d.class_name,
        d.base_asset,
        greeks.delta,
        # Black-76 gamma is per unit of the quote currency; per base-currency unit it is divided by its price.
        greeks.gamma * amount / quote_price,
        greeks.theta_per_day * amount * quote_price,
        0.0,
        d.venue,
    )


def _underlying_price(
    d: DerivativeLayout,
    prices: Mapping[str, float],
    quotes: Mapping[str, DerivativeQuote],
    quote_price: float,
    base: str,
) -> float:
    """The underlying's price in the base currency: its spot price, else the mark of its perpetual."""
    price = prices.get(d.base_asset)
    if price is not None:
        return price
    if d.base_asset == base:
        return 1.0
    perp = quotes.get(d.underlying_symbol)
    if perp is not None:
        return perp.mark * quote_price
    raise KeyError(f"{d.symbol}: no price for its underlying {d.base_asset} (nor a quote of {d.underlying_symbol})")
