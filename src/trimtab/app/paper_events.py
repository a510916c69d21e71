"""What the paper venue reports on its own (an expiry settled, a position liquidated), journaled as decisions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime

from trimtab.storage.journal import Journal
from trimtab.venues.simulation import Settlement
from trimtab.venues.simulation.margin import Liquidation


def settlement_recorder(journal: Journal) -> Callable[[Settlement, datetime], None]:
    """Journal each expiry settlement of the paper account as a ``settlement`` decision of the cycle running.

    A replay notices an expiry at the top of the cycle of the first bar that closes after it, before the
    cycle records anything, hence the cycle after the last one recorded.
    """

    def record(settlement: Settlement, now: datetime) -> None:
        outcome = "expired worthless" if settlement.cash == 0.0 else ("received" if settlement.cash > 0 else "paid")
        if settlement.cash != 0.0:
            outcome += f" {abs(settlement.cash):.2f}"
        journal.add_decision(
            timestamp=now,
            cycle=journal.last_cycle() + 1,
            kind="settlement",
            reason=(
                f"{settlement.symbol} settled at expiry ({settlement.expired_at:%Y-%m-%d %H:%M} UTC): "
                f"{settlement.amount:g} at the underlying's {settlement.underlying_price:g}, {outcome}"
            ),
            payload=settlement.to_dict(),
        )

    return record


def liquidation_recorder(journal: Journal) -> Callable[[Liquidation, datetime], None]:
    """Journal each forced close of a paper position as a ``liquidation`` decision of the cycle running."""

    def record(liquidation: Liquidation, now: datetime) -> None:
        journal.add_decision(
            timestamp=now,
            cycle=journal.last_cycle() + 1,
            kind="liquidation",
            reason=(
                f"{liquidation.symbol} liquidated: {liquidation.amount:g} entered at {liquidation.entry_price:g} "
                f"closed at {liquidation.price:g}, realised {liquidation.realised_pnl:.2f} and {liquidation.fee:.2f} "
                "of fee"
            ),
            payload=asdict(liquidation),
        )

    return record
