"""The contract's *Tax lots* section checked through ``trimtab plan``, every figure worked by hand.

ETH 30 at 100 and 1,000 USDT: equity 4,000, ETH 75 % against a 25 % target, so the plan sells 2,000 of
ETH, 20 units. Its three lots on 2026-11-21 (long-term after 365 days; 30 % short, 15 % long):
LONG 10 @ 70 (2024-01-01, long, +30 a unit), GAIN 10 @ 60 (2026-02-01, short, +40), LOSS 10 @ 120
(2026-05-01, short, -20).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trimtab.testing.plan_inputs import plan_document, run_plan, write_plan_inputs

LOTS = """\
[[lots]]
asset = "ETH"
amount = 10.0
cost = 70.0
acquired = 2024-01-01T00:00:00Z

[[lots]]
asset = "ETH"
amount = 10.0
cost = 60.0
acquired = 2026-02-01T00:00:00Z

[[lots]]
asset = "ETH"
amount = 10.0
cost = 120.0
acquired = 2026-05-01T00:00:00Z
venue = "default"
"""

PORTFOLIO = """\
base_currency = "USDT"

[[spot]]
asset = "ETH"
amount = 30.0

[[spot]]
asset = "USDT"
amount = 1000.0

"""

MARKET: dict[str, Any] = {"timestamp": "2026-11-21T00:00:00Z", "prices": {"ETH": 100.0}}


def policy(tax: str | None, instrument: str = "spot", funding_rate: float = 0.0) -> str:
    text = f"""\
base_currency = "USDT"

[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.25
band = 0.05
hedge = "ETH/USDT:USDT"

[[class]]
name = "STABLE"
assets = ["USDT"]
target = 0.75
band = 0.05
cash = true

[rebalance]
instrument = "{instrument}"
hedge_leverage = 4.0

[costs]
taker_fee = 0.001
slippage_bps = 5.0
funding_horizon_days = 7
"""
    if tax is not None:
        text += f"""
[tax]
method = "{tax}"
short_term_rate = 0.30
long_term_rate = 0.15
long_term_after = "365d"
"""
    return text


def plan_json(folder: Path, portfolio: str, policy_text: str, market: dict[str, Any] = MARKET) -> dict[str, Any]:
    return plan_document(folder, portfolio, policy_text, market)


def sold_lots(document: dict[str, Any]) -> list[tuple[str, float, float, str]]:
    [trade] = [t for t in document["trades"] if t["instrument"] == "spot" and t["side"] == "sell"]
    return [(lot["acquired"][:10], lot["amount"], lot["cost"], lot["term"]) for lot in trade["lots"]]


# method -> (lots consumed, tax, realised gain, realised loss), by hand from the module's docstring.
EXPECTED = {
    "fifo": (
        [("2024-01-01", 10.0, 70.0, "long"), ("2026-02-01", 10.0, 60.0, "short")],
        0.15 * 300 + 0.30 * 400,
        700.0,
        0.0,
    ),
    "lifo": ([("2026-05-01", 10.0, 120.0, "short"), ("2026-02-01", 10.0, 60.0, "short")], 0.30 * 200, 400.0, 200.0),
    "hifo": ([("2026-05-01", 10.0, 120.0, "short"), ("2024-01-01", 10.0, 70.0, "long")], 0.15 * 300, 300.0, 200.0),
    # 15 from short-term lots (LOSS 10, GAIN 5) nets short-term to 0; 5 of LONG pays 15 % of 150.
    "min-tax": (
        [("2026-05-01", 10.0, 120.0, "short"), ("2026-02-01", 5.0, 60.0, "short"), ("2024-01-01", 5.0, 70.0, "long")],
        0.15 * 150,
        200.0 + 150.0,
        200.0,
    ),
}


@pytest.mark.parametrize("method", list(EXPECTED))
def test_a_sale_consumes_lots_by_method_and_pays_the_tax_of_net_gains_per_term(tmp_path: Path, method: str) -> None:
    document = plan_json(tmp_path, PORTFOLIO + LOTS, policy(method))
    lots, tax, gain, loss = EXPECTED[method]
    [trade] = document["trades"]
    assert (trade["side"], trade["amount"]) == ("sell", pytest.approx(20.0))
    assert sold_lots(document) == [(d, pytest.approx(a), c, t) for d, a, c, t in lots]
    costs = document["costs"]
    assert costs["tax"] == pytest.approx(tax)
    assert costs["realised_gain"] == pytest.approx(gain)
    assert costs["realised_loss"] == pytest.approx(loss)
    gains = [lot["gain"] for lot in trade["lots"]]
    assert gains == [pytest.approx((100.0 - c) * a) for _, a, c, _ in lots]


def test_without_tax_lots_are_only_reported_first_in_first_out(tmp_path: Path) -> None:
    document = plan_json(tmp_path, PORTFOLIO + LOTS, policy(None))
    assert sold_lots(document) == [("2024-01-01", 10.0, 70.0, "long"), ("2026-02-01", 10.0, 60.0, "short")]
    assert document["costs"]["tax"] is None
    assert document["costs"]["realised_gain"] == pytest.approx(700.0)
    assert document["costs"]["realised_loss"] == 0.0


def test_without_lots_and_without_tax_the_figures_are_null_and_sales_list_no_lots(tmp_path: Path) -> None:
    document = plan_json(tmp_path, PORTFOLIO, policy(None))
    assert document["trades"][0]["lots"] == []
    assert (document["costs"]["tax"], document["costs"]["realised_gain"]) == (None, None)


def test_a_sale_of_an_asset_without_lots_is_noted_and_counts_no_gain(tmp_path: Path) -> None:
    document = plan_json(tmp_path, PORTFOLIO, policy("fifo"))
    assert document["costs"]["tax"] == 0.0
    assert any("20 ETH sold is in no lot" in note for note in document["notes"])


def test_auto_hedges_a_class_whose_sale_would_realise_large_short_term_gains(tmp_path: Path) -> None:
    # One short-term lot at 40: selling 20 realises 20 x 60 = 1,200, taxed 360. Spot costs 2,000 x 0.15 %
    # = 3 in fees and slippage, 363 in all. The hedge: 3 to open + 3 to close, and funding at -0.01 % per
    # 8 h paid by the short: 2,000 x 0.0003 x 7 = 4.2 -> 10.2. Without [tax] spot (3) wins. (The hedge opens
    # at 4 x leverage: 500 of initial margin, within the 1,000 USDT of collateral with the 50 % buffer.)
    lot = '[[lots]]\nasset = "ETH"\namount = 30.0\ncost = 40.0\nacquired = 2026-06-01T00:00:00Z\n'
    market = {
        "timestamp": "2026-11-21T00:00:00Z",
        "prices": {"ETH": 100.0},
        "derivatives": {"ETH/USDT:USDT": {"mark": 100.0, "funding_rate": -0.0001, "funding_interval_hours": 8}},
    }
    taxed = plan_json(tmp_path, PORTFOLIO + lot, policy("fifo", instrument="auto"), market)
    [hedge] = taxed["trades"]
    assert (hedge["symbol"], hedge["side"], hedge["notional"]) == ("ETH/USDT:USDT", "sell", pytest.approx(2000.0))
    assert taxed["costs"]["tax"] == 0.0
    [note] = [n for n in taxed["notes"] if n.startswith("auto:")]
    assert "hedge cost 10.20" in note and "spot cost 363.00" in note and "tax 360.00" in note
    untaxed = plan_json(tmp_path, PORTFOLIO + lot, policy(None, instrument="auto"), market)
    assert [t["instrument"] for t in untaxed["trades"]] == ["spot"]


def test_the_table_shows_the_lots_sold_and_the_tax(tmp_path: Path) -> None:
    write_plan_inputs(tmp_path, PORTFOLIO + LOTS, policy("hifo"), MARKET)
    done = run_plan(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Lots sold" in done.stdout and "2024-01-01" in done.stdout and "long" in done.stdout
    assert "Tax" in done.stdout and "45.00" in done.stdout
    assert "Realised loss" in done.stdout and "200.00" in done.stdout


@pytest.mark.parametrize(
    ("lots", "field", "message"),
    [
        (LOTS.replace("amount = 10.0\ncost = 70.0", "amount = 9.0\ncost = 70.0"), "lots[0].amount", "sum to 29"),
        ('[[lots]]\nasset = "USDT"\namount = 1000.0\ncost = 1.0\nacquired = 2024-01-01T00:00:00Z\n',
         "lots[0].asset", "base currency"),
        (LOTS.replace("2026-05-01T00:00:00Z", "2026-12-01T00:00:00Z"), "lots[2].acquired", "after market.json"),
        (LOTS.replace("cost = 70.0", "cost = -1.0"), "lots[0].cost", ""),
        (LOTS.replace("cost = 70.0", "cost = 70.0\nprice = 1.0"), "lots[0].price", "unknown key"),
    ],
)  # fmt: skip
def test_bad_lots_name_the_file_and_field_and_exit_2(tmp_path: Path, lots: str, field: str, message: str) -> None:
    write_plan_inputs(tmp_path, PORTFOLIO + lots, policy("fifo"), MARKET)
    done = run_plan(tmp_path, "--format", "json", "--output", "plan.json")
    assert done.returncode == 2
    assert done.stdout == "" and not (tmp_path / "plan.json").exists()
    assert f"portfolio.toml: {field}: " in done.stderr and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_lots_within_a_billionth_of_the_holding_are_accepted(tmp_path: Path) -> None:
    nudged = LOTS.replace("amount = 10.0\ncost = 70.0", "amount = 10.000000009\ncost = 70.0")
    document = plan_json(tmp_path, PORTFOLIO + nudged, policy("fifo"))
    assert document["costs"]["tax"] == pytest.approx(165.0)


def test_a_bad_tax_table_names_the_field(tmp_path: Path) -> None:
    write_plan_inputs(
        tmp_path, PORTFOLIO + LOTS, policy("fifo").replace('method = "fifo"', 'method = "average"'), MARKET
    )
    done = run_plan(tmp_path)
    assert done.returncode == 2 and "policy.toml: tax.method: " in done.stderr
    write_plan_inputs(tmp_path, PORTFOLIO + LOTS, policy("fifo").replace('"365d"', '"a year"'), MARKET)
    done = run_plan(tmp_path)
    assert done.returncode == 2 and "policy.toml: tax.long_term_after: " in done.stderr


def test_the_tax_lots_example_prints_the_figures_the_readme_quotes() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    script = str(root / "examples" / "tax_lots.py")
    done = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    readme = (root / "README.md").read_text(encoding="utf-8")
    for figure in ("124,533", "98,396", "92,246", "81,731", "66,343", "56,405", "3,486", "2,054"):
        assert figure in done.stdout and figure in readme, figure
    assert "hifo pays 21% less tax than fifo; min-tax 26% less" in done.stdout
