"""The order lifecycle against the journal: journal first, send once, look up on doubt, apply each fill once.

* :meth:`OrderTracker.submit` commits the order row (status ``pending``, client id) before the request
  leaves. A create that ends ambiguously (timeout, 5xx, disconnect, or any passing fault) is never resent:
  the order is looked up instead.
* :meth:`OrderTracker.resolve` looks an order up by client id, then among open orders, then among recent
  fills. "Not found" counts as a miss; only after ``lost_after_misses`` misses spread over at least
  ``lost_after_s`` seconds, and a last targeted query, is the order declared ``lost``.
* :meth:`OrderTracker.record` journals the venue's answer and the order's fills in one transaction, each
  trade id once; an order the venue calls final keeps an open status in the journal until its fills have
  all arrived, so a kill, a 5xx on the trade list or a lagging feed never leaves a final order without fills.
* :meth:`OrderTracker.settle` reads again a final order whose journaled fills do not add up (reconciliation
  asks for it at start and every cycle).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from trimtab.errors import AmbiguousOrderError, OrderRejectedError, RetryableError
from trimtab.execution.config import ExecutionConfig
from trimtab.execution.crash import crash_point
from trimtab.storage.journal import FINAL_STATUSES, Journal, NewFill, OrderRecord
from trimtab.venues.ports import OrderRequest, OrderState, OrderStatus, Venue

log = logging.getLogger("trimtab.orders")
FILL_LOOKBACK = timedelta(minutes=10)
"""How far before an order's creation its fills are searched (venue clock skew)."""
_EPS = 1e-9


class OrderTracker:
    """Places, follows, cancels and resolves orders, keeping the journal in step with the venue."""

    def __init__(
        self,
        venue: Venue,
        journal: Journal,
        config: ExecutionConfig,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
    ) -> None:
        self.venue = venue
        self.journal = journal
        self.config = config
        self.clock = clock
        self.sleep = sleep

    @property
    def venue_name(self) -> str:
        return self.venue.name

    # -- placing -------------------------------------------------------------------------------------
    def submit(self, request: OrderRequest, plan_id: str, intent_id: int | None) -> OrderRecord:
        """Journal ``request``, then send it once.

        Returns
        -------
        OrderRecord
            The order as the journal knows it after the answer (or after resolving an ambiguous answer).

        Raises
        ------
        OrderRejectedError
            If the venue refused the order for good (the journal row says ``rejected``).
        """
        self.journal.add_order(
            client_order_id=request.client_order_id,
            plan_id=plan_id,
            intent_id=intent_id,
            venue=self.venue_name,
            symbol=request.symbol,
            side=request.side.value,
            order_type=request.type.value,
            amount=request.amount,
            price=request.price,
            reduce_only=request.reduce_only,
            created_at=self.clock(),
        )
        crash_point("after_intent")
        try:
            state = self.venue.create_order(request)
        except OrderRejectedError as error:
            self.journal.update_order(request.client_order_id, self.clock(), status="rejected", last_error=str(error))
            log.warning("order %s rejected: %s", request.client_order_id, error, extra=_fields(request))
            raise
        except (AmbiguousOrderError, RetryableError) as error:
            # Maybe placed: look it up, never resend.
            self.journal.update_order(request.client_order_id, self.clock(), status="ambiguous", last_error=str(error))
            log.warning(
                "order %s ambiguous (%s): looking it up", request.client_order_id, error, extra=_fields(request)
            )
            return self.resolve_now(request.client_order_id)
        crash_point("after_accept")
        order = self.record(state)
        log.info(
            "order %s %s %g %s: %s",
            order.client_order_id,
            order.side,
            order.amount,
            order.symbol,
            order.status,
            extra={**_fields(request), "status": order.status, "filled": order.filled},
        )
        return order

    # -- following -----------------------------------------------------------------------------------
    def record(self, state: OrderState) -> OrderRecord:
        """Save what the venue says of an order together with its fills, in one transaction.

        The trades are read first; a final status is journaled only with the fills that add up to what the
        venue reports filled. When the trade list cannot be read (a 5xx, a clock error) or lags, the order
        keeps an open status and the next lookup (or reconciliation) reads its trades again: a fill is never
        lost behind a final status.
        """
        order = self.journal.order(state.client_order_id)
        if order is None:
            raise KeyError(state.client_order_id)
        venue_filled = max(state.filled, state.amount) if state.status is OrderStatus.FILLED else state.filled
        error = ""
        try:
            fills = self._venue_fills(order, state.exchange_order_id)
        except RetryableError as failure:
            if venue_filled <= order.filled + _EPS * max(1.0, order.amount):
                fills = []  # nothing to read: the journal already has every fill the venue counts
            else:
                fills, error = [], f"trades not read yet: {failure}"
                log.warning(
                    "order %s: %s", order.client_order_id, error, extra={"client_order_id": order.client_order_id}
                )
        crash_point("fills_read")
        current, new = self.journal.settle_order(
            order.client_order_id,
            self.clock(),
            venue=self.venue_name,
            fills=fills,
            status=state.status.value,
            open_status="partially_filled" if venue_filled > 0 else "open",
            venue_filled=venue_filled,
            venue_order_id=state.exchange_order_id,
            misses=0,
            first_miss_at=None,
            **({"last_error": error} if error else {}),
        )
        if new:
            crash_point("after_fill")
        return current

    def sync_fills(self, order: OrderRecord) -> tuple[OrderRecord, int]:
        """Apply the venue's fills of ``order`` that the journal lacks; its status is left as it is."""
        fills = self._venue_fills(order, order.venue_order_id)
        return self.journal.settle_order(
            order.client_order_id,
            self.clock(),
            venue=self.venue_name,
            fills=fills,
            status=order.status,
            open_status=order.status,
            venue_filled=order.venue_filled,
        )

    def _venue_fills(self, order: OrderRecord, exchange_order_id: str | None) -> list[NewFill]:
        """The venue's trades of ``order`` (matched by client id or exchange id) the journal does not have."""
        known = {fill.trade_id for fill in self.journal.fills(order.client_order_id)}
        since = order.created_at - FILL_LOOKBACK
        return [
            NewFill(fill.trade_id, fill.amount, fill.price, fill.fee, fill.fee_currency or "", fill.timestamp)
            for fill in self.venue.fetch_fills(order.symbol, since)
            if fill.trade_id not in known
            and (
                fill.client_order_id == order.client_order_id
                or (exchange_order_id is not None and fill.exchange_order_id == exchange_order_id)
            )
        ]

    def resolve(self, client_order_id: str) -> OrderRecord:
        """Find an order by client id, then among open orders, then among fills; count a miss otherwise."""
        order = self.journal.order(client_order_id)
        if order is None:
            raise KeyError(client_order_id)
        if order.status in FINAL_STATUSES:
            return order
        state = self._lookup(order)
        if state is not None:
            return self.record(state)
        synced, _ = self.sync_fills(order)
        if synced.filled > 0:
            # Fills prove the order existed even though the venue no longer lists it.
            status = "filled" if synced.filled >= synced.amount * (1 - 1e-9) else "partially_filled"
            return self.journal.update_order(client_order_id, self.clock(), status=status, misses=0)
        return self._miss(order)

    def settle(self, client_order_id: str) -> OrderRecord:
        """Read again an order the journal calls final whose fills do not add up (see
        :meth:`Journal.unsettled_orders`): the venue's answer and trades, journaled together."""
        order = self.journal.order(client_order_id)
        if order is None:
            raise KeyError(client_order_id)
        state = self._lookup(order)
        if state is not None:
            return self.record(state)
        synced, _ = self.sync_fills(order)
        return synced

    def resolve_now(self, client_order_id: str) -> OrderRecord:
        """Resolve with bounded retries and backoff (right after an ambiguous create)."""
        order = self.journal.order(client_order_id)
        assert order is not None
        for attempt in range(self.config.resolve_attempts):
            try:
                order = self.resolve(client_order_id)
            except RetryableError:
                order = self.journal.order(client_order_id) or order
            if order.status not in ("ambiguous", "pending"):
                return order
            self.sleep(self.config.resolve_backoff_s * (2**attempt))
        return order

    def cancel(self, client_order_id: str) -> OrderRecord:
        """Cancel an order; a cancel that races a fill keeps the fill."""
        order = self.journal.order(client_order_id)
        assert order is not None
        if order.status in FINAL_STATUSES:
            return order
        try:
            state = self.venue.cancel_order(client_order_id, order.symbol)
        except (OrderRejectedError, RetryableError):
            return self.resolve(client_order_id)
        return self.record(state)

    def wait_final(self, client_order_id: str, seconds: float) -> OrderRecord:
        """Poll an order until it is final or ``seconds`` have passed."""
        deadline = self.clock() + timedelta(seconds=seconds)
        while True:
            try:
                order = self.resolve(client_order_id)
            except RetryableError:
                known = self.journal.order(client_order_id)
                assert known is not None
                order = known
            if order.status in FINAL_STATUSES or self.clock() >= deadline:
                return order
            self.sleep(self.config.poll_interval_s)

    # -- internals -----------------------------------------------------------------------------------
    def _lookup(self, order: OrderRecord) -> OrderState | None:
        state = self.venue.fetch_order(order.client_order_id, order.symbol)
        if state is not None:
            return state
        for open_order in self.venue.fetch_open_orders(order.symbol):
            if open_order.client_order_id == order.client_order_id:
                return open_order
        return None

    def _miss(self, order: OrderRecord) -> OrderRecord:
        now = self.clock()
        first = order.first_miss_at or now
        misses = order.misses + 1
        waited = (now - first).total_seconds()
        if misses >= self.config.lost_after_misses and waited >= self.config.lost_after_s:
            # Last targeted query before calling it lost.
            state = self.venue.fetch_order(order.client_order_id, order.symbol)
            if state is not None:
                return self.record(state)
            log.error("order %s declared lost after %d lookups over %.0f s", order.client_order_id, misses, waited)
            return self.journal.update_order(
                order.client_order_id,
                now,
                status="lost",
                misses=misses,
                first_miss_at=first,
                last_error=f"not found after {misses} lookups over {waited:.0f} s",
            )
        return self.journal.update_order(order.client_order_id, now, misses=misses, first_miss_at=first)


def _fields(request: OrderRequest) -> dict[str, object]:
    return {
        "client_order_id": request.client_order_id,
        "symbol": request.symbol,
        "side": request.side.value,
        "amount": request.amount,
        "type": request.type.value,
    }
