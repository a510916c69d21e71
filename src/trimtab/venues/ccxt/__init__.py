"""The ccxt venue: real exchanges (Binance spot ``binance``, USD-M perpetuals ``binanceusdm``, others)."""

from trimtab.venues.ccxt.credentials import Credentials, load_credentials
from trimtab.venues.ccxt.factory import AccountConnection, build_ccxt_book, build_ccxt_venue, ccxt_class_for
from trimtab.venues.ccxt.retry import RateLimiter, RetryPolicy
from trimtab.venues.ccxt.venue import CcxtVenue

__all__ = [
    "AccountConnection",
    "CcxtVenue",
    "Credentials",
    "RateLimiter",
    "RetryPolicy",
    "build_ccxt_book",
    "build_ccxt_venue",
    "ccxt_class_for",
    "load_credentials",
]
