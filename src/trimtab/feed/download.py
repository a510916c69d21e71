"""Downloading history through ccxt into the data folder's layout (``trimtab data download``).

Candles come from ``fetch_ohlcv`` (spot ``BTC/USDT`` -> ``spot_BTC-USDT_<tf>``, perpetual ``BTC/USDT:USDT``
-> ``perp_BTC-USDT_<tf>``) and, for perpetuals, funding from ``fetch_funding_rate_history``
(-> ``perp_BTC-USDT_funding_8h``). Each series resumes from the last row already on disk, pages forward
until the exchange has nothing newer, drops the candle that is still open, and is written atomically
(every few pages, so an interrupted download keeps what it fetched). Reads that fail for a passing
reason are retried with a bounded backoff; a definitive refusal (an unknown symbol) is bad input.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from trimtab.errors import BadInputError, RetryableError
from trimtab.feed.catalog import merge_into
from trimtab.feed.csvio import read_table
from trimtab.feed.gaps import describe_gaps, find_gaps
from trimtab.feed.layout import CANDLE_COLUMNS, SCHEMAS, file_name, timeframe_seconds
from trimtab.feed.table import Table, validate_table

FUNDING_TIMEFRAME = "8h"
_MS = 1_000_000  # ns per ms
_FLUSH_PAGES = 20
_MAX_PAGES = 100_000


@dataclass
class SeriesOutcome:
    """What one series' download did."""

    symbol: str
    file: str
    fetched: int
    rows: int
    first: int | None = None
    last: int | None = None
    pages: int = 0
    gaps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "file": self.file,
            "fetched": self.fetched,
            "rows": self.rows,
            "pages": self.pages,
            "gaps": list(self.gaps),
        }


def make_exchange(exchange_id: str, api_url: str | None = None) -> Any:
    """A ccxt client for public market data; ``api_url`` sends every request to another base URL.

    Raises
    ------
    BadInputError
        If ccxt knows no such exchange.
    """
    import ccxt  # heavy: imported only when downloading

    if exchange_id not in ccxt.exchanges:
        raise BadInputError("--exchange", "", f"ccxt knows no exchange {exchange_id!r}")
    exchange_class = getattr(ccxt, exchange_id)
    config: dict[str, Any] = {"enableRateLimit": True}
    if api_url is not None:
        config["urls"] = {"api": rebase_urls(exchange_class().urls["api"], api_url)}
        # a local mirror answers at once; keep the client from pacing requests for a remote host
        config["enableRateLimit"] = False
    return exchange_class(config)


def rebase_urls(urls: Any, base_url: str) -> Any:
    """Replace the scheme and host of every URL in ccxt's (nested) ``urls['api']`` by ``base_url``."""
    if isinstance(urls, dict):
        return {key: rebase_urls(value, base_url) for key, value in urls.items()}
    if isinstance(urls, str) and "://" in urls:
        parts = urlsplit(urls)
        return base_url.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    return urls


class Downloader:
    """Pages one exchange's history into a data folder.

    Parameters
    ----------
    exchange:
        A ccxt exchange instance (sync).
    data_dir:
        The folder to write into.
    limit:
        Rows asked for per request.
    sleep:
        How to wait between retries (injected so tests do not wait).
    now_ms:
        The current time in ms, to drop the candle that is still open; defaults to the exchange's clock.
    """

    def __init__(
        self,
        exchange: Any,
        data_dir: Path,
        *,
        limit: int = 1000,
        retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        now_ms: Callable[[], int] | None = None,
        on_page: Callable[[str, int], None] | None = None,
    ) -> None:
        self.exchange = exchange
        self.data_dir = data_dir
        self.limit = limit
        self.retries = retries
        self.sleep = sleep
        self.now_ms = now_ms or (lambda: int(exchange.milliseconds()))
        self.on_page = on_page

    def download(
        self, symbols: Sequence[str], timeframe: str, since_ms: int | None, until_ms: int | None = None
    ) -> list[SeriesOutcome]:
        """Download candles (and funding, for perpetuals) of every symbol.

        Raises
        ------
        BadInputError
            For an unknown symbol, a market that is neither spot nor a perpetual, or no ``since`` for a
            series that has no file yet.
        RetryableError
            When the exchange stays unreachable after the retries.
        """
        try:
            timeframe_seconds(timeframe)
        except ValueError as exc:
            raise BadInputError("--timeframe", "", str(exc)) from None
        self._call(self.exchange.load_markets)
        outcomes = []
        for symbol in symbols:
            market = self._market(symbol)
            base, quote = str(market["base"]), str(market["quote"])
            kind = "spot" if market.get("spot") else "perp"
            outcomes.append(self._candles(symbol, kind, base, quote, timeframe, since_ms, until_ms))
            if kind == "perp":
                outcomes.append(self._funding(symbol, base, quote, since_ms, until_ms))
        return outcomes

    def _market(self, symbol: str) -> dict[str, Any]:
        markets = self.exchange.markets or {}
        if symbol not in markets:
            raise BadInputError("--symbols", "", f"{self.exchange.id} has no market {symbol}")
        market: dict[str, Any] = markets[symbol]
        if not market.get("spot") and not market.get("swap"):
            raise BadInputError("--symbols", "", f"{symbol} is neither spot nor a perpetual")
        return market

    def _candles(
        self, symbol: str, kind: str, base: str, quote: str, timeframe: str, since: int | None, until: int | None
    ) -> SeriesOutcome:
        step_ms = timeframe_seconds(timeframe) * 1000
        target = self.data_dir / file_name(kind, base, quote, timeframe)
        cursor = self._start(target, kind, since, step_ms)
        now = self.now_ms()
        outcome = SeriesOutcome(symbol, target.name, 0, 0)
        pending: list[list[float]] = []
        while outcome.pages < _MAX_PAGES:
            batch = self._call(self.exchange.fetch_ohlcv, symbol, timeframe, since=cursor, limit=self.limit)
            outcome.pages += 1
            fresh = [row for row in batch if int(row[0]) >= cursor]
            # a candle is final once its close time has passed
            complete = [row for row in fresh if int(row[0]) + step_ms <= now and (until is None or row[0] <= until)]
            pending += [[float(v) for v in row[:6]] for row in complete]
            self._report(symbol, len(pending))
            if len(complete) < len(fresh) or not fresh:
                break
            cursor = int(fresh[-1][0]) + step_ms
            if outcome.pages % _FLUSH_PAGES == 0:
                self._flush(target, kind, pending, outcome)
                pending = []
        self._flush(target, kind, pending, outcome)
        outcome.gaps = self._gaps(target, kind, timeframe, outcome)
        return outcome

    def _funding(self, symbol: str, base: str, quote: str, since: int | None, until: int | None) -> SeriesOutcome:
        target = self.data_dir / file_name("funding", base, quote, FUNDING_TIMEFRAME)
        cursor = self._start(target, "funding", since, 1)
        outcome = SeriesOutcome(symbol, target.name, 0, 0)
        pending: list[list[float]] = []
        while outcome.pages < _MAX_PAGES:
            batch = self._call(self.exchange.fetch_funding_rate_history, symbol, since=cursor, limit=self.limit)
            outcome.pages += 1
            # Binance stamps settlements a few ms late (08:00:00.008): keep whole seconds, as the data set does
            fresh = [
                [float(int(entry["timestamp"]) // 1000 * 1000), float(entry["fundingRate"])]
                for entry in batch
                if int(entry["timestamp"]) >= cursor
            ]
            inside = [row for row in fresh if until is None or row[0] <= until]
            pending += inside
            self._report(symbol + " funding", len(pending))
            if len(inside) < len(fresh) or not fresh:
                break
            cursor = int(batch[-1]["timestamp"]) + 1
            if outcome.pages % _FLUSH_PAGES == 0:
                self._flush(target, "funding", pending, outcome)
                pending = []
        self._flush(target, "funding", pending, outcome)
        outcome.gaps = self._gaps(target, "funding", FUNDING_TIMEFRAME, outcome)
        return outcome

    def _start(self, target: Path, kind: str, since: int | None, step_ms: int) -> int:
        """Resume after the last row on disk, or start at ``since``."""
        if target.is_file():
            existing = read_table(target, kind)
            if len(existing):
                resume = int(existing.times[-1]) // _MS + step_ms
                return max(resume, since) if since is not None else resume
        if since is None:
            raise BadInputError("--since", "", f"needed: {target.name} does not exist yet")
        return since

    def _flush(self, target: Path, kind: str, rows: list[list[float]], outcome: SeriesOutcome) -> None:
        if not rows:
            if target.is_file():
                outcome.rows = len(read_table(target, kind))
            return
        table = _table(rows, kind, f"{self.exchange.id} {outcome.symbol}")
        merged = merge_into(target, kind, table)
        outcome.fetched += len(rows)
        outcome.rows = merged.rows

    def _gaps(self, target: Path, kind: str, timeframe: str, outcome: SeriesOutcome) -> list[str]:
        if not target.is_file():
            return []
        table = read_table(target, kind)
        seconds = timeframe_seconds(timeframe)
        label = f"{outcome.symbol} {timeframe}" if kind != "funding" else f"{outcome.symbol} funding {timeframe}"
        return describe_gaps(label, find_gaps(table.times, seconds), seconds)

    def _report(self, label: str, rows: int) -> None:
        if self.on_page is not None:
            self.on_page(label, rows)

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import ccxt

        delay = 1.0
        for attempt in range(self.retries + 1):
            try:
                return method(*args, **kwargs)
            except ccxt.BadSymbol as exc:
                raise BadInputError("--symbols", "", str(exc)) from None
            except ccxt.NetworkError as exc:
                if attempt == self.retries:
                    raise RetryableError(f"{self.exchange.id}: {exc}") from exc
                self.sleep(delay)
                delay = min(delay * 2, 30.0)
            except ccxt.ExchangeError as exc:
                raise BadInputError("--symbols", "", f"{self.exchange.id} refused: {exc}") from None
        raise AssertionError("unreachable")


def _table(rows: list[list[float]], kind: str, source: str) -> Table:
    values = np.array(rows, dtype=np.float64)
    times = values[:, 0].astype(np.int64) * _MS
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    keep = np.concatenate(([True], np.diff(times) > 0))  # an exchange may repeat a row across pages
    times, values = times[keep], values[keep]
    if kind == "funding":
        columns = {"funding_rate": values[:, 1]}
    else:
        columns = {name: values[:, i + 1] for i, name in enumerate(CANDLE_COLUMNS)}
    table = Table(np.ascontiguousarray(times), columns)
    validate_table(table, SCHEMAS[kind], source)
    return table
