"""The paper venue: a simulated exchange on live-like or replayed prices, kept in the run's journal."""

from trimtab.venues.paper.feed import FixedFeed, PriceFeed, ReplayFeed
from trimtab.venues.paper.persistence import MemoryStore
from trimtab.venues.paper.venue import PAPER_ACCOUNT_KEY, PaperVenue

__all__ = ["PAPER_ACCOUNT_KEY", "FixedFeed", "MemoryStore", "PaperVenue", "PriceFeed", "ReplayFeed"]
