"""The README's main policy (examples/policy.toml) on the bundled history, against a reference loop written here.

The loop follows the contract alone: the capital is invested at the first shared close into every asset's
``target x split`` (paying the 0.1 % taker fee on a price 5 bp worse); at each later close, when any class (the cash
class included) is outside its band, the band-edge goal is the weights closest to the current ones at which every
class sits inside its band after the rebalance's fees and slippage (paid from the cash): each class clamped into its
band, then, if the cash remainder is still outside its band, the gap spread evenly over the classes with room, for
the bands the weights must meet before a cost that is itself the goals' (solved by bisection). A class trades only
its net change, on the assets that move with it (never past their split of the goal); orders under ``min_notional``
are dropped; a sale fills 5 bp below the close and a purchase 5 bp above, each paying the taker fee from the cash.
Tracking error is the root mean square over bars of each class's distance from its target, after the bar's trades.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import os
import tomllib
from pathlib import Path

import pytest

from trimtab.testing.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data" / "market"
MAIN = REPO / "examples" / "policy.toml"

# class -> (split of its assets, target, half-width), as examples/policy.toml writes them; USDT is the cash class.
CLASSES = {
    "BTC": ({"BTC": 1.0}, 0.40, 0.04),
    "ETH": ({"ETH": 1.0}, 0.30, 0.03),
    "ALTS": ({"SOL": 0.5, "BNB": 0.5}, 0.15, 0.02),
}
CASH_TARGET, CASH_BAND = 0.15, 0.03
FEE, SLIPPAGE, MIN_NOTIONAL, CAPITAL = 0.0010, 5.0 / 1e4, 10.0, 100_000.0


def closes(asset: str) -> dict[str, float]:
    with gzip.open(DATA / f"spot_{asset}-USDT_1d.csv.gz", "rt", newline="") as stream:
        return {row["timestamp"]: float(row["close"]) for row in csv.DictReader(stream)}


def goals_for_cost(weights: dict[str, float], cost: float) -> dict[str, float]:
    """The band-edge goals when the trades will cost ``cost`` (a fraction of the equity before them).

    After trades costing ``c x E``, paid from cash, a class whose goal is ``g`` (a fraction of the equity before
    them) weighs ``g / (1 - c)`` and the cash class ``(remainder - c) / (1 - c)``: a class is inside its band
    ``[lo, hi]`` when ``lo (1 - c) <= g <= hi (1 - c)``, the cash class when its remainder lies in
    ``[lo + c (1 - lo), hi + c (1 - hi)]``.
    """
    kept = 1.0 - cost
    goals = {
        name: min(max(weights[name], (target - half) * kept), (target + half) * kept)
        for name, (_, target, half) in CLASSES.items()
    }
    low, high = CASH_TARGET - CASH_BAND, CASH_TARGET + CASH_BAND
    low, high = low + cost * (1.0 - low), high + cost * (1.0 - high)
    cash = 1.0 - sum(goals.values())
    if low <= cash <= high:
        return goals
    direction = 1.0 if cash > high else -1.0  # too much cash: the other classes grow
    gap = cash - high if cash > high else low - cash
    room = {name: (CLASSES[name][1] + direction * CLASSES[name][2]) * kept - goals[name] for name in goals}
    while gap > 1e-15 and any(direction * r > 1e-15 for r in room.values()):
        open_classes = [name for name in room if direction * room[name] > 1e-15]
        step = min(gap / len(open_classes), *(abs(room[name]) for name in open_classes))
        for name in open_classes:
            goals[name] += direction * step
            room[name] -= direction * step
        gap -= step * len(open_classes)
    return goals


def band_edge_goals(weights: dict[str, float]) -> dict[str, float]:
    """The goals at which every class sits inside its band after the trades' fees and slippage.

    The trades to goals ``g`` cost ``c(g) = (fee + slippage) x sum |g - w|`` of the equity; the goals must be those
    for the cost they incur: ``c`` solves ``c = cost of goals_for_cost(c)``, found by bisection (the cost grows
    with ``c`` far slower than ``c`` does, so there is one root, between 0 and twice the rate).
    """

    def spent(cost: float) -> float:
        goals = goals_for_cost(weights, cost)
        return (FEE + SLIPPAGE) * sum(abs(goals[name] - weights[name]) for name in goals)

    low, high = 0.0, 2.0 * (FEE + SLIPPAGE)
    for _ in range(200):
        middle = 0.5 * (low + high)
        if spent(middle) > middle:
            low = middle
        else:
            high = middle
    return goals_for_cost(weights, high)


def class_orders(
    name: str, goal: float, equity: float, held: dict[str, float], price: dict[str, float]
) -> list[tuple[str, float]]:
    """(asset, signed amount) moving class ``name`` to ``goal``: its net change, on the assets moving with it."""
    split = CLASSES[name][0]
    changes = {asset: share * goal * equity - held[asset] * price[asset] for asset, share in split.items()}
    total = sum(changes.values())
    along = {asset: change for asset, change in changes.items() if change * total > 0}
    orders = []
    for asset, change in along.items():
        scaled = change * total / sum(along.values())
        amount = min(-scaled / price[asset], held[asset]) if scaled < 0 else scaled / price[asset]
        if abs(scaled) > 1e-9 * equity and amount * price[asset] >= MIN_NOTIONAL:
            orders.append((asset, math.copysign(amount, scaled)))
    return orders


def reference() -> dict[str, float]:
    assets = [asset for split, _, _ in CLASSES.values() for asset in split]
    prices = {asset: closes(asset) for asset in assets}
    bars = sorted(set.intersection(*(set(series) for series in prices.values())))
    held = dict.fromkeys(assets, 0.0)
    book = {"cash": CAPITAL, "fees": 0.0, "slippage": 0.0}

    def fill(asset: str, amount: float, close: float) -> None:  # amount > 0 buys, < 0 sells
        price = close * (1.0 + SLIPPAGE) if amount > 0 else close * (1.0 - SLIPPAGE)
        held[asset] += amount
        book["cash"] -= amount * price + FEE * abs(amount) * price
        book["fees"] += FEE * abs(amount) * price
        book["slippage"] += abs(amount) * close * SLIPPAGE

    def weights(price: dict[str, float]) -> tuple[float, dict[str, float]]:
        equity = book["cash"] + sum(held[asset] * price[asset] for asset in assets)
        return equity, {c: sum(held[a] * price[a] for a in split) / equity for c, (split, _, _) in CLASSES.items()}

    rebalances = 0
    distances: list[float] = []
    for index, bar in enumerate(bars):
        price = {asset: prices[asset][bar] for asset in assets}
        if index == 0:
            for split, target, _ in CLASSES.values():
                for asset, share in split.items():
                    fill(asset, target * share * CAPITAL / price[asset], price[asset])
        else:
            equity, now = weights(price)
            outside = abs(1.0 - sum(now.values()) - CASH_TARGET) > CASH_BAND
            if outside or any(abs(now[name] - target) > half for name, (_, target, half) in CLASSES.items()):
                orders = [
                    order for name, goal in band_edge_goals(now).items()
                    for order in class_orders(name, goal, equity, held, price)
                ]  # fmt: skip
                for asset, amount in orders:
                    fill(asset, amount, price[asset])
                rebalances += bool(orders)
        _, after = weights(price)
        distance = sum((after[name] - target) ** 2 for name, (_, target, _) in CLASSES.items())
        distances.append(distance + (1.0 - sum(after.values()) - CASH_TARGET) ** 2)
    return {
        "bars": len(bars),
        "final_equity": weights({asset: prices[asset][bars[-1]] for asset in assets})[0],
        "rebalances": rebalances,
        "fees": book["fees"],
        "slippage": book["slippage"],
        "tracking_error": math.sqrt(sum(distances) / len(distances)),
    }


def test_the_reference_reads_the_main_policy_as_it_is_written() -> None:
    policy = tomllib.loads(MAIN.read_text(encoding="utf-8"))
    classes = {c["name"]: c for c in policy["class"]}
    for name, (split, target, half) in CLASSES.items():
        assert (classes[name]["assets"], classes[name]["target"], classes[name]["band"]) == (list(split), target, half)
    assert classes["ALTS"]["weights"] == {"SOL": 0.5, "BNB": 0.5}
    cash = classes["STABLE"]
    assert (cash["assets"], cash["target"], cash["band"], cash["cash"]) == (["USDT"], CASH_TARGET, CASH_BAND, True)
    assert policy["trigger"] == {"kind": "threshold"}
    rebalance = policy["rebalance"]
    assert (rebalance["scope"], rebalance["to"], rebalance["instrument"]) == ("all", "band-edge", "spot")
    assert rebalance["min_notional"] == MIN_NOTIONAL
    assert (policy["costs"]["taker_fee"], policy["costs"]["slippage_bps"] / 1e4) == (FEE, SLIPPAGE)


def test_the_main_example_backtest_matches_the_reference_and_the_readme_quotes_it(tmp_path: Path) -> None:
    env = {**os.environ, "TRIMTAB_CACHE_DIR": str(tmp_path / "cache")}
    done = run_cli("backtest", "--policy", str(MAIN), "--data", str(DATA), "--format", "json", cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    expected = reference()
    assert document["bars"] == expected["bars"] == 2018
    assert document["rebalances"] == expected["rebalances"]
    for key in ("final_equity", "fees", "slippage", "tracking_error"):
        assert document[key] == pytest.approx(expected[key], rel=1e-9), key
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    quoted = (
        f"{document['bars']:,} daily bars, {document['start'][:10]} to {document['end'][:10]}",
        f"It ends at {expected['final_equity']:,.0f} USDT from 100,000 "
        f"(buy and hold: {document['benchmark']['final_equity']:,.0f}) after {expected['rebalances']} rebalances "
        f"and {expected['fees'] + expected['slippage']:,.0f} USDT of fees and slippage, "
        f"with a tracking error of {expected['tracking_error']:.2%}",
    )
    for text in quoted:
        assert text.replace("%", " %") in readme, text
