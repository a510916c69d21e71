"""The ccxt venue: real exchanges (Binance spot ``binance``, USD-M perpetuals ``binanceusdm``, others)."""

from trimtab.venues.ccxt.credentials import Credentials, load_credentials
from trimtab.venues.ccxt.factory import build_ccxt_venue
from trimtab.venues.ccxt.retry import RateLimiter, RetryPolicy
from trimtab.venues.ccxt.venue import CcxtVenue

__all__ = ["CcxtVenue", "Credentials", "RateLimiter", "RetryPolicy", "build_ccxt_venue", "load_credentials"]
