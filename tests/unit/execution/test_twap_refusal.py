"""A TWAP slice refused by a guard ends the leg at once: no wait for the next slice's turn."""

from __future__ import annotations

from trimtab.domain.plan import Side
from trimtab.execution.algos import run_twap
from trimtab.storage.journal import OrderRecord
from trimtab.venues.ports import OrderType, Ticker


class RefusingLeg:
    """A leg whose gate refuses every order (a cap reached), recording how long it was made to wait."""

    side = Side.BUY
    chase_count = 0
    chase_interval_s = 1.0
    final_wait_s = 1.0
    limit_at = "touch"
    market_fallback = False

    def __init__(self) -> None:
        self.slept = 0.0
        self.sends = 0
        self.refused = False

    def send(self, order_type: OrderType, amount: float, price: float | None) -> OrderRecord | None:
        self.sends += 1
        self.refused = True
        return None

    def touch(self) -> Ticker:
        raise AssertionError("a market slice needs no touch")

    def wait(self, client_order_id: str, seconds: float) -> OrderRecord:
        raise AssertionError("nothing was sent")

    def cancel(self, client_order_id: str) -> OrderRecord:
        raise AssertionError("nothing was sent")

    def filled(self, client_order_ids: list[str]) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        self.slept += seconds

    @property
    def stopped(self) -> bool:
        return self.refused


def test_a_refused_slice_ends_the_twap_without_waiting() -> None:
    leg = RefusingLeg()
    assert run_twap(leg, 10.0, slices=6, window_s=600.0, market=True) == []
    assert leg.sends == 1 and leg.slept == 0.0  # before: 100 s waited for a slice that would never be sent
