"""The registry of venues that the venue contract suite runs against.

Every venue implementation registers a factory here: a context manager that yields a :class:`VenueHarness`
around a fresh venue whose account holds at least 10 000 USDT and 0.5 BTC, trades ``BTC/USDT`` near
60 000 and (optionally) the perpetual ``BTC/USDT:USDT`` with at least 10 000 USDT of collateral.

Factories live in the modules listed in :data:`PROVIDERS`; a provider that cannot be imported (not written
yet) is skipped, so adding a venue to the suite is one new module and one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from trimtab.testing.fake_exchange import FakeExchange
from trimtab.venues.ports import Venue


@dataclass
class VenueHarness:
    """A venue under test and the levers a test needs to move its market."""

    venue: Venue
    spot_symbol: str
    perp_symbol: str | None
    fill_resting: Callable[[str, str, float | None], None]
    """Fill a resting order (symbol, client order id, amount or None for all), as the market would."""
    set_price: Callable[[str, float], None]
    """Move a market's price (symbol, price)."""


VenueFactory = Callable[[Path], AbstractContextManager[VenueHarness]]

VENUE_FACTORIES: dict[str, VenueFactory] = {}

PROVIDERS = (
    "trimtab.testing.venue_contract",
    "trimtab.testing.paper_harness",
)
"""Modules that register venue factories when imported."""


def register_venue(name: str) -> Callable[[VenueFactory], VenueFactory]:
    """Register a factory under ``name`` (the contract suite's parameter id)."""

    def decorate(factory: VenueFactory) -> VenueFactory:
        VENUE_FACTORIES[name] = factory
        return factory

    return decorate


def venue_factories() -> dict[str, VenueFactory]:
    """Every registered factory, after importing the providers that exist."""
    for module in PROVIDERS:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
    return dict(VENUE_FACTORIES)


def _ccxt_harness(exchange_id: str, perp: bool) -> VenueFactory:
    @contextmanager
    def factory(tmp_path: Path) -> Iterator[VenueHarness]:
        from trimtab.testing.fixtures import CANARY_API_KEY, make_ccxt_venue

        with FakeExchange(api_key=CANARY_API_KEY) as fake:
            venue = make_ccxt_venue(fake, exchange_id)
            try:
                yield VenueHarness(
                    venue=venue,
                    spot_symbol="BTC/USDT",
                    perp_symbol="BTC/USDT:USDT" if perp else None,
                    fill_resting=fake.fill,
                    set_price=fake.set_price,
                )
            finally:
                venue.close()

    return factory


# ``binance`` lists spot and USD-M markets (it loads both), so one venue covers both halves of the contract.
register_venue("ccxt-binance")(_ccxt_harness("binance", perp=True))


@register_venue("ccxt-bybit")
@contextmanager
def _bybit_harness(tmp_path: Path) -> Iterator[VenueHarness]:
    """Bybit's unified account (spot and linear perpetuals on one wallet) through ccxt's ``bybit`` class."""
    from trimtab.testing.fake_bybit import FakeBybit
    from trimtab.testing.fixtures import CANARY_API_KEY, make_bybit_venue

    with FakeBybit(api_key=CANARY_API_KEY) as fake:
        venue = make_bybit_venue(fake)
        try:
            yield VenueHarness(
                venue=venue,
                spot_symbol="BTC/USDT",
                perp_symbol="BTC/USDT:USDT",
                fill_resting=fake.fill,
                set_price=fake.set_price,
            )
        finally:
            venue.close()


@register_venue("ccxt-book")
@contextmanager
def _book_harness(tmp_path: Path) -> Iterator[VenueHarness]:
    """The Binance spot wallet and the USD-M wallet, one connection each, as one book."""
    from trimtab.testing.fixtures import CANARY_API_KEY, make_ccxt_venue
    from trimtab.venues.book import AccountBook, BookAccount

    with FakeExchange(api_key=CANARY_API_KEY) as fake:
        book = AccountBook(
            "binance",
            [
                BookAccount("binance-spot", "binance", "spot", make_ccxt_venue(fake, "binance")),
                BookAccount("binance-usdm", "binance", "linear", make_ccxt_venue(fake, "binanceusdm")),
            ],
        )
        try:
            yield VenueHarness(
                venue=book,
                spot_symbol="BTC/USDT",
                perp_symbol="BTC/USDT:USDT",
                fill_resting=fake.fill,
                set_price=fake.set_price,
            )
        finally:
            book.close()
