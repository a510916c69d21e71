"""Shared helpers: a paper venue on a fixed snapshot, a fake clock, and a venue wrapper that injects faults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trimtab.domain import DerivativeQuote, InstrumentKind, MarketRules, MarketSnapshot, Portfolio, SpotHolding
from trimtab.domain.plan import Side, Trade
from trimtab.errors import AmbiguousOrderError
from trimtab.execution import ExecutionConfig, Executor
from trimtab.policy.config import CostsConfig
from trimtab.storage import open_store
from trimtab.storage.journal import Journal
from trimtab.venues.paper import FixedFeed, PaperVenue
from trimtab.venues.ports import Fill, OrderRequest, OrderState
from trimtab.venues.simulation import RealityModels

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PERP = "BTC/USDT:USDT"


class FakeClock:
    """Time that moves only when the code sleeps."""

    def __init__(self) -> None:
        self.now = T0
        self.slept = 0.0

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += timedelta(seconds=max(seconds, 0.001))


def market(btc: float = 50_000.0) -> MarketSnapshot:
    return MarketSnapshot(
        timestamp=T0,
        prices={"BTC": btc, "ETH": 2_500.0, "USDT": 1.0},
        derivatives={PERP: DerivativeQuote(mark=btc, funding_rate=0.0001)},
        markets={"BTC/USDT": MarketRules(amount_step=0.00001, min_notional=5.0)},
    )


def paper(
    clock: FakeClock, *, touch_depth: float = 1e9, feed: FixedFeed | None = None, **holdings: float
) -> PaperVenue:
    spot = holdings or {"USDT": 100_000.0, "BTC": 1.0}
    models = RealityModels.from_costs(CostsConfig(taker_fee=0.001, maker_fee=0.0002, slippage_bps=5.0))
    return PaperVenue(
        feed or FixedFeed(market()),
        base_currency="USDT",
        models=models,
        initial=Portfolio("USDT", tuple(SpotHolding(a, v) for a, v in spot.items())),
        clock=clock,
        touch_depth=touch_depth,
    )


class FaultyVenue:
    """Wraps a venue; scripted faults: ambiguous creates, invisible orders, duplicated fills."""

    def __init__(self, inner: PaperVenue) -> None:
        self.inner = inner
        self.name = inner.name
        self.creates: list[str] = []
        self.ambiguous_after_placing = 0
        self.ambiguous_without_placing = 0
        self.invisible_lookups = 0
        self.duplicate_fills = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_order(self, request: OrderRequest) -> OrderState:
        self.creates.append(request.client_order_id)
        if self.ambiguous_without_placing > 0:
            self.ambiguous_without_placing -= 1
            raise AmbiguousOrderError("timed out", request.client_order_id)
        state = self.inner.create_order(request)
        if self.ambiguous_after_placing > 0:
            self.ambiguous_after_placing -= 1
            raise AmbiguousOrderError("timed out after the venue accepted", request.client_order_id)
        return state

    def fetch_order(self, client_order_id: str, symbol: str) -> OrderState | None:
        if self.invisible_lookups > 0:
            self.invisible_lookups -= 1
            return None
        return self.inner.fetch_order(client_order_id, symbol)

    def fetch_open_orders(self, symbol: str | None = None) -> list[OrderState]:
        if self.invisible_lookups > 0:
            return []
        return self.inner.fetch_open_orders(symbol)

    def fetch_fills(self, symbol: str, since: datetime | None = None) -> list[Fill]:
        if self.invisible_lookups > 0:
            return []
        fills = self.inner.fetch_fills(symbol, since)
        return fills + fills if self.duplicate_fills else fills


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    journal = Journal(open_store(f"sqlite:///{tmp_path / 'exec.db'}"))
    journal.save_plan(
        "plan1",
        created_at=T0,
        cycle=1,
        venue="paper",
        equity=150_000.0,
        triggered=True,
        reason="",
        status="executing",
        payload={},
    )
    return journal


def fast_config(**changes: Any) -> ExecutionConfig:
    base: dict[str, Any] = {
        "chase_interval_s": 2.0,
        "poll_interval_s": 1.0,
        "final_wait_s": 5.0,
        "resolve_backoff_s": 0.5,
        "lost_after_s": 3.0,
        "lost_after_misses": 3,
        "resolve_attempts": 6,
    }
    base.update(changes)
    return ExecutionConfig(**base)


def executor(
    venue: Any,
    journal: Journal,
    clock: FakeClock,
    config: ExecutionConfig,
    halted: Callable[[], tuple[bool, str]] = lambda: (False, ""),
) -> Executor:
    return Executor(venue, journal, config, venue.load_markets(), clock=clock, sleep=clock.sleep, halted=halted)


def trade(
    symbol: str,
    side: Side,
    amount: float,
    price: float,
    kind: InstrumentKind = InstrumentKind.SPOT,
    reduce_only: bool = False,
) -> Trade:
    return Trade("C", symbol, kind, side, amount, amount * price, price, "default", reduce_only)


@pytest.fixture
def kit() -> Any:
    """The helpers above, for test modules (importlib mode cannot import conftest by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        PERP=PERP,
        T0=T0,
        FaultyVenue=FaultyVenue,
        executor=executor,
        fast_config=fast_config,
        paper=paper,
        trade=trade,
        market=market,
    )
