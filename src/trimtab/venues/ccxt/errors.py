"""Translation of ccxt's exceptions into trimtab's error hierarchy, at the adapter boundary.

=====================================================  ==================================================
ccxt                                                    trimtab
=====================================================  ==================================================
``AuthenticationError``, ``PermissionDenied``           :class:`~trimtab.errors.AuthenticationError`
``RateLimitExceeded``, ``DDoSProtection``               :class:`~trimtab.errors.RateLimitedError`
``OnMaintenance``                                       :class:`~trimtab.errors.VenueUnavailableError`
``NetworkError``, ``BadResponse`` during a create        :class:`~trimtab.errors.AmbiguousOrderError`
``NetworkError`` (``RequestTimeout``,                   :class:`~trimtab.errors.VenueUnavailableError`
``ExchangeNotAvailable``) elsewhere
``InsufficientFunds``, ``InvalidOrder``, ``BadRequest``,  :class:`~trimtab.errors.OrderRejectedError`
other ``ExchangeError`` during a create
``OrderNotFound``                                       handled by the caller (``None`` on fetch)
=====================================================  ==================================================

An answer the exchange's rules read as an IP ban (Binance's 418, Bybit's 403) is translated before this table,
by :meth:`trimtab.venues.ccxt.calls.ExchangeCalls.translate`, into :class:`~trimtab.errors.IpBannedError`.

A create that failed with a network error or an unparseable answer may have reached the exchange; the
caller resolves it by looking the order up by its client id. Messages are redacted of credentials and the
original ccxt exception is not chained (its text and attributes are the venue's, not ours to leak).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ccxt

from trimtab.errors import (
    AmbiguousOrderError,
    AuthenticationError,
    NeedsHumanError,
    OrderRejectedError,
    RateLimitedError,
    RetryableError,
    TrimtabError,
    VenueUnavailableError,
)


def retry_after_seconds(headers: Mapping[str, Any] | None) -> float | None:
    """The ``Retry-After`` header in seconds (numeric form), or None."""
    if not headers:
        return None
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                return None
    return None


def translate(
    error: Exception,
    *,
    venue: str,
    operation: str,
    creating: bool = False,
    client_order_id: str | None = None,
    retry_after: float | None = None,
    redact: Callable[[str], str] = lambda text: text,
) -> TrimtabError:
    """The trimtab error for a ccxt exception raised by ``operation``.

    Parameters
    ----------
    error:
        What ccxt raised.
    creating:
        Whether the call was an order create: then a network failure means "maybe placed".
    retry_after:
        The venue's ``Retry-After``, in seconds, when it sent one.
    redact:
        Removes credentials from the message.
    """
    text = redact(f"{venue} {operation}: {type(error).__name__}: {error}")
    if isinstance(error, ccxt.AuthenticationError):
        return AuthenticationError(text)
    if isinstance(error, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimitedError(text, retry_after=retry_after)
    if isinstance(error, ccxt.OnMaintenance):
        return VenueUnavailableError(text)
    if isinstance(error, ccxt.InvalidNonce):
        # the request was refused for its timestamp (clock skew): nothing happened, and it may work later
        return VenueUnavailableError(text)
    if isinstance(error, ccxt.NetworkError | ccxt.BadResponse | ccxt.OperationFailed):
        if creating:
            return AmbiguousOrderError(text, client_order_id=client_order_id)
        return VenueUnavailableError(text)
    if isinstance(error, ccxt.ExchangeError):
        if creating or isinstance(error, ccxt.InsufficientFunds | ccxt.InvalidOrder):
            return OrderRejectedError(text)
        return NeedsHumanError(text)
    if isinstance(error, TrimtabError):
        return error
    if creating:
        # an unexpected failure after the request may have left: treat it as maybe placed
        return AmbiguousOrderError(text, client_order_id=client_order_id)
    return RetryableError(text) if isinstance(error, OSError) else NeedsHumanError(text)
