"""The data folder's file layout: names, kinds, columns and timeframes.

One series per file, named ``<kind>_<BASE>-<QUOTE>[_<detail>]_<timeframe>.csv.gz`` (plain ``.csv`` is
read too). Kinds and their columns:

========  =====================================  ======================================
kind      file name                              columns after ``timestamp``
========  =====================================  ======================================
spot      ``spot_BTC-USDT_1d.csv.gz``            open, high, low, close, volume (base)
perp      ``perp_BTC-USDT_1h.csv.gz``            open, high, low, close, volume (base)
funding   ``perp_BTC-USDT_funding_8h.csv.gz``    funding_rate (per settlement)
mark      ``perp_BTC-USDT_mark_8h.csv.gz``       open, high, low, close
iv        ``iv_BTC-DVOL_1d.csv.gz``              dvol (annualised, in percent)
agg       ``agg_BTC-USD_coingecko_1d.csv.gz``    close, market_cap, volume
ref       ``ref_USDT-USD_1d.csv.gz``             close
========  =====================================  ======================================

Timestamps are UTC; for candles they are the bar's open time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from trimtab.errors import BadInputError

CANDLE_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class ColumnRule:
    """What a column must hold: ``positive`` (> 0), ``non_negative`` (>= 0) or ``finite``."""

    name: str
    rule: str


def _columns(*pairs: tuple[str, str]) -> tuple[ColumnRule, ...]:
    return tuple(ColumnRule(name, rule) for name, rule in pairs)


_CANDLES = _columns(
    ("open", "positive"), ("high", "positive"), ("low", "positive"), ("close", "positive"), ("volume", "non_negative")
)
SCHEMAS: dict[str, tuple[ColumnRule, ...]] = {
    "spot": _CANDLES,
    "perp": _CANDLES,
    "funding": _columns(("funding_rate", "finite")),
    "mark": _columns(("open", "positive"), ("high", "positive"), ("low", "positive"), ("close", "positive")),
    "iv": _columns(("dvol", "positive")),
    "agg": _columns(("close", "positive"), ("market_cap", "non_negative"), ("volume", "non_negative")),
    "ref": _columns(("close", "positive")),
}
"""Columns (after ``timestamp``) of each kind of file, in file order."""

_NAME = re.compile(
    r"^(?P<prefix>spot|perp|iv|agg|ref)_(?P<base>[A-Za-z0-9]+)-(?P<quote>[A-Za-z0-9]+)"
    r"(?:_(?P<detail>[a-z][a-z0-9]*))?_(?P<timeframe>\d+[smhdwM])\.csv(?:\.gz)?$"
)
_TIMEFRAME = re.compile(r"^(?P<count>\d+)(?P<unit>[smhdwM])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400}


@dataclass(frozen=True, slots=True)
class DataFile:
    """One file of the data folder, described by its name."""

    path: Path
    kind: str
    base: str
    quote: str
    timeframe: str
    detail: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def series(self) -> str:
        """A short label: ``BTC 1h``, ``BTC funding 8h``."""
        middle = f" {self.kind}" if self.kind in {"perp", "funding", "mark", "iv", "agg", "ref"} else ""
        return f"{self.base}{middle} {self.timeframe}"


def timeframe_seconds(timeframe: str) -> int:
    """The length of a ccxt timeframe (``1m``, ``4h``, ``1d``, ``1w``; ``1M`` counts as 30 days).

    Raises
    ------
    ValueError
        If the text is not such a timeframe.
    """
    match = _TIMEFRAME.match(timeframe)
    if match is None or int(match["count"]) <= 0:
        raise ValueError(f"{timeframe!r} is not a timeframe such as '1h', '4h' or '1d'")
    return int(match["count"]) * _UNIT_SECONDS[match["unit"]]


def is_calendar_timeframe(timeframe: str) -> bool:
    """Months have no fixed length, so gap detection skips them."""
    return timeframe.endswith("M")


def parse_name(path: Path) -> DataFile | None:
    """Describe a file by its name, or ``None`` when the name does not follow the layout."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    prefix, detail = match["prefix"], match["detail"] or ""
    if prefix == "perp" and detail in {"funding", "mark"}:
        kind = detail
    elif prefix == "perp" and not detail:
        kind = "perp"
    elif prefix in {"spot", "iv", "ref"} and not detail:
        kind = prefix
    elif prefix == "agg":
        kind = "agg"
    else:
        return None
    return DataFile(path, kind, match["base"].upper(), match["quote"].upper(), match["timeframe"], detail)


def file_name(kind: str, base: str, quote: str, timeframe: str) -> str:
    """The canonical (gzip) file name of a series."""
    if kind in {"funding", "mark"}:
        return f"perp_{base}-{quote}_{kind}_{timeframe}.csv.gz"
    if kind == "agg":
        return f"agg_{base}-{quote}_coingecko_{timeframe}.csv.gz"
    return f"{kind}_{base}-{quote}_{timeframe}.csv.gz"


def find_file(data_dir: Path, kind: str, base: str, quote: str, timeframe: str) -> Path | None:
    """The file holding a series (``.csv.gz`` preferred over ``.csv``), or ``None``."""
    gz = data_dir / file_name(kind, base, quote, timeframe)
    if gz.is_file():
        return gz
    plain = gz.with_suffix("")
    return plain if plain.is_file() else None


def scan(data_dir: Path) -> list[DataFile]:
    """Every file of the folder that follows the layout, sorted by name.

    Raises
    ------
    BadInputError
        If the folder does not exist.
    """
    if not data_dir.is_dir():
        raise BadInputError("--data", "", f"{data_dir} is not a folder")
    found = (parse_name(path) for path in sorted(data_dir.iterdir()) if path.is_file())
    return [item for item in found if item is not None]
