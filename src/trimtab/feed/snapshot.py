"""A market snapshot (the file ``trimtab plan --market`` reads) built from an exchange's public endpoints.

For a policy, it asks the exchange through ccxt for: the spot price of every asset against the base
currency (``fetch_tickers``: the last trade), the mark price and funding rate of every class ``hedge`` and
``index_hedge`` perpetual (``fetch_funding_rates``: Binance's ``premiumIndex``), and each of those markets'
rules (lot step, minimum amount and notional, contract size, from ``load_markets``). No key is needed or
read. An asset the exchange does not list against the base currency is refused naming the asset.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from trimtab.errors import BadInputError
from trimtab.policy.config import Policy

DEFAULT_FUNDING_INTERVAL_HOURS = 8.0


def policy_symbols(policy: Policy) -> tuple[list[str], list[str]]:
    """The policy's assets other than the base currency, and its hedge perpetuals (class and index hedges)."""
    base = policy.base_currency
    assets = [a for c in policy.asset_classes() for a in c.assets if a != base]
    hedges = [c.hedge for c in policy.asset_classes() if getattr(c, "hedge", None)]
    strategy = getattr(policy, "strategy", None)
    index_hedge = getattr(strategy, "index_hedge", None) if strategy is not None else None
    if index_hedge:
        hedges.append(index_hedge)
    return list(dict.fromkeys(assets)), [str(h) for h in dict.fromkeys(hedges)]


def build_snapshot(exchange: Any, policy: Policy, now: datetime | None = None) -> dict[str, Any]:
    """The market snapshot of ``policy``'s assets and hedges on ``exchange`` (a ccxt client), as a JSON document.

    Raises
    ------
    BadInputError
        When the exchange lists no ``ASSET/BASE`` spot market for an asset, or no market for a hedge
        (source ``--venue``, naming the symbol).
    """
    base = policy.base_currency
    assets, hedges = policy_symbols(policy)
    markets: Mapping[str, Any] = exchange.load_markets()
    spot = {asset: f"{asset}/{base}" for asset in assets}
    for asset, symbol in spot.items():
        if symbol not in markets:
            raise BadInputError("--venue", "", f"{exchange.id} lists no {symbol} market for {asset}")
    for symbol in hedges:
        if symbol not in markets:
            raise BadInputError("--venue", "", f"{exchange.id} lists no {symbol} market (a hedge of the policy)")
    tickers = exchange.fetch_tickers(list(spot.values())) if spot else {}
    prices: dict[str, float] = {base: 1.0}
    stamps: list[int] = []
    for asset, symbol in spot.items():
        ticker = tickers.get(symbol) or {}
        price = _positive(ticker.get("last") or ticker.get("close"))
        if price is None:
            raise BadInputError("--venue", "", f"{exchange.id} gave no price for {symbol}")
        prices[asset] = price
        if ticker.get("timestamp"):
            stamps.append(int(ticker["timestamp"]))
    derivatives: dict[str, dict[str, float]] = {}
    if hedges:
        rates = exchange.fetch_funding_rates(hedges)
        for symbol in hedges:
            rate = rates.get(symbol) or {}
            mark = _positive(rate.get("markPrice"))
            if mark is None:
                raise BadInputError("--venue", "", f"{exchange.id} gave no mark price for {symbol}")
            derivatives[symbol] = {
                "mark": mark,
                "funding_rate": float(rate.get("fundingRate") or 0.0),
                "funding_interval_hours": _interval_hours(rate.get("interval")),
            }
            if rate.get("timestamp"):
                stamps.append(int(rate["timestamp"]))
    moment = now or (datetime.fromtimestamp(max(stamps) / 1000, tz=UTC) if stamps else datetime.now(UTC))
    return {
        "timestamp": moment.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "prices": prices,
        "derivatives": derivatives,
        "markets": {symbol: market_rules(markets[symbol]) for symbol in [*spot.values(), *hedges]},
    }


def market_rules(market: Mapping[str, Any]) -> dict[str, float]:
    """A ccxt market's lot step, minimum amount and notional (and contract size for a derivative)."""
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    rules: dict[str, float] = {}
    step = _positive(precision.get("amount"))
    if step is not None:
        rules["amount_step"] = step
    minimum = _positive((limits.get("amount") or {}).get("min"))
    if minimum is not None:
        rules["min_amount"] = minimum
    notional = _positive((limits.get("cost") or {}).get("min"))
    if notional is not None:
        rules["min_notional"] = notional
    if market.get("contract"):
        size = _positive(market.get("contractSize"))
        rules["contract_size"] = size if size is not None else 1.0
    return rules


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _interval_hours(text: Any) -> float:
    """ccxt's funding ``interval`` (``"8h"``, ``"4h"``, ``"1h"``) in hours; 8 when the exchange gives none."""
    if isinstance(text, str) and text.endswith("h") and text[:-1].isdigit():
        return float(text[:-1])
    return DEFAULT_FUNDING_INTERVAL_HOURS


def public_exchange(venue: str, settings: Mapping[str, Any], testnet: bool = False) -> Any:
    """A ccxt client of ``venue`` for public endpoints only (no key), ccxt's own rate limiter on.

    Raises
    ------
    BadInputError
        When ``venue`` is not a ccxt exchange id (source ``--venue``).
    """
    import ccxt

    exchange_class = getattr(ccxt, venue, None)
    if not isinstance(exchange_class, type) or not issubclass(exchange_class, ccxt.Exchange):
        raise BadInputError("--venue", "", f"{venue!r} is not a ccxt exchange id")
    options = {"fetchCurrencies": False, "fetchMargins": False, **dict(settings.get("options") or {})}
    exchange = exchange_class({"enableRateLimit": True, "timeout": 10_000, **settings, "options": options})
    if testnet:
        exchange.set_sandbox_mode(True)
    return exchange
