"""Every bad input of the contract is refused with one BadInputError naming the file and the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trimtab.errors import BadInputError
from trimtab.loaders import load_plan_inputs

PORTFOLIO = """\
base_currency = "USDT"

[[spot]]
asset = "BTC"
amount = 0.8

[[spot]]
asset = "ETH"
amount = 9.0

[[spot]]
asset = "USDT"
amount = 25000.0
"""

POLICY = """\
base_currency = "USDT"

[[class]]
name = "BTC"
assets = ["BTC"]
target = 0.40
band = 0.04
hedge = "BTC/USDT:USDT"

[[class]]
name = "ETH"
assets = ["ETH"]
target = 0.30
band = 0.03
weights = { ETH = 1.0 }

[[class]]
name = "STABLE"
assets = ["USDT", "USDC"]
target = 0.30
band = 0.03
cash = true

[trigger]
kind = "threshold"

[rebalance]
scope = "all"
instrument = "spot"
min_notional = 10.0
max_leverage = 3.0

[costs]
taker_fee = 0.001
"""

MARKET: dict[str, Any] = {
    "timestamp": "2026-11-21T00:00:00Z",
    "prices": {"BTC": 58000.0, "ETH": 3000.0, "USDT": 1.0, "USDC": 1.0},
    "derivatives": {"BTC/USDT:USDT": {"mark": 58020.0, "funding_rate": 0.0001}},
}

PERP = '\n[[derivatives]]\nsymbol = "BTC/USDT:USDT"\namount = -0.1\nentry_price = 57000.0\n'
CALL = "BTC/USDT:USDT-261225-70000-C"

Edit = Callable[[str], str]


def _replace(old: str, new: str) -> Edit:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def _append(extra: str) -> Edit:
    return lambda text: text + extra


def _market(**changes: Any) -> dict[str, Any]:
    market = json.loads(json.dumps(MARKET))
    for key, value in changes.items():
        if value is None:
            market.pop(key)
        else:
            market[key] = value
    return market


def _write(
    folder: Path,
    portfolio: str = PORTFOLIO,
    policy: str = POLICY,
    market: dict[str, Any] | str = MARKET,
    market_name: str = "market.json",
) -> tuple[Path, Path, Path]:
    paths = folder / "portfolio.toml", folder / "policy.toml", folder / market_name
    paths[0].write_text(portfolio, encoding="utf-8")
    paths[1].write_text(policy, encoding="utf-8")
    paths[2].write_text(market if isinstance(market, str) else json.dumps(market), encoding="utf-8")
    return paths


# (case id, portfolio edit, policy edit, market document, expected "file: field" prefix)
CASES: list[tuple[str, Edit | None, Edit | None, dict[str, Any] | str | None, str]] = [
    # malformed documents
    ("policy-malformed-toml", None, _append("[[class]\n"), None, "policy.toml: is not valid TOML"),
    ("market-malformed-json", None, None, '{"prices": ', "market.json: is not valid JSON"),
    ("market-top-level-list", None, None, "[1, 2]", "market.json: must hold"),
    (
        "market-json-nan-literal",
        None,
        None,
        '{"timestamp": "2026-11-21T00:00:00Z", "prices": {"BTC": NaN}}',
        "market.json: is not valid JSON",
    ),
    (
        "market-json-repeated-key",
        None,
        None,
        '{"timestamp": "2026-11-21T00:00:00Z", "prices": {"BTC": 58000.0, "BTC": 1.0}}',
        "market.json: is not valid JSON (the key 'BTC' appears twice in one object)",
    ),
    # unknown keys at every level
    ("portfolio-unknown-top", lambda t: 'colour = "blue"\n' + t, None, None, "portfolio.toml: colour: unknown key"),
    (
        "portfolio-unknown-spot",
        _replace("amount = 0.8", "amount = 0.8\nfee = 1"),
        None,
        None,
        "portfolio.toml: spot[0].fee: unknown key",
    ),
    (
        "portfolio-unknown-derivative",
        _append(PERP + "margin = 1\n"),
        None,
        None,
        "portfolio.toml: derivatives[0].margin: unknown key",
    ),
    (
        "policy-unknown-top",
        None,
        _replace('base_currency = "USDT"', 'base_currency = "USDT"\nname = "x"'),
        None,
        "policy.toml: name: unknown key",
    ),
    (
        "policy-unknown-class",
        None,
        _replace('name = "ETH"', 'name = "ETH"\ncolour = "blue"'),
        None,
        "policy.toml: class[1].colour: unknown key",
    ),
    (
        "policy-unknown-trigger",
        None,
        _replace('kind = "threshold"', 'kind = "threshold"\nwhen = 1'),
        None,
        "policy.toml: trigger.when: unknown key",
    ),
    (
        "policy-unknown-adaptive",
        None,
        _replace('kind = "threshold"', 'kind = "threshold"\nadaptive = { reference_vol = 0.6, speed = 2 }'),
        None,
        "policy.toml: trigger.adaptive.speed: unknown key",
    ),
    (
        "policy-unknown-nested-trigger",
        None,
        _replace('kind = "threshold"', 'kind = "any"\nof = [{ kind = "threshold" }, { kind = "threshold", x = 1 }]'),
        None,
        "policy.toml: trigger.of[1].x: unknown key",
    ),
    (
        "policy-unknown-rebalance",
        None,
        _replace('scope = "all"', 'scope = "all"\nspeed = 1'),
        None,
        "policy.toml: rebalance.speed: unknown key",
    ),
    (
        "policy-unknown-costs",
        None,
        _replace("taker_fee = 0.001", "taker_fee = 0.001\nrebate = 1"),
        None,
        "policy.toml: costs.rebate: unknown key",
    ),
    (
        "policy-unknown-strategy",
        None,
        _append('[strategy]\nkind = "cppi"\nmultiplier = 3\nfloor = 0.8\nx = 1\n'),
        None,
        "policy.toml: strategy.x: unknown key",
    ),
    (
        "policy-python-name-classes",
        None,
        lambda t: t.replace("[[class]]", "[[classes]]"),
        None,
        "policy.toml: classes: unknown key",
    ),
    ("market-unknown-top", None, None, _market(source="binance"), "market.json: source: unknown key"),
    (
        "market-unknown-quote",
        None,
        None,
        _market(derivatives={"BTC/USDT:USDT": {"mark": 1.0, "bid": 2}}),
        'market.json: derivatives."BTC/USDT:USDT".bid: unknown key',
    ),
    (
        "market-unknown-rules",
        None,
        None,
        _market(markets={"BTC/USDT": {"tick": 0.1}}),
        'market.json: markets."BTC/USDT".tick: unknown key',
    ),
    (
        "misspelt-key-gets-a-suggestion",
        None,
        _replace("taker_fee = 0.001", "taker_fees = 0.001"),
        None,
        "policy.toml: costs.taker_fees: unknown key (did you mean 'taker_fee'?)",
    ),
    # targets
    (
        "targets-not-summing-to-1",
        None,
        _replace("target = 0.40", "target = 0.45"),
        None,
        "policy.toml: class: targets must sum to 1",
    ),
    (
        "target-above-1",
        None,
        _replace("target = 0.40", "target = 1.4"),
        None,
        "policy.toml: class[0].target: must be between 0 and 1",
    ),
    (
        "target-negative",
        None,
        _replace("target = 0.30\nband = 0.03\nweights", "target = -0.3\nband = 0.03\nweights"),
        None,
        "policy.toml: class[1].target: must be between 0 and 1",
    ),
    ("target-nan", None, _replace("target = 0.40", "target = nan"), None, "policy.toml: class[0].target: must be a"),
    (
        "target-string",
        None,
        _replace("target = 0.40", 'target = "0.40"'),
        None,
        "policy.toml: class[0].target: must be a number",
    ),
    (
        "target-bool",
        None,
        _replace("target = 0.40", "target = true"),
        None,
        "policy.toml: class[0].target: must be a number",
    ),
    # numbers that make no sense
    (
        "spot-amount-negative",
        _replace("amount = 0.8", "amount = -0.8"),
        None,
        None,
        "portfolio.toml: spot[0].amount: must be at least 0",
    ),
    (
        "spot-amount-nan",
        _replace("amount = 0.8", "amount = nan"),
        None,
        None,
        "portfolio.toml: spot[0].amount: must be a finite number",
    ),
    (
        "spot-amount-inf",
        _replace("amount = 9.0", "amount = inf"),
        None,
        None,
        "portfolio.toml: spot[1].amount: must be a finite number",
    ),
    (
        "spot-amount-bool",
        _replace("amount = 0.8", "amount = true"),
        None,
        None,
        "portfolio.toml: spot[0].amount: must be a number",
    ),
    (
        "derivative-amount-zero",
        _append(PERP.replace("-0.1", "0.0")),
        None,
        None,
        "portfolio.toml: derivatives[0].amount: must not be zero",
    ),
    (
        "derivative-amount-nan",
        _append(PERP.replace("-0.1", "nan")),
        None,
        None,
        "portfolio.toml: derivatives[0].amount: must be a finite number",
    ),
    (
        "entry-price-zero",
        _append(PERP.replace("57000.0", "0.0")),
        None,
        None,
        "portfolio.toml: derivatives[0].entry_price: must be at least 1e-15",
    ),
    (
        "entry-price-inf",
        _append(PERP.replace("57000.0", "inf")),
        None,
        None,
        "portfolio.toml: derivatives[0].entry_price: must be a finite number",
    ),
    (
        "entry-price-missing-perp",
        _append(PERP.replace("entry_price = 57000.0\n", "")),
        None,
        None,
        "portfolio.toml: derivatives[0]: entry_price: required",
    ),
    (
        "leverage-zero",
        _append(PERP + "leverage = 0\n"),
        None,
        None,
        "portfolio.toml: derivatives[0].leverage: must be greater than 0",
    ),
    (
        "leverage-negative",
        _append(PERP + "leverage = -3\n"),
        None,
        None,
        "portfolio.toml: derivatives[0].leverage: must be greater than 0",
    ),
    (
        "leverage-nan",
        _append(PERP + "leverage = nan\n"),
        None,
        None,
        "portfolio.toml: derivatives[0].leverage: must be a finite number",
    ),
    ("price-zero", None, None, _market(prices={"BTC": 0.0, "ETH": 3000.0}), "market.json: prices.BTC: must be at"),
    (
        "price-negative",
        None,
        None,
        _market(prices={"BTC": 58000.0, "ETH": -3.0}),
        "market.json: prices.ETH: must be at least 1e-15",
    ),
    (
        "price-overflowing",
        None,
        None,
        '{"timestamp": "2026-11-21T00:00:00Z", "prices": {"BTC": 1e999}}',
        "market.json: prices.BTC: must be a finite number",
    ),
    (
        "price-absurdly-small",
        None,
        None,
        _market(prices={"BTC": 1e-300, "ETH": 3000.0}),
        "market.json: prices.BTC: must be at least 1e-15",
    ),
    (
        "mark-absurdly-large",
        None,
        None,
        _market(derivatives={"BTC/USDT:USDT": {"mark": 1e20}}),
        'market.json: derivatives."BTC/USDT:USDT".mark: must be at most 1e+15',
    ),
    (
        "price-string",
        None,
        None,
        _market(prices={"BTC": "58000", "ETH": 3000.0}),
        "market.json: prices.BTC: must be a number",
    ),
    (
        "mark-zero",
        None,
        None,
        _market(derivatives={"BTC/USDT:USDT": {"mark": 0.0}}),
        'market.json: derivatives."BTC/USDT:USDT".mark: must be at least 1e-15',
    ),
    (
        "iv-negative",
        None,
        None,
        _market(derivatives={CALL: {"mark": 1450.0, "iv": -0.5}}),
        f'market.json: derivatives."{CALL}".iv: must be greater than 0',
    ),
    ("volatility-zero", None, None, _market(volatility={"BTC": 0.0}), "market.json: volatility.BTC: must be greater"),
    (
        "rules-negative-step",
        None,
        None,
        _market(markets={"BTC/USDT": {"amount_step": -1.0}}),
        'market.json: markets."BTC/USDT".amount_step: must be at least 0',
    ),
    (
        "contract-size-zero",
        None,
        None,
        _market(markets={"BTC/USDT:USDT": {"contract_size": 0.0}}),
        'market.json: markets."BTC/USDT:USDT".contract_size: must be greater than 0',
    ),
    ("band-zero", None, _replace("band = 0.04", "band = 0.0"), None, "policy.toml: class[0].band: must be between"),
    ("band-nan", None, _replace("band = 0.04", "band = nan"), None, "policy.toml: class[0].band: must be a finite"),
    (
        "band-relative-above-1",
        None,
        _replace("band = 0.04", "band_relative = 1.5"),
        None,
        "policy.toml: class[0].band_relative: must be between",
    ),
    ("weights-zero", None, _replace("ETH = 1.0", "ETH = 0.0"), None, "policy.toml: class[1]: weights: must be"),
    ("weights-inf", None, _replace("ETH = 1.0", "ETH = inf"), None, "policy.toml: class[1].weights.ETH: must be a"),
    (
        "taker-fee-negative",
        None,
        _replace("taker_fee = 0.001", "taker_fee = -0.001"),
        None,
        "policy.toml: costs.taker_fee: must be at least 0",
    ),
    (
        "taker-fee-nan",
        None,
        _replace("taker_fee = 0.001", "taker_fee = nan"),
        None,
        "policy.toml: costs.taker_fee: must be a finite number",
    ),
    (
        "slippage-inf",
        None,
        _replace("taker_fee = 0.001", "slippage_bps = inf"),
        None,
        "policy.toml: costs.slippage_bps: must be a finite number",
    ),
    (
        "max-leverage-zero",
        None,
        _replace("max_leverage = 3.0", "max_leverage = 0.0"),
        None,
        "policy.toml: rebalance.max_leverage: must be greater than 0",
    ),
    (
        "max-leverage-inf",
        None,
        _replace("max_leverage = 3.0", "max_leverage = inf"),
        None,
        "policy.toml: rebalance.max_leverage: must be a finite number",
    ),
    (
        "min-notional-negative",
        None,
        _replace("min_notional = 10.0", "min_notional = -1.0"),
        None,
        "policy.toml: rebalance.min_notional: must be at least 0",
    ),
    (
        "hedge-leverage-zero",
        None,
        _replace("max_leverage = 3.0", "max_leverage = 3.0\nhedge_leverage = 0.0"),
        None,
        "policy.toml: rebalance.hedge_leverage: must be greater than 0",
    ),
    (
        "adaptive-reference-vol-zero",
        None,
        _replace('kind = "threshold"', 'kind = "threshold"\nadaptive = { reference_vol = 0.0 }'),
        None,
        "policy.toml: trigger.adaptive.reference_vol: must be greater than 0",
    ),
    (
        "cppi-floor-nan",
        None,
        _append('[strategy]\nkind = "cppi"\nmultiplier = 3\nfloor = nan\n'),
        None,
        "policy.toml: strategy.floor: must be a finite number",
    ),
    (
        "delta-target-absurd",
        None,
        _append('[strategy]\nkind = "delta-target"\ndeltas = { BTC = 1e300 }\n'),
        None,
        "policy.toml: strategy.deltas.BTC: a net delta of",
    ),
    # cross-file and structural rules
    ("held-asset-without-price", None, None, _market(prices={"BTC": 58000.0}), "market.json: prices.ETH: missing"),
    (
        "held-asset-in-no-class",
        _append('\n[[spot]]\nasset = "DOGE"\namount = 5.0\n'),
        None,
        None,
        "portfolio.toml: spot[3].asset: DOGE belongs to no class",
    ),
    (
        "two-cash-classes",
        None,
        _replace('name = "ETH"', 'name = "ETH"\ncash = true'),
        None,
        "policy.toml: class: exactly one class must have cash = true (found 2)",
    ),
    (
        "no-cash-class",
        None,
        _replace("cash = true", ""),
        None,
        "policy.toml: class: exactly one class must have cash = true (found 0)",
    ),
    (
        "unknown-trigger-kind",
        None,
        _replace('kind = "threshold"', 'kind = "lunar"'),
        None,
        "policy.toml: trigger.kind: must be one of",
    ),
    (
        "calendar-without-every",
        None,
        _replace('kind = "threshold"', 'kind = "calendar"'),
        None,
        "policy.toml: trigger: a calendar trigger needs 'every'",
    ),
    (
        "hybrid-bad-every",
        None,
        _replace('kind = "threshold"', 'kind = "hybrid"\nevery = "soon"'),
        None,
        "policy.toml: trigger.every: 'soon' is not a duration",
    ),
    (
        "band-and-band-relative",
        None,
        _replace("band = 0.04", "band = 0.04\nband_relative = 0.1"),
        None,
        "policy.toml: class[0]: give exactly one of 'band' and 'band_relative'",
    ),
    (
        "neither-band",
        None,
        _replace("band = 0.04\n", ""),
        None,
        "policy.toml: class[0]: give exactly one of 'band' and 'band_relative'",
    ),
    (
        "unknown-strategy-kind",
        None,
        _append('[strategy]\nkind = "moon"\n'),
        None,
        "policy.toml: strategy: is not a known kind",
    ),
    (
        "cppi-risky-class-without-price",
        _replace('[[spot]]\nasset = "ETH"\namount = 9.0\n\n', ""),
        lambda t: (
            t.replace("target = 0.40", "target = 0.70").replace(
                "target = 0.30\nband = 0.03\nweights", "target = 0.0\nband = 0.03\nweights"
            )
            + '[strategy]\nkind = "cppi"\nmultiplier = 3\nfloor = 0.8\n'
        ),
        _market(prices={"BTC": 58000.0}),
        "market.json: prices.ETH: missing (policy.toml class[1] may buy it)",
    ),
    (
        "derivative-without-quote",
        _append(PERP.replace("BTC/USDT:USDT", "ETH/USDT:USDT")),
        None,
        None,
        'market.json: derivatives."ETH/USDT:USDT": missing',
    ),
    (
        "option-without-iv",
        _append(f'\n[[derivatives]]\nsymbol = "{CALL}"\namount = 1.0\n'),
        None,
        _market(derivatives={CALL: {"mark": 1450.0}}),
        f'market.json: derivatives."{CALL}".iv: required for an option',
    ),
    (
        "spot-symbol-as-derivative",
        _append(PERP.replace("BTC/USDT:USDT", "BTC/USDT")),
        None,
        None,
        "portfolio.toml: derivatives[0].symbol: 'BTC/USDT' is spot",
    ),
    (
        "spot-symbol-in-market-derivatives",
        None,
        None,
        _market(derivatives={"ETH/USDT": {"mark": 3000.0}}),
        'market.json: derivatives."ETH/USDT": is a spot market',
    ),
    (
        "bad-symbol",
        _append(PERP.replace("BTC/USDT:USDT", "BTC-PERP")),
        None,
        None,
        "portfolio.toml: derivatives[0].symbol: 'BTC-PERP' is not a ccxt unified symbol",
    ),
    (
        "hedge-missing-from-market-under-perp",
        None,
        _replace('instrument = "spot"', 'instrument = "perp"'),
        _market(derivatives={}),
        'market.json: derivatives."BTC/USDT:USDT": missing (policy.toml class[0].hedge',
    ),
    (
        "one-hedge-for-two-classes",
        None,
        lambda t: t.replace('hedge = "BTC/USDT:USDT"', 'hedge = "IDX/USDT:USDT"').replace(
            "weights = { ETH = 1.0 }", 'weights = { ETH = 1.0 }\nhedge = "IDX/USDT:USDT"'
        ),
        None,
        "policy.toml: class[1].hedge: IDX/USDT:USDT is already the hedge of class 'BTC'",
    ),
    (
        "hedge-of-another-class-asset",
        None,
        _replace("weights = { ETH = 1.0 }", 'weights = { ETH = 1.0 }\nhedge = "BTC/USDC:USDC"'),
        None,
        "policy.toml: class[1].hedge: BTC/USDC:USDC counts toward class 'BTC' (it lists BTC), not 'ETH'",
    ),
    (
        "base-currencies-differ",
        _replace('base_currency = "USDT"', 'base_currency = "USDC"'),
        None,
        None,
        "portfolio.toml: base_currency: 'USDC' differs from policy.toml's 'USDT'",
    ),
    (
        "base-price-not-1",
        None,
        None,
        _market(prices={"BTC": 58000.0, "ETH": 3000.0, "USDT": 1.01}),
        "market.json: prices.USDT: the base currency's own price must be 1",
    ),
    ("timestamp-missing", None, None, _market(timestamp=None), "market.json: timestamp: required but missing"),
    ("timestamp-garbage", None, None, _market(timestamp="yesterday"), "market.json: timestamp: 'yesterday' is not"),
    ("timestamp-number", None, None, _market(timestamp=1700000000), "market.json: timestamp: must be a time"),
    (
        "empty-portfolio",
        lambda t: 'base_currency = "USDT"\n',
        None,
        None,
        "portfolio.toml: its equity at market.json's prices is 0",
    ),
    (
        "overflowing-values",
        _replace("amount = 0.8", "amount = 1e305"),
        None,
        None,
        "portfolio.toml: spot[0].amount: must be at most 1e+15",
    ),
]


@pytest.mark.parametrize(
    ("portfolio_edit", "policy_edit", "market", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_input_names_file_and_field(
    tmp_path: Path,
    portfolio_edit: Edit | None,
    policy_edit: Edit | None,
    market: dict[str, Any] | str | None,
    expected: str,
) -> None:
    paths = _write(
        tmp_path,
        portfolio=portfolio_edit(PORTFOLIO) if portfolio_edit else PORTFOLIO,
        policy=policy_edit(POLICY) if policy_edit else POLICY,
        market=MARKET if market is None else market,
    )
    with pytest.raises(BadInputError) as caught:
        load_plan_inputs(*paths)
    message = str(caught.value)
    assert message.startswith(expected), message
    assert len(message.splitlines()) == 1, message


def test_the_unedited_documents_load(tmp_path: Path) -> None:
    inputs = load_plan_inputs(*_write(tmp_path))
    assert inputs.portfolio.spot_amount("BTC") == 0.8
    assert inputs.market.prices["ETH"] == 3000.0
    assert [c.name for c in inputs.policy.classes] == ["BTC", "ETH", "STABLE"]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    portfolio, policy, _ = _write(tmp_path)
    with pytest.raises(BadInputError, match=r"^nowhere\.json: no such file$"):
        load_plan_inputs(portfolio, policy, tmp_path / "nowhere.json")


def test_a_wrong_suffix_is_refused(tmp_path: Path) -> None:
    portfolio, policy, _ = _write(tmp_path)
    other = tmp_path / "market.yaml"
    other.write_text("prices: {}\n", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"^market\.yaml: must end in \.toml or \.json$"):
        load_plan_inputs(portfolio, policy, other)


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    portfolio, _, market = _write(tmp_path)
    folder = tmp_path / "policy.toml.d.toml"
    folder.mkdir()
    with pytest.raises(BadInputError, match="is a folder"):
        load_plan_inputs(portfolio, folder, market)


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    portfolio, policy, market = _write(tmp_path)
    policy.write_bytes(b'base_currency = "\xff\xfe"\n')
    with pytest.raises(BadInputError, match=r"^policy\.toml: is not UTF-8 text$"):
        load_plan_inputs(portfolio, policy, market)


def test_market_may_be_toml_with_a_native_datetime(tmp_path: Path) -> None:
    toml = "timestamp = 2026-11-21T06:00:00+02:00\n[prices]\nBTC = 58000.0\nETH = 3000.0\n"
    inputs = load_plan_inputs(*_write(tmp_path, market=toml, market_name="market.toml"))
    assert inputs.market.timestamp.isoformat() == "2026-11-21T04:00:00+00:00"


def test_a_date_without_time_is_refused(tmp_path: Path) -> None:
    toml = "timestamp = 2026-11-21\n[prices]\nBTC = 58000.0\nETH = 3000.0\n"
    with pytest.raises(BadInputError, match=r"^market\.toml: timestamp: .*a date without a time"):
        load_plan_inputs(*_write(tmp_path, market=toml, market_name="market.toml"))


def test_asset_codes_are_upper_cased_and_may_not_repeat(tmp_path: Path) -> None:
    market = _market(prices={"btc": 58000.0, "ETH": 3000.0})
    inputs = load_plan_inputs(*_write(tmp_path, market=market))
    assert inputs.market.prices["BTC"] == 58000.0
    twice = _market(prices={"btc": 58000.0, "BTC": 58000.0, "ETH": 3000.0})
    with pytest.raises(BadInputError, match=r"^market\.json: prices\.BTC: repeats 'btc'"):
        load_plan_inputs(*_write(tmp_path, market=twice))


@pytest.mark.parametrize(
    ("portfolio_edit", "policy_edit", "market", "expected"),
    [
        pytest.param(
            _replace('asset = "BTC"', 'asset = "B TC"'),
            None,
            None,
            "portfolio.toml: spot[0].asset: 'B TC' is not an",
            id="asset-with-space",
        ),
        pytest.param(
            None,
            _replace('assets = ["BTC"]', 'assets = ["B\\nTC"]'),
            None,
            "policy.toml: class[0].assets[0]: 'B\\nTC'",
            id="policy-asset-newline",
        ),
        pytest.param(
            None,
            None,
            _market(prices={"BTC": 1.0, "ETH": 1.0, "E\nX": 1.0}),
            'market.json: prices."E\\nX": ',
            id="price-key-newline",
        ),
        pytest.param(
            None,
            None,
            _market(derivatives={"BTC/USDT:USDT ": {"mark": 1.0}}),
            'market.json: derivatives."BTC/USDT:USDT ": a symbol',
            id="symbol-with-space",
        ),
        pytest.param(
            _replace('asset = "BTC"', 'asset = "BTC"\n"\\u2028" = 1'),
            None,
            None,
            'portfolio.toml: spot[0]."\\u2028": unknown key',
            id="unknown-key-line-separator",
        ),
        pytest.param(
            None,
            _replace('name = "ETH"', 'name = "ET\\nH"'),
            None,
            "policy.toml: class[1].name: 'ET\\nH' must be printable",
            id="class-name-newline",
        ),
    ],
)
def test_messages_stay_on_one_line_whatever_the_keys(
    tmp_path: Path,
    portfolio_edit: Edit | None,
    policy_edit: Edit | None,
    market: dict[str, Any] | None,
    expected: str,
) -> None:
    paths = _write(
        tmp_path,
        portfolio=portfolio_edit(PORTFOLIO) if portfolio_edit else PORTFOLIO,
        policy=policy_edit(POLICY) if policy_edit else POLICY,
        market=MARKET if market is None else market,
    )
    with pytest.raises(BadInputError) as caught:
        load_plan_inputs(*paths)
    message = str(caught.value)
    assert message.startswith(expected), message
    assert len(message.splitlines()) == 1, message
