"""Where the paper venue's prices come from: one fixed snapshot, or history replayed bar by bar.

A feed answers :meth:`PriceFeed.snapshot` (the market now). :class:`ReplayFeed` also moves forward one bar at
a time with :meth:`ReplayFeed.advance`, so a paper run over history sees exactly the closes a backtest sees:
bar ``i``'s snapshot is stamped at the bar's close (its open time plus one bar).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np

from trimtab.domain.instruments import Instrument, InstrumentKind, parse_symbol
from trimtab.domain.market import DerivativeQuote, MarketSnapshot
from trimtab.errors import BadInputError
from trimtab.feed.history import MarketHistory
from trimtab.valuation.black76 import black76
from trimtab.venues.simulation.expiry import is_expired

NS_PER_SECOND = 1_000_000_000


FundingSettlement = tuple[datetime, float, float | None]
"""One funding settlement: its stamp, its rate, and the mark at the stamp (None: the mark of the moment)."""


class PriceFeed(Protocol):
    """The market as the paper venue sees it."""

    def snapshot(self) -> MarketSnapshot:
        """Prices, marks and funding rates now."""
        ...

    def funding_between(self, symbol: str, after: datetime, until: datetime) -> list[FundingSettlement]:
        """The funding settlements of perpetual ``symbol`` in ``(after, until]``, oldest first."""
        ...

    def price_at(self, asset: str, moment: datetime) -> float | None:
        """The price of ``asset`` known at ``moment`` (its last at or before it), None when unknown."""
        ...

    def traded_range(self, symbol: str, since: datetime, now: datetime) -> tuple[float, float] | None:
        """The lowest and highest price ``symbol`` traded at after ``since`` (up to ``now``), as far as the feed
        knows; None when the feed has seen no trading since then (a resting order cannot have been reached)."""
        ...

    @property
    def replaying(self) -> bool:
        """True when time is the feed's (history), False when it is the wall clock's (a fixed snapshot)."""
        ...


class FixedFeed:
    """One snapshot whose prices never move (``--market M``); time is the clock's."""

    replaying = False

    def __init__(self, market: MarketSnapshot) -> None:
        self.market = market

    def snapshot(self) -> MarketSnapshot:
        return self.market

    def price_at(self, asset: str, moment: datetime) -> float | None:
        """The snapshot's price: the only one a fixed feed knows."""
        return self.market.prices.get(asset)

    def traded_range(self, symbol: str, since: datetime, now: datetime) -> tuple[float, float] | None:
        """A fixed snapshot trades at its one price (the spot price or the mark) for as long as time passes."""
        price = reference_price(self.market, symbol)
        if price is None or now <= since:
            return None
        return price, price

    def funding_between(self, symbol: str, after: datetime, until: datetime) -> list[FundingSettlement]:
        """A fixed snapshot settles on its quote's own interval (``funding_interval_hours``) from 00:00 UTC."""
        quote = self.market.derivatives.get(symbol)
        if quote is None:
            return []
        return [(stamp, quote.funding_rate, None) for stamp in grid_stamps(after, until, quote.funding_interval_hours)]


def reference_price(market: MarketSnapshot, symbol: str) -> float | None:
    """What ``symbol`` trades at in ``market``: the spot price of its base asset, or the derivative's mark."""
    instrument = parse_symbol(symbol)
    if instrument.kind is InstrumentKind.SPOT:
        return market.prices.get(instrument.base)
    quote = market.derivatives.get(symbol)
    return None if quote is None else quote.mark


def grid_stamps(after: datetime, until: datetime, interval_hours: float) -> list[datetime]:
    """Stamps every ``interval_hours`` from midnight UTC, in ``(after, until]``."""
    step = timedelta(hours=interval_hours)
    midnight = after.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    stamp = midnight + step * math.floor((after - midnight) / step + 1.0)
    out = []
    while stamp <= until:
        out.append(stamp)
        stamp += step
    return out


def _at(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


def _ns(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1000


class ReplayFeed:
    """History replayed one bar at a time (``--data D --at T``).

    Parameters
    ----------
    history:
        Aligned bars from :func:`trimtab.feed.history.load_history`.
    perps:
        Derivatives to quote (the policy's hedges and what the account holds): a perpetual's mark is its own
        close where the history has one, else the spot close (a future's is the spot close, an option's
        Black-76 on it with DVOL or ``option_volatility``, as in the backtest); one past its expiry is no
        longer quoted; their funding rate the last settlement at or before the bar's close, and
        its interval that settlement's spacing in the funding file. Funding is paid at the file's own stamps
        (:meth:`funding_between`), as the backtest pays it.
    start:
        The first bar to replay: the first bar whose open time is at or after ``start`` (None: the first).
    """

    replaying = True

    def __init__(self, history: MarketHistory, perps: tuple[str, ...] = (), start: datetime | None = None) -> None:
        self.history = history
        self.perps = perps
        self.index = 0
        self.volatility: np.ndarray | None = None
        """Realised volatility per bar and asset (T, N), for adaptive bands; set by the run's wiring."""
        self.option_volatility: np.ndarray | None = None
        """30-day realised volatility per bar and asset (T, N): an option's volatility without DVOL."""
        if start is not None:
            self.seek(start)

    def seek(self, moment: datetime) -> None:
        """Move to the first bar whose open time is at or after ``moment``."""
        ns = int(moment.astimezone(UTC).timestamp()) * NS_PER_SECOND
        index = int(np.searchsorted(self.history.timestamps, ns, side="left"))
        if index >= len(self.history.timestamps):
            raise BadInputError("--at", "", f"{moment.isoformat()} is after the last bar of the data")
        self.index = index

    def seek_close(self, moment: datetime) -> None:
        """Move to the bar that closes at ``moment`` (a replay resumed from its stored position)."""
        self.seek(moment - timedelta(seconds=self.history.bar_seconds))

    @property
    def at_end(self) -> bool:
        return self.index >= len(self.history.timestamps) - 1

    def advance(self) -> bool:
        """Move to the next bar; False (and no move) at the last one."""
        if self.at_end:
            return False
        self.index += 1
        return True

    def realised_volatility(self) -> dict[str, float] | None:
        """Each asset's realised volatility at the current bar (None when not computed)."""
        if self.volatility is None:
            return None
        row = self.volatility[self.index]
        return {asset: float(v) for asset, v in zip(self.history.assets, row, strict=True) if math.isfinite(v)}

    def close_time(self, index: int | None = None) -> datetime:
        row = self.index if index is None else index
        return _at(int(self.history.timestamps[row]) + self.history.bar_seconds * NS_PER_SECOND)

    def snapshot(self) -> MarketSnapshot:
        history, row = self.history, self.index
        prices = {asset: float(history.close[row, col]) for col, asset in enumerate(history.assets)}
        close_ns = int(history.timestamps[row]) + history.bar_seconds * NS_PER_SECOND
        derivatives: dict[str, DerivativeQuote] = {}
        moment = _at(close_ns)
        for symbol in self.perps:
            instrument = parse_symbol(symbol)
            if is_expired(instrument, moment):
                continue  # settled and delisted
            asset = instrument.base
            if instrument.kind is InstrumentKind.OPTION:
                derivatives[symbol] = self._option_quote(instrument, prices.get(asset, float("nan")), close_ns)
                continue
            mark = prices.get(asset, float("nan"))
            perp_close = history.perp_close.get(asset)
            # The perpetual's own close marks the perpetual; a dated future is marked at the spot close.
            if (
                instrument.kind is InstrumentKind.PERP
                and perp_close is not None
                and math.isfinite(float(perp_close[row]))
            ):
                mark = float(perp_close[row])
            rate, hours = history.funding_quote(asset, close_ns)
            derivatives[symbol] = DerivativeQuote(mark=mark, funding_rate=rate, funding_interval_hours=hours)
        return MarketSnapshot(timestamp=moment, prices=prices, derivatives=derivatives)

    def price_at(self, asset: str, moment: datetime) -> float | None:
        """The history's last close of ``asset`` at or before ``moment`` (the backtest's settlement price)."""
        return self.history.close_at(asset, _ns(moment))

    def traded_range(self, symbol: str, since: datetime, now: datetime) -> tuple[float, float] | None:
        """The current bar's low and high when the bar closed after ``since`` (a derivative's moved by its basis
        at the close, as the backtest's liquidation check does; an option's is its mark)."""
        market = self.snapshot()
        if market.timestamp <= since:
            return None
        instrument = parse_symbol(symbol)
        reference = reference_price(market, symbol)
        if reference is None or instrument.base not in self.history.assets:
            return None
        if instrument.kind is InstrumentKind.OPTION:
            return reference, reference
        column = self.history.index_of(instrument.base)
        close = float(self.history.close[self.index, column])
        basis = reference / close if close > 0 else 1.0
        return float(self.history.low[self.index, column]) * basis, float(self.history.high[self.index, column]) * basis

    def _option_quote(self, instrument: Instrument, underlying: float, close_ns: int) -> DerivativeQuote:
        """Black-76 on the underlying's close with DVOL (else ``option_volatility``), as the backtest marks it."""
        assert instrument.strike is not None and instrument.option_type is not None
        iv = 0.0
        implied = self.history.implied_vol
        at = int(np.searchsorted(implied[0], close_ns, side="right")) - 1 if implied is not None else -1
        if implied is not None and at >= 0:
            iv = float(implied[1][at])
        elif self.option_volatility is not None:
            realised = float(self.option_volatility[self.index, self.history.index_of(instrument.base)])
            iv = realised if math.isfinite(realised) else 0.0
        years = instrument.years_to_expiry(_at(close_ns))
        return DerivativeQuote(
            mark=black76(underlying, instrument.strike, years, iv, instrument.option_type).value, iv=iv
        )

    def funding_between(self, symbol: str, after: datetime, until: datetime) -> list[FundingSettlement]:
        """The settlements of the history's funding file in ``(after, until]``: its own stamps, as the backtest."""
        asset = parse_symbol(symbol).base
        return [
            (_at(stamp), rate, mark)
            for stamp, rate, mark in self.history.funding_between(asset, _ns(after), _ns(until))
        ]
