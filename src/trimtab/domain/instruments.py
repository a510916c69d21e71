"""Instruments parsed from ccxt unified symbols.

==============================  ============================================
``BTC/USDT``                    spot
``BTC/USDT:USDT``               linear perpetual (settled in the quote)
``BTC/USD:BTC``                 inverse perpetual (settled in the base)
``BTC/USDT:USDT-261225``        dated future, expiring 2026-12-25
``BTC/USDT:USDT-261225-70000-C`` option: expiry, strike, C (call) or P (put)
==============================  ============================================

Dated futures and options expire at 08:00 UTC on their expiry date (the convention of Binance, OKX,
Deribit and Bybit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

EXPIRY_TIME_UTC = time(8, 0, tzinfo=UTC)

_ASSET = r"[A-Za-z0-9][A-Za-z0-9._-]*?"
_SYMBOL = re.compile(
    rf"^(?P<base>{_ASSET})/(?P<quote>{_ASSET})"
    r"(?::(?P<settle>[A-Za-z0-9]+)"
    r"(?:-(?P<expiry>\d{6})(?:-(?P<strike>\d+(?:\.\d+)?)-(?P<right>[CP]))?)?)?$"
)


class InstrumentKind(StrEnum):
    """What an instrument is; the values are the ``instrument`` field of a plan's trades."""

    SPOT = "spot"
    PERP = "perp"
    FUTURE = "future"
    OPTION = "option"


class OptionType(StrEnum):
    """Call or put, as the last letter of an option symbol."""

    CALL = "C"
    PUT = "P"


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument, parsed from its ccxt symbol.

    ``contract_size`` is 1 unless a venue's market rules say otherwise: a linear derivative's amount is
    counted in units of the base asset; an inverse one's in contracts of ``contract_size`` quote units.
    """

    symbol: str
    kind: InstrumentKind
    base: str
    quote: str
    settle: str | None = None
    expiry: date | None = None
    strike: float | None = None
    option_type: OptionType | None = None

    @property
    def is_derivative(self) -> bool:
        return self.kind is not InstrumentKind.SPOT

    @property
    def is_inverse(self) -> bool:
        """Settled in the base asset (``BTC/USD:BTC``): PnL is paid in coins."""
        return self.settle is not None and self.settle == self.base and self.settle != self.quote

    @property
    def is_linear(self) -> bool:
        return not self.is_inverse

    @property
    def expires_at(self) -> datetime | None:
        """The moment of expiry (08:00 UTC on the expiry date), or None for spot and perpetuals."""
        if self.expiry is None:
            return None
        return datetime.combine(self.expiry, EXPIRY_TIME_UTC)

    def years_to_expiry(self, now: datetime) -> float:
        """Time to expiry in years of 365 days (0 once expired); 0 for instruments that never expire."""
        expires = self.expires_at
        if expires is None:
            return 0.0
        seconds = (expires - now).total_seconds()
        return max(seconds, 0.0) / (365.0 * 86400.0)


def parse_symbol(symbol: str) -> Instrument:
    """Parse a ccxt unified symbol.

    Returns
    -------
    Instrument
        The instrument the symbol names.

    Raises
    ------
    ValueError
        If the symbol is not of a form listed in this module's docstring; the message says why.
    """
    match = _SYMBOL.match(symbol.strip()) if isinstance(symbol, str) else None
    if match is None:
        raise ValueError(
            f"{symbol!r} is not a ccxt unified symbol (BTC/USDT, BTC/USDT:USDT, BTC/USD:BTC, "
            "BTC/USDT:USDT-261225 or BTC/USDT:USDT-261225-70000-C)"
        )
    base, quote, settle = match["base"].upper(), match["quote"].upper(), match["settle"]
    if settle is None:
        return Instrument(symbol=symbol, kind=InstrumentKind.SPOT, base=base, quote=quote)
    settle = settle.upper()
    if settle not in (base, quote):
        raise ValueError(f"{symbol!r}: the settlement currency must be the base or the quote")
    if match["expiry"] is None:
        return Instrument(symbol=symbol, kind=InstrumentKind.PERP, base=base, quote=quote, settle=settle)
    expiry = _parse_expiry(symbol, match["expiry"])
    if match["strike"] is None:
        return Instrument(
            symbol=symbol, kind=InstrumentKind.FUTURE, base=base, quote=quote, settle=settle, expiry=expiry
        )
    strike = float(match["strike"])
    if strike <= 0:
        raise ValueError(f"{symbol!r}: the strike must be positive")
    return Instrument(
        symbol=symbol,
        kind=InstrumentKind.OPTION,
        base=base,
        quote=quote,
        settle=settle,
        expiry=expiry,
        strike=strike,
        option_type=OptionType(match["right"]),
    )


def _parse_expiry(symbol: str, text: str) -> date:
    try:
        return date(2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise ValueError(f"{symbol!r}: {text!r} is not an expiry date (YYMMDD)") from None


def spot_symbol(asset: str, quote: str) -> str:
    """The spot symbol that trades ``asset`` against ``quote``."""
    return f"{asset}/{quote}"
