"""Market data for backtests and replays: the data folder's layout, loading, caching and downloading."""

from trimtab.feed.history import FundingSeries, MarketHistory, load_history

__all__ = ["FundingSeries", "MarketHistory", "load_history"]
