"""Risk guards of every rebalancing session (backtest, paper, live): the liquidation buffer and the funding monitor.

* **Liquidation buffer.** When a derivative position's distance to its liquidation price falls below
  ``liquidation_buffer`` (a fraction of the mark), the account turns *reducing only*: no order may grow a
  derivative position, and a deleveraging step closes ``deleverage_fraction`` of that position with a
  ``reduceOnly`` order, whether or not the bands are breached.
* **Funding monitor.** A short hedge pays funding when the rate is negative. Over the policy's
  ``funding_horizon_days`` that costs ``funding_per_day x horizon``; the spot alternative (selling the coins
  now and buying them back later) costs a round trip, ``2 x (taker_fee + slippage) x notional``. When the
  hedge costs more, it is replaced by a spot sale: fully when enough spot is held, else partly (only what
  is held), and a decision says so. New hedges in a plan are checked the same way before they are sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trimtab.domain.instruments import InstrumentKind, parse_symbol
from trimtab.domain.market import MarketSnapshot
from trimtab.domain.plan import Side, Trade
from trimtab.domain.portfolio import Portfolio
from trimtab.policy.config import Policy
from trimtab.valuation.model import Valuation


@dataclass(frozen=True)
class Deleverage:
    """The liquidation guard's verdict: whether new exposure is blocked, and the reducing trades."""

    reducing_only: bool
    trades: tuple[Trade, ...] = ()
    reasons: tuple[str, ...] = ()


def liquidation_guard(valuation: Valuation, buffer: float, fraction: float) -> Deleverage:
    """Positions closer to liquidation than ``buffer`` block new exposure and are cut by ``fraction``."""
    trades: list[Trade] = []
    reasons: list[str] = []
    for p in valuation.positions:
        if p.instrument.kind not in (InstrumentKind.PERP, InstrumentKind.FUTURE):
            continue
        if p.liquidation_distance is None or p.liquidation_distance >= buffer or p.amount == 0:
            continue
        amount = abs(p.amount) * fraction
        side = Side.SELL if p.amount > 0 else Side.BUY
        reason = (
            f"{p.symbol} is {p.liquidation_distance:.1%} from liquidation (buffer {buffer:.1%}): "
            f"reducing it by {fraction:.0%}"
        )
        reasons.append(reason)
        trades.append(
            Trade(
                p.class_name,
                p.symbol,
                p.instrument.kind,
                side,
                amount,
                amount * p.mark,
                p.mark,
                "default",
                True,
                reason,
            )
        )
    return Deleverage(bool(trades), tuple(trades), tuple(reasons))


def _spot_trade(class_name: str, asset: str, base: str, side: Side, amount: float, price: float, reason: str) -> Trade:
    return Trade(
        class_name,
        f"{asset}/{base}",
        InstrumentKind.SPOT,
        side,
        amount,
        amount * price,
        price,
        "default",
        False,
        reason,
    )


def funding_switch(
    trades: Sequence[Trade], portfolio: Portfolio, valuation: Valuation, market: MarketSnapshot, policy: Policy
) -> tuple[list[Trade], list[str]]:
    """Replace hedges whose projected funding exceeds the spot alternative by spot sales.

    Returns
    -------
    tuple[list[Trade], list[str]]
        The trades to execute (the plan's, changed where a hedge was replaced, plus switches of existing
        hedges) and one sentence per replacement.
    """
    base = policy.base_currency
    horizon = policy.costs.funding_horizon_days
    round_trip = 2.0 * (policy.costs.taker_fee + policy.costs.slippage)
    out: list[Trade] = []
    reasons: list[str] = []
    spot_left = dict(portfolio.spot_totals)
    for t in trades:
        if t.instrument is InstrumentKind.SPOT and t.side is Side.SELL:
            asset = parse_symbol(t.symbol).base
            spot_left[asset] = spot_left.get(asset, 0.0) - t.amount
    traded_symbols = {t.symbol for t in trades}
    for t in trades:
        quote = market.derivatives.get(t.symbol)
        opens_short = t.instrument is InstrumentKind.PERP and t.side is Side.SELL and not t.reduce_only
        if not opens_short or quote is None:
            out.append(t)
            continue
        funding_cost = -quote.funding_per_day * t.notional * horizon
        spot_cost = round_trip * t.notional
        asset = parse_symbol(t.symbol).base
        price = market.prices.get(asset)
        switch = min(t.amount, max(spot_left.get(asset, 0.0), 0.0))
        if funding_cost <= spot_cost or price is None or switch * price < policy.rebalance.min_notional:
            out.append(t)
            continue
        spot_left[asset] = spot_left.get(asset, 0.0) - switch
        reason = (
            f"{t.symbol}: a new hedge would pay {funding_cost:.2f} of funding over {horizon:g} d, more than the "
            f"{spot_cost:.2f} a spot sale costs; selling {switch:g} {asset} spot instead"
            + ("" if switch >= t.amount else f" (hedging the other {t.amount - switch:g})")
        )
        reasons.append(reason)
        out.append(_spot_trade(t.class_name, asset, base, Side.SELL, switch, price, reason))
        if t.amount - switch > 1e-12:
            rest = t.amount - switch
            out.append(
                Trade(
                    t.class_name,
                    t.symbol,
                    t.instrument,
                    t.side,
                    rest,
                    rest * t.price,
                    t.price,
                    t.venue,
                    False,
                    t.reason,
                )
            )
    for p in valuation.positions:
        if p.instrument.kind is not InstrumentKind.PERP or p.amount >= 0 or p.symbol in traded_symbols:
            continue
        notional = abs(p.delta_notional)
        funding_cost = p.funding_per_day * horizon
        spot_cost = round_trip * notional
        asset = p.instrument.base
        price = market.prices.get(asset)
        switch = min(abs(p.amount), max(spot_left.get(asset, 0.0), 0.0))
        if funding_cost <= spot_cost or price is None or switch * price < policy.rebalance.min_notional:
            continue
        spot_left[asset] = spot_left.get(asset, 0.0) - switch
        reason = (
            f"{p.symbol}: the hedge would pay {funding_cost:.2f} of funding over {horizon:g} d, more than the "
            f"{spot_cost:.2f} a spot sale costs; closing {switch:g} of it and selling {switch:g} {asset} spot"
        )
        reasons.append(reason)
        out.append(
            Trade(
                p.class_name,
                p.symbol,
                p.instrument.kind,
                Side.BUY,
                switch,
                switch * p.mark,
                p.mark,
                "default",
                True,
                reason,
            )
        )
        out.append(_spot_trade(p.class_name, asset, base, Side.SELL, switch, price, reason))
    return out, reasons
