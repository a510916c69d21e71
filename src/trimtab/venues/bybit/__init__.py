"""Bybit's unified trading account (UTA): spot and linear perpetuals on one wallet, one collateral pool."""

from trimtab.venues.bybit.rules import BYBIT

__all__ = ["BYBIT"]
