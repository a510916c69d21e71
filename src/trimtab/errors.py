"""One error hierarchy for the whole project.

Three families, because each calls for a different reaction:

* :class:`BadInputError`: the user's input is wrong (a file, a flag, a price); fix it and run again.
  The command line exits with status 2.
* :class:`RetryableError`: a passing fault (network, rate limit, maintenance); the same call may work later.
* :class:`NeedsHumanError`: a definitive refusal that retrying cannot fix (insufficient funds, a position
  mode that differs from the configuration, a halted account).
"""

from __future__ import annotations


class TrimtabError(Exception):
    """Root of every error trimtab raises on purpose."""


class BadInputError(TrimtabError):
    """Input that cannot be used: names the source (a file or flag), the field and what is wrong.

    Parameters
    ----------
    source:
        The file name (as the user gave it, e.g. ``policy.toml``) or the flag (``--at``).
    field:
        The path of the offending field, e.g. ``class[2].target``; empty when the whole source is wrong.
    message:
        What is wrong, e.g. ``must be between 0 and 1``.
    """

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {message}")


class RetryableError(TrimtabError):
    """A passing fault: network trouble, a rate limit, maintenance. Reads may be retried with backoff."""


class NeedsHumanError(TrimtabError):
    """A definitive refusal that no retry fixes; a person has to look."""


class AmbiguousOrderError(RetryableError):
    """A create may or may not have reached the venue (timeout, 5xx or disconnect after sending).

    Resolve it by looking the order up by its client order id; never resend blindly.
    """

    def __init__(self, message: str, client_order_id: str | None = None) -> None:
        self.client_order_id = client_order_id
        super().__init__(message)


class AmbiguousTransferError(RetryableError):
    """A transfer between wallets may or may not have happened (timeout, 5xx or disconnect after sending).

    Resolve it by looking it up in the exchange's transfer history; never resend blindly.
    """

    def __init__(self, message: str, transfer_id: str | None = None) -> None:
        self.transfer_id = transfer_id
        super().__init__(message)


class RateLimitedError(RetryableError):
    """The venue asked us to slow down; ``retry_after`` is the wait in seconds it asked for (if any)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class IpBannedError(RateLimitedError):
    """The exchange has banned this IP address for a while (Binance's HTTP 418, Bybit's HTTP 403).

    Nothing may be sent before ``retry_after`` seconds: a request during a ban prolongs it (Binance's bans
    grow from 2 minutes to 3 days; Bybit's become permanent). The request that got the answer was not
    processed.
    """


class VenueUnavailableError(RetryableError):
    """The venue cannot be reached or is in maintenance."""


class OrderRejectedError(NeedsHumanError):
    """The venue (or the pre-send check) refused an order for good: insufficient funds, minimum, invalid."""


class TransferRejectedError(NeedsHumanError):
    """The exchange refused a transfer (insufficient balance, wallet not allowed, permission missing)."""


class PositionModeError(NeedsHumanError):
    """The account's position mode (one-way or hedge) differs from the configured one."""


class AuthenticationError(NeedsHumanError):
    """The venue refused the API key: wrong, expired, or without the needed permission."""
