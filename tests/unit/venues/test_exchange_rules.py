"""Each exchange's rules, checked against the exchanges' published limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimtab.errors import BadInputError, OrderRejectedError
from trimtab.execution.ids import client_order_id
from trimtab.venues.binance import BINANCE
from trimtab.venues.bybit import BYBIT
from trimtab.venues.ccxt import AccountConnection, build_ccxt_book, ccxt_class_for
from trimtab.venues.ccxt.factory import wallet_of


@pytest.mark.parametrize(
    "link_id",
    ["tt-0123456789-1-0", "a", "A_b-9", "x" * 36],
)
def test_bybit_accepts_order_link_ids_of_its_alphabet_up_to_36_characters(link_id: str) -> None:
    BYBIT.check_client_order_id("bybit", link_id)


@pytest.mark.parametrize("link_id", ["x" * 37, "", "tt:1", "tt.1", "tt/1", "tt 1", "tt-é"])
def test_bybit_refuses_what_its_order_link_id_rule_leaves_out(link_id: str) -> None:
    with pytest.raises(OrderRejectedError, match="letters, digits, - and _"):
        BYBIT.check_client_order_id("bybit", link_id)


def test_binance_takes_colons_dots_and_slashes_bybit_does_not() -> None:
    BINANCE.check_client_order_id("binance", "a.b:c/d")
    with pytest.raises(OrderRejectedError):
        BYBIT.check_client_order_id("bybit", "a.b:c/d")


@settings(max_examples=50)
@given(plan=st.text("0123456789abcdef", min_size=10, max_size=10), leg=st.integers(0, 999), child=st.integers(0, 999))
def test_every_trimtab_client_order_id_fits_both_exchanges(plan: str, leg: int, child: int) -> None:
    text = client_order_id(plan, leg, child)
    BYBIT.check_client_order_id("bybit", text)
    BINANCE.check_client_order_id("binance", text)


def test_a_bybit_account_is_one_unified_wallet_on_ccxts_bybit_class() -> None:
    connection = AccountConnection("hedges", "bybit", "unified")
    assert ccxt_class_for(connection) == "bybit"
    assert wallet_of(connection) == "unified"
    book = build_ccxt_book("book", [connection], lambda exchange: None)
    (account,) = book.accounts
    assert (account.name, account.exchange, account.wallet) == ("hedges", "bybit", "unified")


def test_binance_wallets_are_unchanged() -> None:
    assert [
        ccxt_class_for(AccountConnection("a", "binance", k, inverse=i))
        for k, i in [("spot", False), ("derivatives", False), ("derivatives", True)]
    ] == ["binance", "binanceusdm", "binancecoinm"]
    assert wallet_of(AccountConnection("a", "binance", "derivatives", inverse=True)) == "inverse"


@pytest.mark.parametrize("kind", ["spot", "derivatives"])
def test_a_bybit_account_of_another_kind_is_refused_naming_the_account(kind: str) -> None:
    with pytest.raises(BadInputError, match=r"account\.hedges\.kind"):
        build_ccxt_book("book", [AccountConnection("hedges", "bybit", kind)], lambda exchange: None)
