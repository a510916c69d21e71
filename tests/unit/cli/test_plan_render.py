"""The plan's tables and JSON, from a plan built by hand (no planner involved)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trimtab.cli.plan import as_floats, check_output_path, parse_time_option, plan_json, write_atomically
from trimtab.cli.render import amount, print_plan
from trimtab.domain import ClassReport, CostEstimate, InstrumentKind, MarginReport, Plan, Side, Trade
from trimtab.errors import BadInputError


def _plan(trades: bool = True) -> Plan:
    sell = Trade(
        class_name="BTC",
        symbol="BTC/USDT",
        instrument=InstrumentKind.SPOT,
        side=Side.SELL,
        amount=8000.0 / 58000.0,
        notional=8000.0,
        price=58000.0,
        reason="to target",
    )
    return Plan(
        base_currency="USDT",
        equity=100000.0,
        triggered=True,
        classes=(
            ClassReport("BTC", 0.5, 0.45, 0.55, 0.58, 58000.0, True, 0.5),
            ClassReport("STABLE", 0.5, 0.45, 0.55, 0.42, 42000.0, False, 0.5, cash=True),
        ),
        trades=(sell,) if trades else (),
        post_trade={"BTC": 0.5, "STABLE": 0.5},
        costs=CostEstimate(fees=8.0, slippage=4.0, funding_per_day=0),  # an int on purpose: JSON gives 0.0
        margin=MarginReport(
            initial=0.0, free_collateral=42000.0, required=0.0, maintenance=0.0, gross_leverage=0.58, ok=True
        ),
        notes=("ALTS has no hedge: traded spot",),
        trigger_reason="BTC at 58.00 % is outside 45.00–55.00 %",
    )


def test_json_has_the_contract_fields_as_floats() -> None:
    document = json.loads(plan_json(_plan()))
    assert document["equity"] == 100000.0
    assert document["triggered"] is True
    assert document["classes"][0] == {
        "name": "BTC",
        "target": 0.5,
        "lower": 0.45,
        "upper": 0.55,
        "weight": 0.58,
        "net_exposure": 58000.0,
        "breached": True,
        "goal": 0.5,
        "cash": False,
    }
    trade = document["trades"][0]
    assert (trade["class"], trade["symbol"], trade["instrument"], trade["side"]) == ("BTC", "BTC/USDT", "spot", "sell")
    assert trade["amount"] == pytest.approx(0.137931, abs=1e-6)
    assert trade["notional"] == 8000.0
    assert document["post_trade"] == {"BTC": 0.5, "STABLE": 0.5}
    assert document["costs"] == {
        "fees": 8.0,
        "slippage": 4.0,
        "funding_per_day": 0.0,
        "tax": None,
        "realised_gain": None,
        "realised_loss": None,
    }
    assert isinstance(document["costs"]["funding_per_day"], float)
    assert document["margin"]["free_collateral"] == 42000.0
    assert document["margin"]["ok"] is True
    assert document["notes"] == ["ALTS has no hedge: traded spot"]


def test_json_refuses_nan() -> None:
    broken = _plan()
    broken = Plan(**{**{f: getattr(broken, f) for f in broken.__dataclass_fields__}, "equity": float("nan")})
    with pytest.raises(ValueError, match="not JSON compliant"):
        plan_json(broken)


def test_as_floats_keeps_bools_and_strings() -> None:
    assert as_floats({"a": 1, "b": [True, 2, "x"], "c": None}) == {"a": 1.0, "b": [True, 2.0, "x"], "c": None}
    assert isinstance(as_floats({"a": 1})["a"], float)


def test_tables_show_classes_band_breach_trade_costs_margin_and_notes() -> None:
    stream = io.StringIO()
    print_plan(_plan(), file=stream)
    text = stream.getvalue()
    for expected in (
        "Equity 100,000.00 USDT",
        "Triggered: yes",
        "Trigger: BTC at 58.00 % is outside 45.00–55.00 %",
        "STABLE (cash)",
        "45.00 % – 55.00 %",
        "58.00 %",
        "above band",
        "BTC/USDT",
        "sell",
        "0.13793103",
        "8,000.00",
        "Fees",
        "8.00 USDT",
        "Free collateral",
        "42,000.00 USDT",
        "- ALTS has no hedge: traded spot",
    ):
        assert expected in text, expected
    assert "below band" not in text


def test_tables_say_when_there_is_nothing_to_trade() -> None:
    stream = io.StringIO()
    print_plan(_plan(trades=False), file=stream)
    assert "No trades." in stream.getvalue()
    assert "Trades (" not in stream.getvalue()


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.137931034, "0.13793103"), (8.0, "8"), (1e-7, "0.0000001"), (123456.789, "123456.79"), (2e-10, "2e-10")],
)
def test_amounts_print_without_needless_exponents(value: float, text: str) -> None:
    assert amount(value) == text


def test_time_option_reads_iso_and_assumes_utc() -> None:
    assert parse_time_option("--last-rebalance", "2026-11-14T00:00:00Z") == datetime(2026, 11, 14, tzinfo=UTC)
    assert parse_time_option("--last-rebalance", "2026-11-14 02:00+02:00") == datetime(2026, 11, 14, tzinfo=UTC)
    assert parse_time_option("--last-rebalance", "2026-11-14") == datetime(2026, 11, 14, tzinfo=UTC)
    with pytest.raises(BadInputError, match=r"^--last-rebalance: 'last week' is not an ISO 8601 time"):
        parse_time_option("--last-rebalance", "last week")


def test_output_path_checks(tmp_path: Path) -> None:
    check_output_path("--output", tmp_path / "plan.json")
    with pytest.raises(BadInputError, match="does not exist"):
        check_output_path("--output", tmp_path / "missing" / "plan.json")
    with pytest.raises(BadInputError, match="is a folder"):
        check_output_path("--output", tmp_path)


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old", encoding="utf-8")
    write_atomically(target, '{"equity": 1.0}\n')
    assert target.read_text(encoding="utf-8") == '{"equity": 1.0}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_transfers_accounts_and_positions_are_printed_as_tables() -> None:
    from dataclasses import replace

    from trimtab.domain.plan import AccountReport, PositionReport, Transfer

    margin = MarginReport(
        initial=0.0,
        free_collateral=0.0,
        required=0.0,
        maintenance=0.0,
        gross_leverage=0.58,
        ok=False,
        accounts=(
            AccountReport("binance-usdm", "binance", "derivatives", "cross", 7510.0, 5000.0, 50.0, 2510.0, False),
        ),
    )
    plan = replace(
        _plan(),
        margin=margin,
        transfers=(Transfer("USDT", 7510.0, "binance-spot", "binance-usdm", "needs collateral"),),
        positions=(
            PositionReport("BTC/USDT:USDT", "binance-usdm", -0.2, 10000.0, 2.0, 5000.0, 50.0, 84577.11, 0.4096, 100.0),
            PositionReport("ETH/USDT:USDT", "binance-usdm", 1.0, 3000.0, 1.0, 3000.0, 15.0, None, None),
        ),
    )
    out = io.StringIO()
    print_plan(plan, file=out)
    text = out.getvalue()
    assert "Transfers (made before the orders)" in text and "binance-spot" in text and "7510" in text
    assert "Accounts after the plan" in text and "SHORT" in text and "2,510.00" in text
    assert "Positions after the plan" in text and "84,577.11" in text and "40.96 %" in text and "none" in text
    # Transfers come before the trades, as they are made.
    assert text.index("Transfers (made") < text.index("Trades")


def test_an_account_at_liquidation_is_marked_in_the_accounts_table() -> None:
    from dataclasses import replace

    from trimtab.domain.plan import AccountReport

    # Collateral -19,000 against 180 of maintenance margin (tests/acceptance/test_contract_accounts.py).
    account = AccountReport("default", "default", "unified", "cross", -19000.0, 3600.0, 180.0, -22600.0, False, True)
    margin = MarginReport(0.0, 0.0, 0.0, 180.0, 0.2, False, accounts=(account,))
    out = io.StringIO()
    print_plan(replace(_plan(), margin=margin), file=out)
    assert "LIQUIDATION" in out.getvalue() and "SHORT" not in out.getvalue()
