"""Expiry: dated futures and options settle in cash at 08:00 UTC on their date, at the underlying's price.

At expiry ``T`` with the underlying at ``S`` (its last price at or before ``T``):

* a linear dated future of signed ``amount`` entered at ``entry`` realises ``amount x (S - entry)``;
* an option pays ``amount x max(S - K, 0)`` (call) or ``amount x max(K - S, 0)`` (put): a long receives its
  intrinsic value, a short pays it (the premium changed hands when the position was opened).

The position is then gone: an expired instrument is neither held nor quoted nor tradable. No delivery fee
is charged (Binance charges none on USD-M quarterlies; option exercise fees are left to the live venue's
own reconciliation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from trimtab.domain.instruments import Instrument, InstrumentKind, OptionType


@dataclass(frozen=True, slots=True)
class Settlement:
    """One position settled at expiry: ``cash`` is what the account received (negative: paid)."""

    symbol: str
    amount: float
    entry_price: float
    expired_at: datetime
    underlying_price: float
    cash: float

    def to_dict(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "amount": self.amount,
            "entry_price": self.entry_price,
            "expired_at": self.expired_at.isoformat().replace("+00:00", "Z"),
            "underlying_price": self.underlying_price,
            "cash": self.cash,
        }


def is_expired(instrument: Instrument, now: datetime) -> bool:
    """Whether a dated future or option has reached its expiry (08:00 UTC on its date) at ``now``."""
    expires = instrument.expires_at
    return expires is not None and expires <= now


def settlement_cash(instrument: Instrument, amount: float, entry_price: float, underlying: float) -> float:
    """What a position of signed ``amount`` receives when it settles with the underlying at ``underlying``."""
    if instrument.kind is InstrumentKind.OPTION:
        assert instrument.strike is not None
        if instrument.option_type is OptionType.CALL:
            return amount * max(underlying - instrument.strike, 0.0)
        return amount * max(instrument.strike - underlying, 0.0)
    if instrument.kind is InstrumentKind.FUTURE:
        return amount * (underlying - entry_price)
    raise ValueError(f"{instrument.symbol} does not expire")


PriceAtExpiry = Callable[[Instrument, datetime], float | None]
"""The underlying's price at an instrument's expiry (its last price at or before it), or None if unknown."""
