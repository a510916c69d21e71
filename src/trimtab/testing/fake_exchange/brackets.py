"""Leverage brackets (Binance's "notional and leverage brackets") as the fake exchange keeps them.

A bracket gives, for a range of position notional, the maximum initial leverage, the maintenance margin
rate and the maintenance amount ``cum`` (Binance's "auxiliary number for quick calculation"), so that
maintenance margin = ``notional x rate - cum`` is continuous across brackets:
``cum_n = cum_(n-1) + floor_n x (rate_n - rate_(n-1))``.

Sources:

* USD-M ``BTCUSDT``: Binance's announcement "Updates to Leverage and Margin Tiers of Binance Futures
  Contracts (2021-03-18)" (binance.com/en/support/announcement), table "BTCUSDT 125x perpetual
  contract": notional caps, maximum leverage and maintenance margin rate of each of its ten tiers.
* COIN-M ``BTCUSD_PERP``: the floors (in BTC) and rates that ccxt's recorded test answers give for
  ``BTC/USD:BTC`` (ccxt/ccxt ``ts/src/test/static/response/binance.json``, ``options.leverageBrackets``);
  their maximum leverage is Binance's published pattern for every tier of the table above, an initial
  margin of twice the maintenance rate (``1 / (2 x rate)``, at most 125); the last bracket's cap
  (3,000 BTC) is the fake's own, the recording gives floors only.
* The answer's shape (``bracket``, ``initialLeverage``, ``notionalCap``/``qtyCap``,
  ``notionalFloor``/``qtyFloor``, ``maintMarginRatio``, ``cum``): Binance's USD-M "Notional and
  Leverage Brackets" and COIN-M "Notional Bracket for Symbol" documentation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bracket:
    """One bracket: ``floor < size <= cap`` (USD-M: notional in the quote; COIN-M: quantity in the coin)."""

    number: int
    floor: float
    cap: float
    max_leverage: int
    rate: float
    cum: float


def build(rows: Sequence[tuple[float, float, int, float]]) -> tuple[Bracket, ...]:
    """Brackets from ``(floor, cap, max_leverage, rate)`` rows, with ``cum`` by Binance's continuity rule."""
    brackets: list[Bracket] = []
    cum, previous_rate = 0.0, 0.0
    for number, (floor, cap, leverage, rate) in enumerate(rows, start=1):
        if brackets:
            cum += floor * (rate - previous_rate)
        brackets.append(Bracket(number, floor, cap, leverage, rate, round(cum, 8)))
        previous_rate = rate
    return tuple(brackets)


BTCUSDT = build(
    [
        (0, 50_000, 125, 0.004),
        (50_000, 250_000, 100, 0.005),
        (250_000, 1_000_000, 50, 0.01),
        (1_000_000, 10_000_000, 20, 0.025),
        (10_000_000, 20_000_000, 10, 0.05),
        (20_000_000, 50_000_000, 5, 0.10),
        (50_000_000, 100_000_000, 4, 0.125),
        (100_000_000, 200_000_000, 3, 0.15),
        (200_000_000, 300_000_000, 2, 0.25),
        (300_000_000, 500_000_000, 1, 0.50),
    ]
)

_COINM_ROWS = [(0, 0.004), (5, 0.005), (10, 0.01), (20, 0.025), (50, 0.05), (100, 0.1), (200, 0.125), (400, 0.15)]
_COINM_ROWS += [(1000, 0.25), (1500, 0.5)]
BTCUSD_PERP = build(
    [
        (floor, _COINM_ROWS[i + 1][0] if i + 1 < len(_COINM_ROWS) else 3000, min(125, int(1 / (2 * rate))), rate)
        for i, (floor, rate) in enumerate(_COINM_ROWS)
    ]
)


def bracket_of(brackets: Sequence[Bracket], size: float) -> Bracket:
    """The bracket that holds a position of ``size`` (notional or quantity); the last one beyond its cap."""
    for bracket in brackets:
        if size <= bracket.cap:
            return bracket
    return brackets[-1]


def max_size_at(brackets: Sequence[Bracket], leverage: float) -> float:
    """The largest position (notional or quantity) that ``leverage`` may hold: the cap of the last bracket
    whose maximum leverage is at least ``leverage`` (0 when even the first bracket's is lower)."""
    allowed = [b.cap for b in brackets if b.max_leverage >= leverage]
    return max(allowed) if allowed else 0.0


def as_json(brackets: Sequence[Bracket], *, coin_margined: bool) -> list[dict[str, float | int]]:
    """The brackets as Binance's leverage-bracket endpoints write them."""
    cap, floor = ("qtyCap", "qtyFloor") if coin_margined else ("notionalCap", "notionalFloor")
    return [
        {
            "bracket": b.number,
            "initialLeverage": b.max_leverage,
            cap: b.cap,
            floor: b.floor,
            "maintMarginRatio": b.rate,
            "cum": b.cum,
        }
        for b in brackets
    ]
