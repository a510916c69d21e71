"""The portfolio's ``[[account]]`` tables and the snapshot's ``margin_tiers``: read right, refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trimtab.domain.accounts import AccountKind, MarginMode
from trimtab.domain.market import MarginTier
from trimtab.errors import BadInputError
from trimtab.loaders import load_market, load_portfolio

ACCOUNTS = """\
base_currency = "USDT"

[[account]]
name = "binance-spot"
exchange = "binance"
kind = "spot"

[[account]]
name = "binance-usdm"
exchange = "binance"
kind = "derivatives"
margin_mode = "isolated"
collateral = {usdt = 1.0, USDC = 0.95}

[[spot]]
asset = "USDT"
amount = 100.0
venue = "binance-usdm"
"""


def _portfolio(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portfolio.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_accounts_are_read_with_their_defaults(tmp_path: Path) -> None:
    portfolio, _ = load_portfolio(_portfolio(tmp_path, ACCOUNTS))
    spot, usdm = portfolio.accounts
    assert (spot.kind, spot.margin_mode, dict(spot.collateral)) == (AccountKind.SPOT, MarginMode.CROSS, {"USDT": 1.0})
    assert (usdm.kind, usdm.margin_mode) == (AccountKind.DERIVATIVES, MarginMode.ISOLATED)
    assert dict(usdm.collateral) == {"USDT": 1.0, "USDC": 0.95}
    # A venue a row names without a table is the default account.
    assert portfolio.account("elsewhere").kind is AccountKind.UNIFIED


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (('name = "binance-usdm"', 'name = "binance-spot"'), "account[1].name", "declared twice"),
        (("USDC = 0.95", "USDC = 1.5"), "account[1].collateral", "between 0 and 1"),
        (('kind = "spot"', 'kind = "spot"\nmargin_mode = "cross"'), "account[0]", "margin_mode"),
        (('kind = "spot"', 'kind = "margin"'), "account[0].kind", "must be one of"),
        (('exchange = "binance"\nkind = "spot"', 'kind = "spot"'), "account[0].exchange", "required"),
    ],
)
def test_bad_account_tables_are_refused_naming_the_field(
    tmp_path: Path, change: tuple[str, str], field: str, message: str
) -> None:
    text = ACCOUNTS.replace(*change, 1)
    with pytest.raises(BadInputError) as caught:
        load_portfolio(_portfolio(tmp_path, text))
    assert str(caught.value).startswith(f"portfolio.toml: {field}")
    assert message in str(caught.value)


def test_a_derivative_on_a_spot_account_is_refused(tmp_path: Path) -> None:
    text = (
        ACCOUNTS
        + '[[derivatives]]\nsymbol = "BTC/USDT:USDT"\namount = 1.0\nentry_price = 1.0\nvenue = "binance-spot"\n'
    )
    with pytest.raises(BadInputError, match=r"^portfolio.toml: derivatives\[0\].venue: binance-spot is a spot account"):
        load_portfolio(_portfolio(tmp_path, text))


def _market(tmp_path: Path, tiers: list[dict[str, float]]) -> Path:
    path = tmp_path / "market.json"
    document = {
        "timestamp": "2026-11-21T00:00:00Z",
        "prices": {"BTC": 50000.0},
        "markets": {"BTC/USDT:USDT": {"margin_tiers": tiers}},
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_margin_tiers_are_read_as_ccxt_gives_them(tmp_path: Path) -> None:
    tiers = [
        {"floor": 0, "rate": 0.004, "amount": 0, "max_leverage": 125},
        {"floor": 50000, "rate": 0.005, "amount": 50, "max_leverage": 100},
    ]
    market = load_market(_market(tmp_path, tiers))
    assert market.margin_tiers("BTC/USDT:USDT") == (
        MarginTier(0.0, 0.004, 0.0, 125.0),
        MarginTier(50000.0, 0.005, 50.0, 100.0),
    )
    assert market.margin_tiers("ETH/USDT:USDT") == ()


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([{"floor": 10, "rate": 0.004, "amount": 0, "max_leverage": 125}], "first tier's floor must be 0"),
        (
            [
                {"floor": 0, "rate": 0.004, "amount": 0, "max_leverage": 125},
                {"floor": 50000, "rate": 0.005, "amount": 0, "max_leverage": 100},
            ],
            "jumps at floor 50000",
        ),
        (
            [
                {"floor": 0, "rate": 0.004, "amount": 0, "max_leverage": 125},
                {"floor": 0, "rate": 0.005, "amount": 0, "max_leverage": 100},
            ],
            "increasing floor",
        ),
        ([{"floor": 0, "rate": 0.004, "amount": 0}], "required"),
    ],
)
def test_bad_margin_tiers_are_refused(tmp_path: Path, tiers: list[dict[str, float]], message: str) -> None:
    with pytest.raises(BadInputError) as caught:
        load_market(_market(tmp_path, tiers))
    assert str(caught.value).startswith('market.json: markets."BTC/USDT:USDT".margin_tiers')
    assert message in str(caught.value)
