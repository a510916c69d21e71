"""Market snapshots built from history, one per bar close, for the event engine.

* Spot prices: the bar's closes (the base currency at 1).
* Perpetuals and futures the policy may trade (its classes' ``hedge`` symbols and a core-satellite
  index hedge) and every derivative held: the mark is the perpetual's close at the bar when the history
  has one, else the spot close (no basis). The funding rate quoted is the last settled one, and its
  interval the spacing of that settlement in the file (4 h and 1 h symbols are quoted as such).
* Funding is settled at each stamp of the funding file between two bar closes (the data's own stamps,
  never an 8-hour grid), at the mark-price file's price at that stamp (else the bar's mark).
* A dated future or option past its expiry (08:00 UTC on its date) is not quoted: the account settled it,
  and a policy whose hedge it is trades spot instead (the plan's notes say the hedge expired).
* Options held are marked with Black-76 (:func:`trimtab.valuation.black76`) on the underlying's close,
  with the DVOL index as implied volatility when the history has it, else the underlying's realised
  volatility over 30 days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta

import numpy as np

from trimtab.backtest.replay import Replay, rolling_volatility
from trimtab.domain.instruments import Instrument, InstrumentKind, parse_symbol
from trimtab.domain.market import DerivativeQuote, MarketSnapshot
from trimtab.errors import BadInputError
from trimtab.feed.history import DEFAULT_FUNDING_INTERVAL_HOURS
from trimtab.feed.table import NS_PER_SECOND
from trimtab.policy.config import CoreSatelliteStrategy
from trimtab.valuation.black76 import black76
from trimtab.venues.simulation.expiry import is_expired

OPTION_VOL_LOOKBACK = timedelta(days=30)


def tradable_derivatives(replay: Replay) -> tuple[Instrument, ...]:
    """The perpetuals and futures the policy may trade, whose underlying the history prices.

    Raises
    ------
    BadInputError
        If a hedge's underlying has no price history (an index perpetual without its own series).
    """
    symbols: list[str] = [c.hedge for c in replay.classes if c.hedge]
    strategy = replay.policy.strategy
    if isinstance(strategy, CoreSatelliteStrategy):
        symbols.append(strategy.index_hedge)
    out: list[Instrument] = []
    for symbol in dict.fromkeys(symbols):
        instrument = parse_symbol(symbol)
        if instrument.base not in replay.history.assets:
            raise BadInputError(
                "--data", "", f"no price history for {instrument.base}, the underlying of the hedge {symbol}"
            )
        out.append(instrument)
    return tuple(out)


class SnapshotBuilder:
    """Builds the snapshot of each replayed bar and answers funding questions."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self.history = replay.history
        self.derivatives = tradable_derivatives(replay)
        self._option_vol: np.ndarray | None = None

    def price_column(self, asset: str) -> int:
        return self.history.index_of(asset)

    def spot_close(self, bar: int, asset: str) -> float:
        """The close of ``asset`` at replayed bar ``bar``."""
        if asset == self.replay.base_currency:
            return 1.0
        return float(self.history.close[self.replay.rows[bar], self.history.index_of(asset)])

    def mark(self, bar: int, instrument: Instrument) -> float:
        """The mark of a perpetual or future at the bar's close (perp close, else spot close)."""
        row = self.replay.rows[bar]
        if instrument.kind is InstrumentKind.PERP:
            perp = self.history.perp_close.get(instrument.base)
            if perp is not None and math.isfinite(float(perp[row])):
                return float(perp[row])
        return self.spot_close(bar, instrument.base)

    def funding_rate(self, bar: int, asset: str) -> float:
        """The last funding rate settled at or before the bar's close (0 without a funding file)."""
        return self.history.funding_quote(asset, int(self.replay.times[bar]))[0]

    def funding_between(self, asset: str, after: int, until: int) -> list[tuple[int, float, float | None]]:
        """Funding stamps in ``(after, until]`` (ns): ``(stamp, rate, mark at the stamp or None)``."""
        return self.history.funding_between(asset, after, until)

    def funding_covers(self, asset: str, after: int, until: int) -> bool:
        """Whether the history's funding settlements of ``asset``'s perpetual cover ``(after, until]`` (ns).

        Covered when a settlement lies at or before the interval's start plus one funding spacing and the last
        settlement plus one spacing reaches its end; a perpetual without a funding file is never covered.
        """
        series = self.history.funding.get(asset)
        if series is None or series.times.shape[0] == 0:
            return False
        spacing = max(series.typical_spacing_seconds(), 3600) * NS_PER_SECOND
        return int(series.times[0]) <= after + spacing and int(series.times[-1]) + spacing >= until

    def adverse_prices(self, bar: int, instrument: Instrument) -> tuple[float, float]:
        """The bar's (low, high) for a derivative: the spot extremes moved by the perp's basis."""
        row = self.replay.rows[bar]
        column = self.history.index_of(instrument.base)
        close = float(self.history.close[row, column])
        basis = self.mark(bar, instrument) / close if close > 0 else 1.0
        return float(self.history.low[row, column]) * basis, float(self.history.high[row, column]) * basis

    def option_quote(self, bar: int, instrument: Instrument) -> DerivativeQuote:
        """Black-76 mark of an option at the bar's close, with DVOL or realised volatility."""
        assert instrument.strike is not None and instrument.option_type is not None
        underlying = self.spot_close(bar, instrument.base)
        iv = self.implied_volatility(bar, instrument.base)
        years = instrument.years_to_expiry(self.replay.moment(bar))
        value = black76(underlying, instrument.strike, years, iv, instrument.option_type).value
        return DerivativeQuote(mark=value, iv=iv)

    def implied_volatility(self, bar: int, asset: str) -> float:
        """DVOL at or before the bar's close when the history has it, else 30-day realised volatility."""
        implied = self.history.implied_vol
        if implied is not None and implied[0].shape[0]:
            index = int(np.searchsorted(implied[0], self.replay.times[bar], side="right")) - 1
            if index >= 0:
                return float(implied[1][index])
        if self._option_vol is None:
            self._option_vol = rolling_volatility(
                self.history.close,
                self.history.timestamps,
                OPTION_VOL_LOOKBACK,
                self.replay.periods_per_year,
            )
        vol = float(self._option_vol[self.replay.rows[bar], self.history.index_of(asset)])
        return vol if math.isfinite(vol) else 0.0

    def snapshot(self, bar: int, held: Iterable[Instrument] = ()) -> MarketSnapshot:
        """The snapshot at replayed bar ``bar``'s close, quoting the tradable and ``held`` derivatives."""
        row = self.replay.rows[bar]
        prices = {
            asset: float(price) for asset, price in zip(self.history.assets, self.history.close[row], strict=True)
        }
        prices[self.replay.base_currency] = 1.0
        quotes: dict[str, DerivativeQuote] = {}
        now = self.replay.moment(bar)
        for instrument in (*self.derivatives, *held):
            if instrument.symbol in quotes or is_expired(instrument, now):
                # An expired future or option is settled and gone: nothing quotes or trades it any more.
                continue
            if instrument.kind is InstrumentKind.OPTION:
                quotes[instrument.symbol] = self.option_quote(bar, instrument)
                continue
            rate, hours = 0.0, DEFAULT_FUNDING_INTERVAL_HOURS
            if instrument.kind is InstrumentKind.PERP:
                rate, hours = self.history.funding_quote(instrument.base, int(self.replay.times[bar]))
            quotes[instrument.symbol] = DerivativeQuote(
                mark=self.mark(bar, instrument), funding_rate=rate, funding_interval_hours=hours
            )
        return MarketSnapshot(timestamp=self.replay.moment(bar), prices=prices, derivatives=quotes)
