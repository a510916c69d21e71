"""Invariants of lot selection and tax over random lots, sales and rates.

* the consumed lots sum to the sale (or to every lot, the rest reported uncovered), each within its lot;
* ``min-tax`` is never worse than ``fifo``, ``lifo`` or ``hifo``, for one sale and for a plan of several;
* ``min-tax`` is no worse than a brute-force search over a grid of every split of the sale among three lots;
* tax is never negative.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.domain.instruments import InstrumentKind
from trimtab.domain.lots import Lot, LotBook, LotMethod, LotTake, Realised, TaxRules, select_lots
from trimtab.domain.plan import Side, Trade
from trimtab.planner.tax import realise

NOW = datetime(2026, 11, 21, tzinfo=UTC)
SETTINGS = settings(max_examples=120, deadline=None)
ORDERINGS = (LotMethod.FIFO, LotMethod.LIFO, LotMethod.HIFO)

amounts = st.floats(min_value=0.01, max_value=50.0, allow_nan=False)
costs = st.floats(min_value=1.0, max_value=200.0, allow_nan=False)
ages = st.integers(min_value=0, max_value=1500)
rates = st.floats(min_value=0.0, max_value=0.6, allow_nan=False)


def lot_strategy(asset: str = "ETH") -> st.SearchStrategy[Lot]:
    return st.builds(
        lambda amount, cost, age: Lot(asset, amount, cost, NOW - timedelta(days=age)), amounts, costs, ages
    )


def tax_rules(method: LotMethod, short: float, long: float) -> TaxRules:
    return TaxRules(method, short, long, timedelta(days=365))


NOTHING = Realised()


def tax(selection_takes: tuple[LotTake, ...], rules: TaxRules, carry: Realised = NOTHING) -> float:
    realised = carry + Realised.of(selection_takes)
    return rules.tax(realised.short_gain, realised.long_gain)


@SETTINGS
@given(st.lists(lot_strategy(), min_size=1, max_size=6), st.floats(0.001, 400.0), costs, rates, rates)
def test_consumed_lots_sum_to_the_sale_each_within_its_lot(
    lots: list[Lot], amount: float, price: float, short: float, long: float
) -> None:
    held = sum(lot.amount for lot in lots)
    for method in LotMethod:
        selection = select_lots(lots, amount, price, NOW, tax_rules(method, short, long))
        consumed = sum(t.amount for t in selection.takes)
        assert abs(consumed + selection.uncovered - amount) <= 1e-9 * amount
        assert consumed <= held * (1 + 1e-12)
        assert all(t.amount > 0.0 for t in selection.takes)
        by_lot: dict[tuple[datetime, float], float] = {}
        for t in selection.takes:
            by_lot[(t.acquired, t.cost)] = by_lot.get((t.acquired, t.cost), 0.0) + t.amount
        for (acquired, cost), used in by_lot.items():
            available = sum(lot.amount for lot in lots if (lot.acquired, lot.cost) == (acquired, cost))
            assert used <= available * (1 + 1e-12)
        assert tax(selection.takes, tax_rules(method, short, long)) >= 0.0


@SETTINGS
@given(
    st.lists(lot_strategy(), min_size=1, max_size=6),
    st.floats(0.001, 100.0),
    costs,
    rates,
    rates,
    st.floats(-2000.0, 2000.0),
    st.floats(-2000.0, 2000.0),
)
def test_min_tax_is_never_worse_than_fifo_lifo_or_hifo_for_one_sale(
    lots: list[Lot], amount: float, price: float, short: float, long: float, carry_short: float, carry_long: float
) -> None:
    carry = Realised(carry_short, carry_long)
    best = select_lots(lots, amount, price, NOW, tax_rules(LotMethod.MIN_TAX, short, long), carry)
    best_tax = tax(best.takes, tax_rules(LotMethod.MIN_TAX, short, long), carry)
    for method in ORDERINGS:
        other = select_lots(lots, amount, price, NOW, tax_rules(method, short, long), carry)
        assert best_tax <= tax(other.takes, tax_rules(method, short, long), carry) + 1e-9 * (1 + amount * price)


@settings(max_examples=60, deadline=None)
@given(st.lists(lot_strategy(), min_size=3, max_size=3), st.floats(0.05, 0.95), costs, rates, rates)
def test_min_tax_is_no_worse_than_a_brute_force_grid_over_three_lots(
    lots: list[Lot], fraction: float, price: float, short: float, long: float
) -> None:
    rules = tax_rules(LotMethod.MIN_TAX, short, long)
    amount = fraction * sum(lot.amount for lot in lots)
    steps = 40
    grid_best = float("inf")
    # Every (x0, x1) on a grid, x2 = amount - x0 - x1, within each lot's amount: tax from its definition.
    for i, j in itertools.product(range(steps + 1), repeat=2):
        x0, x1 = lots[0].amount * i / steps, lots[1].amount * j / steps
        x2 = amount - x0 - x1
        if not 0.0 <= x2 <= lots[2].amount:
            continue
        short_gain = long_gain = 0.0
        for lot, x in zip(lots, (x0, x1, x2), strict=True):
            gain = (price - lot.cost) * x
            if NOW - lot.acquired >= timedelta(days=365):
                long_gain += gain
            else:
                short_gain += gain
        grid_best = min(grid_best, short * max(0.0, short_gain) + long * max(0.0, long_gain))
    chosen = tax(select_lots(lots, amount, price, NOW, rules).takes, rules)
    assert chosen <= grid_best + 1e-9 * (1 + amount * price)


def sale(asset: str, amount: float, price: float) -> Trade:
    return Trade(asset, f"{asset}/USDT", InstrumentKind.SPOT, Side.SELL, amount, amount * price, price)


@SETTINGS
@given(
    st.lists(lot_strategy("ETH"), min_size=1, max_size=4),
    st.lists(lot_strategy("BTC"), min_size=1, max_size=4),
    st.floats(0.01, 60.0),
    st.floats(0.01, 60.0),
    costs,
    costs,
    rates,
    rates,
)
def test_min_tax_is_never_worse_than_any_ordering_over_a_plan_of_several_sales(
    eth: list[Lot],
    btc: list[Lot],
    eth_amount: float,
    btc_amount: float,
    eth_price: float,
    btc_price: float,
    short: float,
    long: float,
) -> None:
    trades = [sale("ETH", eth_amount, eth_price), sale("BTC", btc_amount, btc_price)]
    book = LotBook((*eth, *btc))
    best = realise(trades, book, tax_rules(LotMethod.MIN_TAX, short, long), NOW)
    assert best.tax is not None and best.tax >= 0.0
    for method in ORDERINGS:
        other = realise(trades, book, tax_rules(method, short, long), NOW)
        assert other.tax is not None and other.tax >= 0.0
        assert best.tax <= other.tax + 1e-9 * (1 + best.realised.gains + best.realised.losses)
