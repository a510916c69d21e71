"""Positions, leverage, margin mode and margin tiers as the exchange keeps them, read through ccxt.

Nothing is assumed:

* **Leverage** comes from the position itself where it states it
  (:func:`~trimtab.venues.ccxt.parsing.position_leverage`: its ``leverage``, or ``notional /
  initialMargin``, the exchange's own margin figure; Binance's V3 position answer has no leverage field),
  else from the exchange's leverage settings (ccxt ``fetch_leverages``: Binance USD-M
  ``/fapi/v1/symbolConfig``, COIN-M ``/dapi/v1/account``). A position whose leverage no answer states is
  an error, never 1x.
* **Margin mode**: the position's own (ccxt reads ``marginType``, or an isolated margin above zero), else
  the settings'.
* **Liquidation price**: the exchange's own, kept as reported.
* **Tiers**: ccxt ``fetch_leverage_tiers`` (Binance ``/fapi/v1/leverageBracket``, ``/dapi/v2/leverageBracket``),
  with the maintenance amount from the answer's ``cum``: USD-M brackets in quote notional, COIN-M brackets
  in coins (``qtyFloor``, ``qtyCap``, ``cum``), kept so in the market rules.

Binance answers linear and inverse markets at different endpoints and ccxt picks one by ``subType``, so
every read is made once per sub-type the venue lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.market import MarginTier
from trimtab.errors import NeedsHumanError
from trimtab.venues.ccxt import parsing
from trimtab.venues.ports import LeverageSetting, VenueMarginTier, VenueMarket, VenuePosition

T = TypeVar("T")
Reader = Callable[[str, Callable[[], Any]], Any]


def sub_types(markets: Mapping[str, Mapping[str, Any]], symbols: Sequence[str]) -> dict[str, list[str]]:
    """Derivative symbols grouped by ccxt sub-type (``linear``, ``inverse``), options left out."""
    groups: dict[str, list[str]] = {}
    for symbol in symbols:
        market = markets.get(symbol) or {}
        if not market.get("contract") or market.get("option"):
            continue
        kind = "inverse" if market.get("inverse") else "linear"
        groups.setdefault(kind, []).append(symbol)
    return groups


def read_leverage_settings(
    exchange: Any, markets: Mapping[str, Mapping[str, Any]], symbols: Sequence[str], read: Reader
) -> dict[str, LeverageSetting]:
    """The account's leverage and margin mode per derivative symbol, where the exchange lists them."""
    if not exchange.has.get("fetchLeverages"):
        return {}
    settings: dict[str, LeverageSetting] = {}
    for kind, group in sub_types(markets, symbols).items():
        answer = read("fetch_leverages", partial(exchange.fetch_leverages, group, {"subType": kind}))
        for symbol, entry in (answer or {}).items():
            if symbol not in group or not isinstance(entry, Mapping):
                continue
            leverage = parsing.number(entry.get("longLeverage")) or parsing.number(entry.get("shortLeverage"))
            mode = entry.get("marginMode")
            settings[symbol] = LeverageSetting(symbol, leverage, str(mode).lower() if mode else None)
    return settings


def read_positions(
    exchange: Any, markets: Mapping[str, Mapping[str, Any]], venue: str, read: Reader, *, by_settle: bool = False
) -> list[VenuePosition]:
    """Every open derivative position, with its real leverage, margin mode and liquidation price.

    ``by_settle`` asks once per sub-type and settle coin instead of with the list of symbols (Bybit's
    ``/v5/position/list`` takes one symbol or a ``settleCoin``).

    Raises
    ------
    NeedsHumanError
        A position whose leverage neither the exchange's settings nor the position states.
    """
    if not exchange.has.get("fetchPositions"):
        return []
    raw: list[Mapping[str, Any]] = []
    for kind, group in sub_types(markets, list(markets)).items():
        if not by_settle:
            raw += read("fetch_positions", partial(exchange.fetch_positions, group, {"subType": kind}))
            continue
        for coin in sorted({str(markets[s].get("settle")) for s in group if markets[s].get("settle")}):
            answer = read(
                "fetch_positions", partial(exchange.fetch_positions, None, {"subType": kind, "settleCoin": coin})
            )
            raw += [p for p in answer if p.get("symbol") in group]
    held = [p for p in raw if parsing.number(p.get("contracts"), 0.0)]
    if not held:
        return []
    missing = sorted({str(p.get("symbol")) for p in held if parsing.position_leverage(p) is None})
    settings = read_leverage_settings(exchange, markets, missing, read) if missing else {}
    positions = []
    for entry in held:
        symbol = str(entry.get("symbol"))
        setting = settings.get(symbol)
        leverage = parsing.position_leverage(entry) or (setting.leverage if setting else None)
        if leverage is None:
            raise NeedsHumanError(f"{venue}: the exchange states no leverage for the {symbol} position")
        size = parsing.unit_size(markets.get(symbol) or {})
        parsed = parsing.parse_position(
            entry, size=size, leverage=leverage, margin_mode=setting.margin_mode if setting else None
        )
        if parsed is not None:
            positions.append(parsed)
    return positions


def with_account_margin_mode(exchange: Any, positions: list[VenuePosition], read: Reader) -> list[VenuePosition]:
    """Positions whose margin mode is the account's (Bybit's unified account), read once with ccxt's
    ``fetch_margin_mode``; Bybit's portfolio margin is a cross mode over the whole account."""
    if all(p.margin_mode is not None for p in positions) or not exchange.has.get("fetchMarginMode"):
        return positions
    answer = read("fetch_margin_mode", partial(exchange.fetch_margin_mode, positions[0].symbol))
    mode = str((answer or {}).get("marginMode") or "").lower() or None
    mode = "cross" if mode == "portfolio" else mode
    return [p if p.margin_mode is not None else replace(p, margin_mode=mode) for p in positions]


def read_margin_tiers(
    exchange: Any, markets: Mapping[str, Mapping[str, Any]], symbols: Sequence[str], read: Reader
) -> dict[str, tuple[VenueMarginTier, ...]]:
    """Each derivative symbol's maintenance-margin tiers, lowest first (empty where the exchange has none)."""
    if not exchange.has.get("fetchLeverageTiers"):
        return {}
    result: dict[str, tuple[VenueMarginTier, ...]] = {}
    for kind, group in sub_types(markets, symbols).items():
        answer = read("fetch_leverage_tiers", partial(exchange.fetch_leverage_tiers, group, {"subType": kind}))
        for symbol in group:
            market = markets.get(symbol) or {}
            currency = str(market.get("base") if kind == "inverse" else market.get("quote"))
            tiers = [_tier(t, currency) for t in (answer or {}).get(symbol) or []]
            result[symbol] = tuple(sorted(tiers, key=lambda t: t.floor))
    return result


def _tier(entry: Mapping[str, Any], currency: str) -> VenueMarginTier:
    info = entry.get("info") if isinstance(entry.get("info"), Mapping) else {}
    return VenueMarginTier(
        floor=parsing.number(entry.get("minNotional"), 0.0) or 0.0,
        cap=parsing.number(entry.get("maxNotional")),
        rate=parsing.number(entry.get("maintenanceMarginRate"), 0.0) or 0.0,
        amount=parsing.number((info or {}).get("cum"), 0.0) or 0.0,
        max_leverage=parsing.number(entry.get("maxLeverage")),
        currency=currency,
    )


def as_rule_tiers(tiers: Sequence[VenueMarginTier]) -> tuple[MarginTier, ...]:
    """The venue's tiers as the market rules' :class:`~trimtab.domain.market.MarginTier` (floor, rate,
    maintenance amount, maximum leverage), lowest floor first."""
    return tuple(
        MarginTier(t.floor, t.rate, t.amount, t.max_leverage if t.max_leverage else math.inf)
        for t in sorted(tiers, key=lambda t: t.floor)
    )


def with_rule_tiers(
    exchange: Any, markets: dict[str, VenueMarket], raw: Mapping[str, Mapping[str, Any]], read: Reader
) -> dict[str, VenueMarket]:
    """Futures and perpetual markets with the exchange's margin tiers in their rules.

    The rules keep each table in the unit the account model reads it in (:mod:`trimtab.valuation.margin`):
    a linear market's floors and maintenance amounts in its quote currency (Binance USD-M ``notionalFloor``,
    ``cum`` in USDT), an inverse market's in its settlement coin (Binance COIN-M ``qtyFloor``/``qtyCap`` and
    ``cum`` are quantities of the coin, which ccxt's ``fetch_leverage_tiers`` passes on as ``minNotional``
    and ``maxNotional``); valuation looks an inverse position's tier up with its size in coins
    (``contracts x contract size / mark``) and values its coin maintenance margin at the coin's price.
    """
    symbols = [s for s, m in markets.items() if m.instrument.kind in (InstrumentKind.PERP, InstrumentKind.FUTURE)]
    if not symbols:
        return markets
    for symbol, table in read_margin_tiers(exchange, raw, symbols, read).items():
        instrument = markets[symbol].instrument
        unit = (instrument.settle or instrument.base) if instrument.is_inverse else instrument.quote
        if table and all(t.currency == unit for t in table):
            rules = replace(markets[symbol].rules, margin_tiers=as_rule_tiers(table))
            markets[symbol] = replace(markets[symbol], rules=rules)
    return markets


def account_is_hedged(exchange: Any, read: Reader) -> bool | None:
    """Whether the account trades its contracts in hedge mode (None where ccxt cannot tell, or it has none)."""
    if not exchange.has.get("fetchPositionMode"):
        return None
    contracts = [s for s, m in (exchange.markets or {}).items() if m.get("swap") or m.get("future")]
    if not contracts:
        return None
    answer = read("fetch_position_mode", lambda: exchange.fetch_position_mode(contracts[0]))
    return bool(answer.get("hedged"))
