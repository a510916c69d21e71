"""The memoised layout never serves stale figures, and the fast valuation agrees with a plain recomputation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.domain import (
    AssetClass,
    DerivativePosition,
    DerivativeQuote,
    MarketSnapshot,
    Portfolio,
    SpotHolding,
    parse_symbol,
)
from trimtab.valuation import valuate
from trimtab.valuation.layout import build_layout, class_index_for, layout_for

NOW = datetime(2026, 11, 21, tzinfo=UTC)
ASSETS = ("BTC", "ETH", "SOL", "BNB")
CLASSES = (
    AssetClass("BTC", ("BTC",), 0.4, {"BTC": 1.0}, band=0.05),
    AssetClass("ETH", ("ETH",), 0.3, {"ETH": 1.0}, band=0.05),
    AssetClass("ALTS", ("SOL", "BNB"), 0.2, {"SOL": 0.5, "BNB": 0.5}, band=0.05, hedge="ALTS/USDT:USDT"),
    AssetClass("STABLE", ("USDT", "USDC"), 0.1, {"USDT": 0.5, "USDC": 0.5}, band=0.05, cash=True),
)
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "ALTS/USDT:USDT", "BTC/USDT:USDT-261225")


def _market(scale: float = 1.0) -> MarketSnapshot:
    prices = {"BTC": 58000.0 * scale, "ETH": 3000.0 * scale, "SOL": 140.0, "BNB": 600.0, "USDC": 0.9998}
    quotes = {
        s: DerivativeQuote(mark * scale, funding_rate=0.0001)
        for s, mark in zip(SYMBOLS, (58020, 3001, 140, 1000, 59000), strict=True)
    }
    return MarketSnapshot(NOW, prices, quotes)


def _book(btc: float = 1.0) -> Portfolio:
    return Portfolio(
        "USDT",
        spot=(SpotHolding("BTC", btc), SpotHolding("USDT", 10000.0)),
        derivatives=(DerivativePosition(parse_symbol("ETH/USDT:USDT"), -2.0, 3100.0, 3.0),),
    )


def test_the_layout_is_reused_for_the_same_portfolio_and_equal_classes() -> None:
    book = _book()
    assert layout_for(book, CLASSES) is layout_for(book, CLASSES)
    # A fresh tuple or list of equal classes (as a policy builds on every call) finds the same layout.
    assert layout_for(book, (*CLASSES,)) is layout_for(book, CLASSES)
    assert layout_for(book, list(CLASSES)) is layout_for(book, CLASSES)


def test_the_class_index_is_shared_by_equal_classes() -> None:
    assert class_index_for(CLASSES) is class_index_for(CLASSES)
    index = class_index_for(CLASSES)
    assert index.names == ("BTC", "ETH", "ALTS", "STABLE")
    assert index.index_of_asset["BNB"] == 2
    assert index.index_of_hedge == {"ALTS/USDT:USDT": 2}
    assert (index.cash_index, index.sink_index) == (3, 3)
    assert class_index_for(list(CLASSES)) is index


def test_classes_that_differ_in_what_valuation_reads_get_their_own_index() -> None:
    base = class_index_for(CLASSES)
    renamed = (AssetClass("BITCOIN", ("BTC",), 0.4, {"BTC": 1.0}, band=0.05), *CLASSES[1:])
    hedged = (AssetClass("BTC", ("BTC",), 0.4, {"BTC": 1.0}, band=0.05, hedge="BTC/USDT:USDT"), *CLASSES[1:])
    reordered = (CLASSES[1], CLASSES[0], *CLASSES[2:])
    for classes in (renamed, hedged, reordered):
        assert class_index_for(classes) is not base
    assert class_index_for(hedged).index_of_hedge["BTC/USDT:USDT"] == 0
    assert class_index_for(reordered).index_of_asset["BTC"] == 1
    # Targets and bands do not matter to valuation: a policy with other targets shares the index.
    retargeted = (AssetClass("BTC", ("BTC",), 0.35, {"BTC": 1.0}, band=0.02), *CLASSES[1:])
    assert class_index_for(retargeted) is base


def test_an_equal_but_distinct_portfolio_is_valued_from_its_own_holdings() -> None:
    first = valuate(_book(1.0), _market(), CLASSES)
    second = valuate(_book(2.0), _market(), CLASSES)
    assert second.spot_values["BTC"] == pytest.approx(2 * first.spot_values["BTC"])


def test_a_new_market_is_priced_afresh_with_a_cached_layout() -> None:
    book = _book()
    before = valuate(book, _market(), CLASSES)
    after = valuate(book, _market(1.1), CLASSES)
    assert after.spot_values["BTC"] == pytest.approx(1.1 * before.spot_values["BTC"])
    assert after.positions[0].delta_notional == pytest.approx(1.1 * before.positions[0].delta_notional)


def test_a_list_of_classes_that_changes_between_calls_is_honoured() -> None:
    classes = list(CLASSES)
    book = _book()
    valuate(book, _market(), classes)
    classes[0] = AssetClass("BITCOIN", ("BTC",), 0.4, {"BTC": 1.0}, band=0.05)
    assert valuate(book, _market(), classes).classes[0].name == "BITCOIN"


def test_the_memo_stays_bounded() -> None:
    books = [_book(float(i + 1)) for i in range(100)]
    for book in books:
        layout_for(book, CLASSES)
    from trimtab.valuation import layout as layout_module

    assert len(layout_module._cache) <= 32
    assert len(layout_module._class_by_identity) <= 32


def _reference(portfolio: Portfolio, market: MarketSnapshot) -> dict[str, float]:
    """Equity and class net exposures recomputed plainly from the contract's definitions (linear books)."""
    spot = {a: amount * market.price(a, "USDT") for a, amount in portfolio.spot_totals.items()}
    pnl = sum(p.amount * (market.derivatives[p.symbol].mark - p.entry_price) for p in portfolio.derivatives)
    equity = sum(spot.values()) + pnl
    out = {"equity": equity}
    for c in CLASSES:
        if c.cash:
            continue
        net = sum(v for a, v in spot.items() if a in c.assets)
        for p in portfolio.derivatives:
            if p.instrument.base in c.assets or p.symbol == c.hedge:
                net += p.amount * market.derivatives[p.symbol].mark
        out[c.name] = net
    out["STABLE"] = equity - sum(v for k, v in out.items() if k != "equity")
    initial = sum(abs(p.amount * market.derivatives[p.symbol].mark) / p.leverage for p in portfolio.derivatives)
    # Free collateral is the default account's: its USDT (the only collateral) + PnL - initial margin.
    out["free_collateral"] = portfolio.spot_amount("USDT") + pnl - initial
    return out


amounts = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)
signed = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False).filter(lambda x: abs(x) > 1e-6)


@settings(max_examples=60, deadline=None)
@given(
    spot=st.lists(st.tuples(st.sampled_from((*ASSETS, "USDT", "USDC")), amounts), max_size=8),
    derivatives=st.lists(
        st.tuples(
            st.sampled_from(SYMBOLS),
            signed,
            st.floats(min_value=50.0, max_value=80000.0),
            st.sampled_from((1.0, 2.0, 5.0)),
        ),
        max_size=6,
    ),
    scale=st.floats(min_value=0.5, max_value=2.0),
)
def test_valuation_matches_a_plain_recomputation(
    spot: list[tuple[str, float]], derivatives: list[tuple[str, float, float, float]], scale: float
) -> None:
    book = Portfolio(
        "USDT",
        spot=(*(SpotHolding(a, x) for a, x in spot), SpotHolding("USDT", 100000.0)),
        derivatives=tuple(DerivativePosition(parse_symbol(s), a, e, lev) for s, a, e, lev in derivatives),
    )
    market = _market(scale)
    valuation = valuate(book, market, CLASSES)
    expected = _reference(book, market)
    tolerance = 1e-9 * (abs(expected["equity"]) + sum(abs(p.delta_notional) for p in valuation.positions) + 1.0)
    assert valuation.equity == pytest.approx(expected["equity"], abs=tolerance)
    for c in valuation.classes:
        assert c.net_exposure == pytest.approx(expected[c.name], abs=tolerance)
        assert c.weight == pytest.approx(expected[c.name] / expected["equity"], abs=1e-9)
    assert valuation.free_collateral == pytest.approx(expected["free_collateral"], abs=tolerance)
    assert sum(c.weight for c in valuation.classes) == pytest.approx(1.0)
    # Valuing again (layout now memoised) gives identical figures; so does a fresh, uncached layout.
    assert valuate(book, market, CLASSES) == valuation
    assert valuate(book, market, list(CLASSES)) == valuation
    assert build_layout(book, CLASSES) == layout_for(book, CLASSES)
