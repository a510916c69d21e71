"""``trimtab run --demo``: the exchange's demo-trading environment where ccxt knows one, refused elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from trimtab.app.live_venues import build_live_venue
from trimtab.app.wiring import RunSetup, check_setup
from trimtab.errors import BadInputError
from trimtab.testing.cli import run_cli

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_a_demo_run_talks_to_binances_demo_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIMTAB_BINANCE_API_KEY", "demo-key")
    monkeypatch.setenv("TRIMTAB_BINANCE_API_SECRET", "demo-secret")
    setup = RunSetup(venue="binance", demo=True)
    check_setup(setup, "sqlite:///:memory:")
    venue = build_live_venue(setup)
    api = venue._exchange.urls["api"]
    assert api["public"] == "https://demo-api.binance.com/api/v3"  # Binance's demo-trading spot host
    assert api["fapiPublic"] == "https://demo-fapi.binance.com/fapi/v1"
    venue.close()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (RunSetup(venue="binance", demo=True, testnet=True), "--demo: give --demo or --testnet, not both"),
        (RunSetup(venue="kraken", demo=True), "--demo: kraken has no demo-trading environment in ccxt (try --testnet)"),
    ],
)
def test_demo_is_refused_where_it_cannot_apply(setup: RunSetup, message: str) -> None:
    with pytest.raises(BadInputError) as error:
        check_setup(setup, "sqlite:///:memory:")
    assert str(error.value) == message


def test_demo_on_the_paper_venue_is_bad_input(tmp_path: Path) -> None:
    done = run_cli(
        "run", "--policy", str(EXAMPLES / "policy.toml"), "--portfolio", str(EXAMPLES / "portfolio.toml"),
        "--market", str(EXAMPLES / "market.json"), "--demo", "--once", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "--demo: is for a live venue; the paper venue is simulated already\n"
    assert list(tmp_path.iterdir()) == []
