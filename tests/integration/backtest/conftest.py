"""Shared fixtures: the bundled real market data and a policy builder."""

from __future__ import annotations

import bisect
import csv
import gzip
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from trimtab.feed import MarketHistory, load_history
from trimtab.policy.config import Policy

DATA = Path(__file__).resolve().parents[3] / "data" / "market"


def _utc(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None


@pytest.fixture(scope="session")
def load() -> Callable[..., MarketHistory]:
    """``load(assets, timeframe, start, end)`` from the bundled data, without writing a cache."""

    def _load(
        assets: list[str], timeframe: str = "1d", start: str | None = None, end: str | None = None
    ) -> MarketHistory:
        return load_history(DATA, assets, timeframe=timeframe, start=_utc(start), end=_utc(end), use_cache=False)

    return _load


def four_class_policy(**overrides: Any) -> Policy:
    """BTC 40 %, ETH 25 %, ALTS (BNB 2 : SOL 1) 20 % relative band, cash 15 %."""
    document: dict[str, Any] = {
        "base_currency": "USDT",
        "class": [
            {"name": "BTC", "assets": ["BTC"], "target": 0.40, "band": 0.05},
            {"name": "ETH", "assets": ["ETH"], "target": 0.25, "band": 0.05},
            {
                "name": "ALTS",
                "assets": ["BNB", "SOL"],
                "target": 0.20,
                "band_relative": 0.25,
                "weights": {"BNB": 2, "SOL": 1},
            },
            {"name": "CASH", "assets": ["USDT"], "target": 0.15, "band": 0.05, "cash": True},
        ],
        "costs": {"taker_fee": 0.001, "slippage_bps": 0.0},
    }
    document.update(overrides)
    return Policy.model_validate(document)


@pytest.fixture(scope="session")
def four_class() -> Callable[..., Policy]:
    """The builder of :func:`four_class_policy` (test modules cannot import conftest)."""
    return four_class_policy


@pytest.fixture(scope="session")
def majors_daily(load: Callable[..., MarketHistory]) -> MarketHistory:
    """BTC, ETH, BNB, SOL daily closes, every shared bar of the bundled files (2020-08 to 2026-02)."""
    return load(["BTC", "ETH", "BNB", "SOL", "USDT"], "1d")


def _rows(name: str) -> list[dict[str, str]]:
    with gzip.open(DATA / name, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def ns(text: str) -> int:
    """Nanoseconds since the epoch of an ISO time (the files' and the trades' stamps)."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 1_000_000_000


FundingPaid = Callable[[Callable[[int], float], int, int], float]


@pytest.fixture(scope="session")
def funding_paid() -> Callable[[str], FundingPaid]:
    """``funding_paid(asset)(held, after, until)``: what the asset's perpetual pays at the 8-hour funding stamps
    in ``(after, until]`` (nanoseconds) with ``held(stamp)`` its signed amount at each stamp, worked from the
    files, not from the engine: ``rate x amount x mark`` with the rate of ``perp_<ASSET>-USDT_funding_8h`` and
    the mark at the stamp (the open of ``perp_<ASSET>-USDT_mark_8h``'s bar there). Negative: received."""
    cache: dict[str, FundingPaid] = {}

    def of(asset: str) -> FundingPaid:
        if asset not in cache:
            marks = {ns(r["timestamp"]): float(r["open"]) for r in _rows(f"perp_{asset}-USDT_mark_8h.csv.gz")}
            rates = [
                (ns(r["timestamp"]), float(r["funding_rate"])) for r in _rows(f"perp_{asset}-USDT_funding_8h.csv.gz")
            ]

            def paid(held: Callable[[int], float], after: int, until: int) -> float:
                return sum(rate * held(stamp) * marks[stamp] for stamp, rate in rates if after < stamp <= until)

            cache[asset] = paid
        return cache[asset]

    return of


@pytest.fixture(scope="session")
def btc_funding_paid(funding_paid: Callable[[str], FundingPaid]) -> Callable[[float, int, int], float]:
    """``paid(amount, after, until)``: :func:`funding_paid` of a BTC perpetual held at a constant ``amount``."""
    paid = funding_paid("BTC")
    return lambda amount, after, until: paid(lambda _stamp: amount, after, until)


@pytest.fixture(scope="session")
def closes() -> Callable[[str], dict[int, tuple[float, float, float]]]:
    """``closes(file)``: each bar's (close, low, high) by its open time (nanoseconds), read from a data file."""

    def read(name: str) -> dict[int, tuple[float, float, float]]:
        return {ns(r["timestamp"]): (float(r["close"]), float(r["low"]), float(r["high"])) for r in _rows(name)}

    return read


class CrossByHand:
    """The backtest's account rebuilt by hand from a run's trades and liquidations and the data files.

    The contract's default account (unified, cross, its collateral the USDT balance at 1.0 plus the unrealised
    PnL of the perpetuals; flat 0.5 % maintenance), worked without the engine's code: ``capital`` USDT; a spot
    fill moves the cash by its notional; every fill pays ``taker_fee`` of its notional; a perpetual keeps an
    amount-weighted entry and realises ``closed x (price - entry)`` when reduced (a flip re-enters at the fill);
    at each funding stamp since the previous close a perpetual pays ``rate x amount x mark`` (the rate of
    ``perp_<ASSET>-USDT_funding_8h``, the mark of ``perp_<ASSET>-USDT_mark_8h`` at the stamp, else the mark at
    the close); marks are the perpetual's hourly close at the bar's close, else the spot close.

    A position ``q`` entered at ``E`` is liquidated where the account's collateral meets its maintenance margin
    with the other marks unchanged: ``cushion + q (P - E) = 0.005 |q| P``, the cushion being the cash plus the
    others' PnL less their maintenance margin, so ``P = (q E - cushion) / (q - 0.005 |q|)`` (none at P <= 0).
    """

    RATE = 0.005
    HOUR = 3600 * 1_000_000_000

    def __init__(self, assets: list[str], taker_fee: float, capital: float = 100_000.0) -> None:
        self.fee = taker_fee
        self.cash = capital
        self.positions: dict[str, tuple[float, float]] = {}  # asset -> (amount, entry)
        self.perp = {a: {t: c for t, (c, _l, _h) in _closes_of(f"perp_{a}-USDT_1h.csv.gz").items()} for a in assets}
        self.spot = {a: _closes_of(f"spot_{a}-USDT_1d.csv.gz") for a in assets}
        self.stamp_marks = {
            a: {ns(r["timestamp"]): float(r["open"]) for r in _rows(f"perp_{a}-USDT_mark_8h.csv.gz")} for a in assets
        }
        self.rates = {
            a: [(ns(r["timestamp"]), float(r["funding_rate"])) for r in _rows(f"perp_{a}-USDT_funding_8h.csv.gz")]
            for a in assets
        }

    def mark(self, asset: str, close_time: int) -> float:
        hourly = self.perp[asset].get(close_time - self.HOUR)
        return hourly if hourly is not None else self.spot[asset][close_time - 24 * self.HOUR][0]

    def adverse(self, asset: str, close_time: int) -> tuple[float, float]:
        """The bar's (low, high) of the perpetual: the spot extremes moved by the basis at the close."""
        close, low, high = self.spot[asset][close_time - 24 * self.HOUR]
        basis = self.mark(asset, close_time) / close
        return low * basis, high * basis

    def pay_funding(self, after: int, until: int) -> None:
        for asset, (amount, _entry) in self.positions.items():
            stamps = self.rates[asset]
            first = bisect.bisect_right(stamps, (after, math.inf))
            for stamp, rate in stamps[first:]:
                if stamp > until:
                    break
                mark = self.stamp_marks[asset].get(stamp, self.mark(asset, until))
                self.cash -= rate * amount * mark

    def fill(self, asset: str | None, signed: float, price: float) -> None:
        """A fill of ``signed`` at ``price``: of the spot coin when ``asset`` is None, else of its perpetual."""
        self.cash -= self.fee * abs(signed) * price
        if asset is None:
            self.cash -= signed * price
            return
        amount, entry = self.positions.get(asset, (0.0, 0.0))
        if amount == 0.0 or amount * signed > 0.0:
            self.positions[asset] = (amount + signed, (amount * entry + signed * price) / (amount + signed))
            return
        closed = min(abs(signed), abs(amount)) * (1.0 if amount > 0 else -1.0)
        self.cash += closed * (price - entry)
        remaining = amount + signed
        if abs(remaining) <= 1e-12:
            del self.positions[asset]
        else:
            self.positions[asset] = (remaining, entry if remaining * amount > 0 else price)

    def liquidation_price(self, asset: str, close_time: int) -> float | None:
        amount, entry = self.positions[asset]
        cushion = self.cash
        for other, (q, e) in self.positions.items():
            if other != asset:
                mark = self.mark(other, close_time)
                cushion += q * (mark - e) - self.RATE * abs(q) * mark
        price = (amount * entry - cushion) / (amount - self.RATE * abs(amount))
        return price if price > 0.0 else None

    def min_distance(self, close_time: int) -> float | None:
        """The smallest distance of a position to its liquidation price, as a fraction of its mark."""
        out = None
        for asset, (amount, _entry) in self.positions.items():
            price = self.liquidation_price(asset, close_time)
            if price is None:
                continue
            mark = self.mark(asset, close_time)
            gap = max((mark - price if amount > 0 else price - mark) / mark, 0.0)
            out = gap if out is None else min(out, gap)
        return out

    def breached(self, close_time: int) -> str | None:
        """The first position whose bar (its low for a long, its high for a short) reached its price."""
        for asset, (amount, _entry) in self.positions.items():
            price = self.liquidation_price(asset, close_time)
            low, high = self.adverse(asset, close_time)
            if price is not None and (low <= price if amount > 0 else high >= price):
                return asset
        return None

    def replay(self, result: Any) -> Replayed:
        """Walk the run bar by bar as the engine does (funding, liquidations, the decision's fills)."""
        trades: dict[str, list[dict[str, Any]]] = {}
        for trade in result.trades:
            trades.setdefault(trade["timestamp"], []).append(trade)
        events: dict[int, list[dict[str, Any]]] = {}
        for event in result.events:
            if event["kind"] == "liquidation":
                events.setdefault(int(event["bar"]), []).append(event)
        out = Replayed({}, [], [])
        previous = None
        for bar, close_time in enumerate(int(t) for t in result.timestamps):
            if previous is not None:
                self.pay_funding(previous, close_time)
            for event in events.get(bar, []):
                asset = event["symbol"].split("/")[0]
                out.liquidations.append((event, self.liquidation_price(asset, close_time), self.breached(close_time)))
                self.fill(asset, -event["amount"], event["price"])
            if (missed := self.breached(close_time)) is not None:
                out.missed.append((bar, missed))
            stamp = datetime.fromtimestamp(close_time / 1e9, UTC).isoformat().replace("+00:00", "Z")
            for trade in trades.get(stamp, []):
                signed = trade["amount"] if trade["side"] == "buy" else -trade["amount"]
                asset = None if trade["instrument"] == "spot" else trade["symbol"].split("/")[0]
                self.fill(asset, signed, trade["price"])
            distance = self.min_distance(close_time)
            if distance is not None:
                out.distances[bar] = distance
            previous = close_time
        return out


@dataclass
class Replayed:
    """What :meth:`CrossByHand.replay` found: per bar the smallest liquidation distance after its trades; each
    liquidation event with the price worked by hand and the asset that by hand breached first; the bars where
    by hand a position breached and the engine liquidated none."""

    distances: dict[int, float]
    liquidations: list[tuple[dict[str, Any], float | None, str | None]]
    missed: list[tuple[int, str]]


def _closes_of(name: str) -> dict[int, tuple[float, float, float]]:
    return {ns(r["timestamp"]): (float(r["close"]), float(r["low"]), float(r["high"])) for r in _rows(name)}


@pytest.fixture(scope="session")
def cross_by_hand() -> type[CrossByHand]:
    """The :class:`CrossByHand` account (test modules cannot import conftest)."""
    return CrossByHand
