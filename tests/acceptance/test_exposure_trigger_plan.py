"""`trimtab plan` with the exposure trigger on the beta-neutral example book (ALTS long, BTC perpetual short).

The book: ALTS 10 ETH x 3 000 + 100 SOL x 150 + 10 BNB x 500 = 50 000 long; BTC short 0.6 at a mark of
58 020 = 34 812. The gap is 50 000 - 34 812 = 15 188, 30.376 % of the long notional.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trimtab.testing.cli import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _policy(folder: Path, trigger: str) -> Path:
    text = (EXAMPLES / "policy-beta-neutral.toml").read_text(encoding="utf-8")
    text = text.replace("band = 0.05", "band = 0.10").replace('[trigger]\nkind = "threshold"\n', trigger)
    text = text.replace('scope = "breached"', 'scope = "all"')
    path = folder / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _plan(folder: Path, trigger: str) -> dict[str, Any]:
    result = run_cli(
        "plan",
        "--policy", str(_policy(folder, trigger)),
        "--portfolio", str(EXAMPLES / "portfolio-beta-neutral.toml"),
        "--market", str(EXAMPLES / "market.json"),
        "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_a_gap_wider_than_the_limit_fires_and_extends_the_hedge(tmp_path: Path) -> None:
    document = _plan(tmp_path, '[trigger]\nkind = "exposure"\nlong = "ALTS"\nshort = "BTC"\ngap = 0.25\n')
    assert document["triggered"]
    assert document["trigger_reason"] == (
        "ALTS exposure 50,000.00 exceeds the BTC hedge 34,812.00 by 15,188.00 "
        "(30.38 % of the long notional; limit 25.00 %)"
    )
    (trade,) = [t for t in document["trades"] if t["class"] == "BTC"]
    assert (trade["symbol"], trade["side"]) == ("BTC/USDT:USDT", "sell")
    # BTC's goal is -0.8 x 50 % = -40 % of 101 188: short 40 475.2, i.e. 5 663.2 more at 58 020 (0.0976 BTC).
    assert abs(trade["amount"] - 0.097) < 0.002


def test_a_gap_inside_the_limit_stays_quiet_even_inside_any(tmp_path: Path) -> None:
    trigger = (
        '[trigger]\nkind = "any"\n[[trigger.of]]\nkind = "threshold"\n'
        '[[trigger.of]]\nkind = "exposure"\nlong = "ALTS"\nshort = "BTC"\ngap = 0.35\n'
    )
    document = _plan(tmp_path, trigger)
    assert not document["triggered"]
    assert document["trades"] == []


def test_an_unknown_class_is_refused_naming_the_file_and_field(tmp_path: Path) -> None:
    path = _policy(tmp_path, '[trigger]\nkind = "exposure"\nlong = "ALTZ"\nshort = "BTC"\ngap = 0.1\n')
    result = run_cli(
        "plan", "--policy", str(path),
        "--portfolio", str(EXAMPLES / "portfolio-beta-neutral.toml"),
        "--market", str(EXAMPLES / "market.json"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "policy.toml" in result.stderr and "trigger.long" in result.stderr and "ALTZ" in result.stderr
