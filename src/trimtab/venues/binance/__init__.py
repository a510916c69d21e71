"""Binance: the spot wallet, the USD-M wallet and the COIN-M wallet, each a ccxt class of its own."""

from trimtab.venues.binance.rules import BINANCE

__all__ = ["BINANCE"]
