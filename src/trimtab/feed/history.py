"""Loading the history a backtest replays: the bars every asset shares, with funding, marks and DVOL.

The rule for bars: a backtest sees only the timestamps at which *every* requested asset has a candle in
the chosen timeframe, within ``[start, end]``. Missing candles are reported in ``gaps`` and never filled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial, reduce
from pathlib import Path

import numpy as np

from trimtab.errors import BadInputError
from trimtab.feed.cache import cache_folder, load_table
from trimtab.feed.derivatives import DEFAULT_FUNDING_INTERVAL_HOURS, Derivatives, FundingSeries, load_derivatives
from trimtab.feed.gaps import describe_gaps, find_gaps
from trimtab.feed.layout import DataFile, file_name, is_calendar_timeframe, scan, timeframe_seconds
from trimtab.feed.table import NS_PER_SECOND, Table, format_ns, to_ns

__all__ = ["DEFAULT_FUNDING_INTERVAL_HOURS", "FundingSeries", "MarketHistory", "load_history"]


class MarketHistory:
    """Aligned history for a set of assets, priced in ``quote``.

    ``timestamps`` are the bars' open times (as in the files), so ``close[i]`` is the price at
    ``timestamps[i] + bar_seconds``. Price arrays are float64 ``(T, N)``, C-contiguous, with columns in
    the order of ``assets``; an asset equal to ``quote`` has a constant close of 1.0 and zero volume.
    ``funding``, ``marks`` and ``implied_vol`` are raw series on their own grids, kept from the last row
    at or before the first bar through the last bar's close; ``perp_close`` is aligned to ``timestamps``
    (NaN where the perpetual has no candle).

    ``high``, ``low`` and ``volume`` cost nothing until read: :func:`load_history` hands over a
    ``columns`` function that aligns one of them on first reading (a spot-only fast-path backtest reads
    only the closes). Built without them and without ``columns``, the highs and lows are the closes and
    the volume is zero. The derivatives series likewise: :func:`load_history` hands over a ``derivatives``
    loader (:func:`trimtab.feed.derivatives.load_derivatives`) that reads them, and the funding gaps, on
    the first reading of any of them (or of ``gaps``).
    """

    def __init__(
        self,
        *,
        timeframe: str,
        assets: tuple[str, ...],
        timestamps: np.ndarray,
        close: np.ndarray,
        high: np.ndarray | None = None,
        low: np.ndarray | None = None,
        volume: np.ndarray | None = None,
        funding: dict[str, FundingSeries] | None = None,
        marks: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
        perp_close: dict[str, np.ndarray] | None = None,
        implied_vol: tuple[np.ndarray, np.ndarray] | None = None,
        quote: str = "USDT",
        gaps: list[str] | None = None,
        coverage: dict[str, tuple[int, int]] | None = None,
        columns: Callable[[str], np.ndarray] | None = None,
        derivatives: Callable[[], Derivatives] | None = None,
    ) -> None:
        self.timeframe = timeframe
        self.assets = assets
        self.timestamps = timestamps
        self.close = close
        self._derivatives = Derivatives(
            funding if funding is not None else {},
            marks if marks is not None else {},
            perp_close if perp_close is not None else {},
            implied_vol,
        )
        self._load_derivatives = derivatives
        self.quote = quote
        self._spot_gaps = gaps if gaps is not None else []
        # each priced asset's first and last bar open time (int64 ns) in its whole file, before any
        # window: what says which asset's history limits the shared bars
        self.coverage = coverage if coverage is not None else {}
        self._columns = columns
        self._loaded: dict[str, np.ndarray] = {}
        for name, given in (("high", high), ("low", low), ("volume", volume)):
            if given is not None:
                self._loaded[name] = given

    def _column(self, name: str) -> np.ndarray:
        if name not in self._loaded:
            if self._columns is not None:
                self._loaded[name] = self._columns(name)
            elif name == "volume":
                self._loaded[name] = np.zeros(self.close.shape)
            else:
                self._loaded[name] = self.close
        return self._loaded[name]

    def _derived(self) -> Derivatives:
        if self._load_derivatives is not None:
            self._derivatives = self._load_derivatives()
            self._load_derivatives = None
        return self._derivatives

    @property
    def funding(self) -> dict[str, FundingSeries]:
        """Each perpetual's funding settlements, by asset (read on first use)."""
        return self._derived().funding

    @property
    def marks(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each perpetual's mark prices as (times, prices), by asset (read on first use)."""
        return self._derived().marks

    @property
    def perp_close(self) -> dict[str, np.ndarray]:
        """Each perpetual's closes at the bars' closes, by asset (read on first use)."""
        return self._derived().perp_close

    @property
    def implied_vol(self) -> tuple[np.ndarray, np.ndarray] | None:
        """DVOL as (times, annualised volatility), when the folder has it (read on first use)."""
        return self._derived().implied_vol

    @property
    def gaps(self) -> list[str]:
        """Missing bars inside the window, then missing funding settlements."""
        return self._spot_gaps + self._derived().gaps

    @property
    def high(self) -> np.ndarray:
        """Bar highs, (T, N); aligned on first reading."""
        return self._column("high")

    @property
    def low(self) -> np.ndarray:
        """Bar lows, (T, N); aligned on first reading."""
        return self._column("low")

    @property
    def volume(self) -> np.ndarray:
        """Bar volumes in the base asset, (T, N); aligned on first reading."""
        return self._column("volume")

    def __getstate__(self) -> dict[str, object]:
        """Every column aligned, so that a history can cross a process boundary (Ray, a process pool)."""
        for name in ("high", "low", "volume"):
            self._column(name)
        self._derived()
        state = dict(self.__dict__)
        state["_columns"] = None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    @property
    def bar_seconds(self) -> int:
        """The length of one bar in seconds."""
        return timeframe_seconds(self.timeframe)

    def index_of(self, asset: str) -> int:
        """The column of ``asset`` in the price arrays; raises ValueError if absent."""
        return self.assets.index(asset)

    def close_at(self, asset: str, moment: int) -> float | None:
        """The last close of ``asset`` at or before ``moment`` (ns): the price known then.

        None when no bar of the history has closed by then or the asset has no column.
        """
        if asset == self.quote:
            return 1.0
        if asset not in self.assets:
            return None
        closes = self.timestamps + self.bar_seconds * NS_PER_SECOND
        row = int(np.searchsorted(closes, moment, side="right")) - 1
        return float(self.close[row, self.index_of(asset)]) if row >= 0 else None

    def funding_between(self, asset: str, after: int, until: int) -> list[tuple[int, float, float | None]]:
        """The funding settlements of ``asset``'s perpetual in ``(after, until]`` (ns), at the data's own stamps.

        Returns ``(stamp, rate, mark)`` per settlement, where ``mark`` is the mark-price file's price at that
        stamp, or None when the history has no mark there (the caller uses its mark of the moment).
        """
        series = self.funding.get(asset)
        if series is None:
            return []
        lo, hi = series.settled_between(after, until)
        marks = self.marks.get(asset)
        out: list[tuple[int, float, float | None]] = []
        for k in range(lo, hi):
            stamp = int(series.times[k])
            mark: float | None = None
            if marks is not None:
                j = int(np.searchsorted(marks[0], stamp))
                if j < marks[0].shape[0] and int(marks[0][j]) == stamp:
                    mark = float(marks[1][j])
            out.append((stamp, float(series.rates[k]), mark))
        return out

    def funding_quote(self, asset: str, moment: int) -> tuple[float, float]:
        """The funding in force at ``moment`` (ns): (last settled rate, its interval in hours).

        Without a funding file: (0, 8).
        """
        series = self.funding.get(asset)
        if series is None or series.times.shape[0] == 0:
            return 0.0, DEFAULT_FUNDING_INTERVAL_HOURS
        index = series.last_at(moment)
        rate = float(series.rates[index]) if index >= 0 else 0.0
        return rate, series.interval_hours(moment)


def load_history(
    data_dir: Path,
    assets: Sequence[str],
    *,
    quote: str = "USDT",
    timeframe: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    use_cache: bool = True,
) -> MarketHistory:
    """Load the shared bars of ``assets`` from a data folder.

    Parameters
    ----------
    data_dir:
        A folder in the layout of :mod:`trimtab.feed.layout`.
    assets:
        Asset codes (``BTC``, ``USDC``); an asset equal to ``quote`` is priced at 1.0 without a file.
    quote:
        The quote currency of the spot files to read.
    timeframe:
        ``1d``, ``1h``...; ``None`` picks the finest timeframe that every asset has.
    start, end:
        Inclusive bounds on the bars' open times (UTC; naive datetimes are taken as UTC).
    use_cache:
        Read parsed files from the Parquet cache (see :mod:`trimtab.feed.cache`).

    Returns
    -------
    MarketHistory
        The aligned history; ``gaps`` lists missing bars inside the window.

    Raises
    ------
    BadInputError
        If the folder is missing, an asset has no file (naming the file looked for), a file is malformed
        (naming file and line), or the assets share no bar within the window.
    """
    data_dir = Path(data_dir)
    files = scan(data_dir)
    ordered = tuple(dict.fromkeys(assets))
    priced = [asset for asset in ordered if asset != quote]
    if not priced:
        raise BadInputError("assets", "", f"need at least one asset besides the quote currency {quote}")
    chosen = _choose_timeframe(files, priced, quote, timeframe)
    first_ns = to_ns(start) if start is not None else np.iinfo(np.int64).min
    last_ns = to_ns(end) if end is not None else np.iinfo(np.int64).max
    if first_ns > last_ns:
        raise BadInputError("--start", "", "must not be after --end")
    cache_dir = cache_folder(data_dir) if use_cache else None

    tables: dict[str, Table] = {}
    coverage: dict[str, tuple[int, int]] = {}
    gaps: list[str] = []
    for asset in priced:
        path = _path_of(files, "spot", asset, quote, chosen)
        assert path is not None  # _choose_timeframe guarantees it
        whole = load_table(path, "spot", cache_dir)
        if whole.times.shape[0]:
            coverage[asset] = (int(whole.times[0]), int(whole.times[-1]))
        table = whole.between(first_ns, last_ns)
        tables[asset] = table
        if not is_calendar_timeframe(chosen):
            seconds = timeframe_seconds(chosen)
            gaps += describe_gaps(f"{asset} {chosen}", find_gaps(table.times, seconds), seconds)

    shared = reduce(_sorted_intersection, [table.times for table in tables.values()])
    if shared.shape[0] == 0:
        window = _window_text(start, end)
        spans = "; ".join(
            f"{asset} {format_ns(first)[:10]} to {format_ns(last)[:10]}" for asset, (first, last) in coverage.items()
        )
        raise BadInputError(
            "--data", "", f"{', '.join(priced)} share no {chosen} bar{window} in {data_dir.name} ({spans})"
        )
    timestamps = np.ascontiguousarray(shared, dtype=np.int64)

    aligned_columns = _Aligner(ordered, quote, tables, timestamps)
    close = aligned_columns("close")

    return MarketHistory(
        timeframe=chosen,
        assets=ordered,
        timestamps=timestamps,
        close=close,
        columns=aligned_columns,
        derivatives=partial(load_derivatives, files, ordered, quote, chosen, timestamps, cache_dir),
        quote=quote,
        gaps=gaps,
        coverage=coverage,
    )


def _sorted_intersection(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The values in both strictly increasing arrays, in order (a binary search, no sort)."""
    # The usual case, files over the same bars: one array is a run of the other's, compared in one pass.
    if _run_in(second, first) is not None:
        return first
    if _run_in(first, second) is not None:
        return second
    at = np.searchsorted(second, first)
    found = at < second.shape[0]
    found[found] = second[at[found]] == first[found]
    shared: np.ndarray = first[found]
    return shared


class _Aligner:
    """Builds one aligned (T, N) column of the spot tables on demand (``close``, ``high``...)."""

    def __init__(self, assets: tuple[str, ...], quote: str, tables: dict[str, Table], timestamps: np.ndarray) -> None:
        self.assets = assets
        self.quote = quote
        self.tables = tables
        self.rows = {asset: _rows_of(table.times, timestamps) for asset, table in tables.items()}
        self.count = timestamps.shape[0]

    def __call__(self, name: str) -> np.ndarray:
        out = np.empty((self.count, len(self.assets)))
        for column, asset in enumerate(self.assets):
            if asset == self.quote:
                out[:, column] = 0.0 if name == "volume" else 1.0
                continue
            rows = self.rows[asset]
            values = self.tables[asset].column(name)
            out[:, column] = values[rows] if isinstance(rows, np.ndarray) else values[rows[0] : rows[1]]
        return out


def _run_in(times: np.ndarray, wanted: np.ndarray) -> tuple[int, int] | None:
    """The rows ``(first, last)`` of the strictly increasing ``times`` that hold exactly ``wanted``, if any."""
    if wanted.shape[0] == 0:
        return None
    first = int(np.searchsorted(times, wanted[0]))
    last = first + wanted.shape[0]
    return (first, last) if last <= times.shape[0] and np.array_equal(times[first:last], wanted) else None


def _rows_of(times: np.ndarray, wanted: np.ndarray) -> np.ndarray | tuple[int, int]:
    """Where ``wanted`` lies in ``times``: a range ``(first, last)`` when it is one run of rows, else indexes."""
    run = _run_in(times, wanted)
    if run is not None:
        return run
    rows = np.searchsorted(times, wanted)
    if rows.shape[0] and int(rows[-1]) - int(rows[0]) == rows.shape[0] - 1:
        return int(rows[0]), int(rows[-1]) + 1
    return rows


def _choose_timeframe(files: list[DataFile], assets: list[str], quote: str, timeframe: str | None) -> str:
    if timeframe is not None:
        try:
            timeframe_seconds(timeframe)
        except ValueError as exc:
            raise BadInputError("--timeframe", "", str(exc)) from None
        for asset in assets:
            if _path_of(files, "spot", asset, quote, timeframe) is None:
                raise _missing(asset, quote, timeframe)
        return timeframe
    available = {
        asset: {f.timeframe for f in files if f.kind == "spot" and f.base == asset and f.quote == quote}
        for asset in assets
    }
    for asset, timeframes in available.items():
        if not timeframes:
            others = [tf for tfs in available.values() for tf in tfs]
            guess = min(others, key=timeframe_seconds) if others else "1d"
            raise _missing(asset, quote, guess)
    common = set.intersection(*available.values())
    if not common:
        listed = "; ".join(
            f"{asset}: {', '.join(sorted(tfs, key=timeframe_seconds))}" for asset, tfs in available.items()
        )
        raise BadInputError("--data", "", f"no timeframe that every asset has ({listed})")
    return min(common, key=timeframe_seconds)


def _missing(asset: str, quote: str, timeframe: str) -> BadInputError:
    wanted = file_name("spot", asset, quote, timeframe)
    return BadInputError("--data", "", f"no price history for {asset}: looked for {wanted}")


def _path_of(files: list[DataFile], kind: str, asset: str, quote: str, timeframe: str) -> Path | None:
    matches = [f.path for f in files if (f.kind, f.base, f.quote, f.timeframe) == (kind, asset, quote, timeframe)]
    # .csv.gz sorts before .csv, and the gzip copy is the canonical one
    return sorted(matches, key=lambda path: (not path.name.endswith(".gz"), path.name))[0] if matches else None


def _window_text(start: datetime | None, end: datetime | None) -> str:
    if start is None and end is None:
        return ""
    low = format_ns(to_ns(start)) if start is not None else "the beginning"
    high = format_ns(to_ns(end)) if end is not None else "the end"
    return f" between {low} and {high}"
