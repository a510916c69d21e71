"""The bundled accounts example in paper: coins in Binance's spot wallet, 1,000 USDT in its USD-M wallet.

``examples/policy-perp-hedge.toml`` shorts BTC on the perpetual and would buy ETH on one too, but the funding
monitor buys that ETH spot instead (its funding over the expected hold costs more than spot). The plan's
transfer must then be sized for the orders actually sent (the BTC short only), or the spot wallet would be
left short of the USDT its ETH buy needs; and every order's fill must reach the journal although each paper
account numbers its trades on its own (both wallets' first trade is ``T1``).
By hand: the short is 0.11 BTC at the 58,020 mark, 6,382.20 of notional at hedge_leverage 2: 3,191.10 of
initial margin, so USD-M must hold 1.5 x 3,191.10 = 4,786.65 (margin_buffer 0.5); it holds 1,000, so about
3,786.65 moves from the spot wallet (plus the short's fee of a few USDT), not the 6,040.21 that the plan
priced with an ETH perpetual as well.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from trimtab.testing.cli import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_accounts_example_funds_what_is_sent_and_journals_every_fill(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIMTAB")}
    env["TRIMTAB__EXECUTION__ALGO"] = "market"
    ran = run_cli(
        "run", "--policy", EXAMPLES / "policy-perp-hedge.toml", "--portfolio", EXAMPLES / "portfolio-accounts.toml",
        "--market", EXAMPLES / "market.json", "--state", "sqlite:///journal.db", "--once", "--format", "json",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    cycle = json.loads(ran.stdout.splitlines()[0])
    assert cycle["guards"] == []  # nothing refused for want of funds or margin
    assert any("buying 0.999 ETH spot instead" in d for d in cycle["decisions"])
    orders = {o["symbol"]: o for o in cycle["orders"]}
    assert set(orders) == {"BTC/USDT:USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT"}
    assert all(o["status"] == "filled" and o["filled"] == o["amount"] for o in orders.values())

    with sqlite3.connect(tmp_path / "journal.db") as db:
        fills = db.execute("select client_order_id, trade_id, amount from fills").fetchall()
        moved = db.execute("select asset, amount, from_wallet, to_wallet, status from transfers").fetchall()
    assert len(fills) == 4  # one per order: the two wallets' own T1 are both kept
    assert len({trade_id for _, trade_id, _ in fills}) == 4
    # The transfer funds the BTC short only: what USD-M lacks for 1.5 x its initial margin, not the ETH perp too.
    [(asset, amount, source, target, status)] = moved
    assert (asset, source, target, status) == ("USDT", "spot", "linear", "done")
    initial = orders["BTC/USDT:USDT"]["filled"] * 58020.0 / 2.0  # the snapshot's mark, hedge_leverage 2
    assert 1.5 * initial - 1000.0 < amount < 1.5 * initial - 1000.0 + 10.0  # plus the short's fee

    status = run_cli("status", "--state", "sqlite:///journal.db", "--format", "json", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stderr
    assert not any(c["breached"] for c in json.loads(status.stdout)["classes"])
