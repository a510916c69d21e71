"""Lot selection and tax, each figure worked by hand from the contract's rules.

Three ETH lots, sold at 100 on 2026-11-21 with long_term_after = 365 days, rates 30 % short / 15 % long:

* ``LONG``  10 @ 70, bought 2024-01-01: long-term, +30 a unit;
* ``GAIN``  10 @ 60, bought 2026-02-01: short-term, +40 a unit;
* ``LOSS``  10 @ 120, bought 2026-05-01: short-term, -20 a unit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trimtab.domain.lots import Lot, LotBook, LotMethod, Realised, TaxRules, select_lots

NOW = datetime(2026, 11, 21, tzinfo=UTC)
LONG = Lot("ETH", 10.0, 70.0, datetime(2024, 1, 1, tzinfo=UTC))
GAIN = Lot("ETH", 10.0, 60.0, datetime(2026, 2, 1, tzinfo=UTC))
LOSS = Lot("ETH", 10.0, 120.0, datetime(2026, 5, 1, tzinfo=UTC))
LOTS = (LONG, GAIN, LOSS)


def rules(method: str) -> TaxRules:
    return TaxRules(LotMethod(method), 0.30, 0.15, timedelta(days=365))


def taken(method: str, amount: float = 20.0) -> list[tuple[float, float, bool]]:
    selection = select_lots(LOTS, amount, 100.0, NOW, rules(method))
    return [(t.cost, t.amount, t.long_term) for t in selection.takes]


def tax_of(method: str, amount: float = 20.0) -> float:
    selection = select_lots(LOTS, amount, 100.0, NOW, rules(method))
    realised = Realised.of(selection.takes)
    return rules(method).tax(realised.short_gain, realised.long_gain)


def test_fifo_sells_the_oldest_lots_first() -> None:
    assert taken("fifo") == [(70.0, 10.0, True), (60.0, 10.0, False)]
    # long 10 x 30 = 300 at 15 %; short 10 x 40 = 400 at 30 %.
    assert tax_of("fifo") == pytest.approx(0.15 * 300 + 0.30 * 400)


def test_lifo_sells_the_newest_lots_first() -> None:
    assert taken("lifo") == [(120.0, 10.0, False), (60.0, 10.0, False)]
    # short -200 + 400 = 200 at 30 %.
    assert tax_of("lifo") == pytest.approx(60.0)


def test_hifo_sells_the_dearest_lots_first() -> None:
    assert taken("hifo") == [(120.0, 10.0, False), (70.0, 10.0, True)]
    # short -200 (no tax, and it does not offset the long gain); long 300 at 15 %.
    assert tax_of("hifo") == pytest.approx(45.0)


def test_min_tax_mixes_lots_so_the_short_term_loss_exactly_offsets_a_short_term_gain() -> None:
    # From short-term lots q (LOSS first, then GAIN), from LONG 20 - q: short = -200 + 40 (q - 10) and long
    # = 30 (20 - q) for q in [10, 20]; the tax falls until the short-term net reaches 0 at q = 15, then rises.
    assert taken("min-tax") == [(120.0, 10.0, False), (60.0, 5.0, False), (70.0, 5.0, True)]
    assert tax_of("min-tax") == pytest.approx(0.15 * 150)
    assert tax_of("min-tax") < min(tax_of(m) for m in ("fifo", "lifo", "hifo"))


def test_min_tax_nets_against_the_gains_of_earlier_sales() -> None:
    # Alone, 10 from LONG pays 0.15 x 300 = 45 and 10 from GAIN 0.30 x 400 = 120. After an earlier sale that
    # realised a short-term loss of 400, GAIN's 400 nets to 0 short-term: no tax, so GAIN goes instead.
    alone = select_lots((LONG, GAIN), 10.0, 100.0, NOW, rules("min-tax"))
    assert [(t.cost, t.amount) for t in alone.takes] == [(70.0, 10.0)]
    after_loss = select_lots((LONG, GAIN), 10.0, 100.0, NOW, rules("min-tax"), carry=Realised(short_gain=-400.0))
    assert [(t.cost, t.amount) for t in after_loss.takes] == [(60.0, 10.0)]


def test_a_lot_is_long_term_from_exactly_long_term_after() -> None:
    lot = Lot("ETH", 1.0, 50.0, NOW - timedelta(days=365))
    younger = Lot("ETH", 1.0, 50.0, NOW - timedelta(days=365) + timedelta(seconds=1))
    assert select_lots([lot], 1.0, 100.0, NOW, rules("fifo")).takes[0].long_term is True
    assert select_lots([younger], 1.0, 100.0, NOW, rules("fifo")).takes[0].long_term is False


def test_losses_of_one_term_do_not_offset_gains_of_the_other() -> None:
    assert rules("fifo").tax(-1000.0, 500.0) == pytest.approx(75.0)
    assert rules("fifo").tax(500.0, -1000.0) == pytest.approx(150.0)
    assert rules("fifo").tax(-1.0, -1.0) == 0.0


def test_a_sale_beyond_the_lots_reports_the_uncovered_part() -> None:
    selection = select_lots(LOTS, 35.0, 100.0, NOW, rules("hifo"))
    assert sum(t.amount for t in selection.takes) == pytest.approx(30.0)
    assert selection.uncovered == pytest.approx(5.0)


def test_the_book_removes_what_a_sale_consumes_and_adds_buys_at_the_fill_price() -> None:
    book = LotBook(LOTS)
    after, selection = book.sell("ETH", 15.0, 100.0, NOW, rules("fifo"))
    assert [t.amount for t in selection.takes] == [10.0, 5.0]
    assert [(lot.cost, lot.amount) for lot in after.of("ETH")] == [(60.0, 5.0), (120.0, 10.0)]
    bought = after.buy("ETH", 2.0, 101.0, NOW, "binance")
    assert bought.of("ETH")[-1] == Lot("ETH", 2.0, 101.0, NOW, "binance")
    assert bought.amount("ETH") == pytest.approx(17.0)


def test_a_sale_on_a_venue_takes_that_venue_s_lots_first() -> None:
    here = Lot("ETH", 1.0, 90.0, datetime(2025, 1, 1, tzinfo=UTC), "kraken")
    there = Lot("ETH", 1.0, 10.0, datetime(2024, 1, 1, tzinfo=UTC), "binance")
    book = LotBook((there, here))
    selection = book.select("ETH", 1.5, 100.0, NOW, rules("fifo"), venue="kraken")
    assert [(t.venue, t.amount) for t in selection.takes] == [("kraken", 1.0), ("binance", 0.5)]
