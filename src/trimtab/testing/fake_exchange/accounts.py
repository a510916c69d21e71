"""The fake's Binance account answers: balances, positions, leverage, brackets, margin type and position mode.

Shapes follow the recorded real answers in ``tests/data/recorded/binance/``: USD-M ``/fapi/v3/positionRisk``
carries no ``leverage`` and no ``marginType`` (``/fapi/v1/symbolConfig`` has them), ``/fapi/v2/positionRisk``
and COIN-M ``/dapi/v1/positionRisk`` do. Liquidation prices and maintenance margins come from the market's
brackets (:mod:`~trimtab.testing.fake_exchange.futures`).
"""

from __future__ import annotations

from typing import Any

from trimtab.testing.fake_exchange import futures
from trimtab.testing.fake_exchange.answers import Params, num, required
from trimtab.testing.fake_exchange.brackets import as_json, max_size_at
from trimtab.testing.fake_exchange.engine import Engine, FakePosition, Family, MarketSpec
from trimtab.testing.fake_exchange.errors import ExchangeRejectError


def spot_account(engine: Engine, params: Params) -> Any:
    locked: dict[str, float] = {}
    for order in engine.open_orders("spot", None):
        spec = engine.market("spot", order.symbol)
        for asset in (spec.base, spec.quote):
            locked[asset] = locked.get(asset, 0.0) + engine._locked_by(order, asset)
    balances = [
        {"asset": asset, "free": num(total - locked.get(asset, 0.0)), "locked": num(locked.get(asset, 0.0))}
        for asset, total in sorted(engine.spot_balances.items())
    ]
    return {
        "makerCommission": 10,
        "takerCommission": 10,
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": True,
        "updateTime": engine.now_ms(),
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
    }


def _figures(engine: Engine, spec: MarketSpec, position: FakePosition) -> dict[str, float]:
    """Mark, PnL, margins and liquidation price of one position, in its margin asset."""
    mark = spec.mark_price
    asset = futures.margin_asset(spec)
    pnl = futures.unrealised(spec, position, mark)
    maintenance = futures.maintenance(spec, position, mark)
    initial = futures.initial_margin(spec, position, mark)
    if position.margin_type == "isolated":
        margin, others = futures.initial_margin(spec, position), 0.0
    else:
        margin = engine.wallet(spec.family).get(asset, 0.0)
        others = 0.0
        for (fam, other_id), other in engine.markets.items():
            held = engine.positions.get(other_id)
            if fam == spec.family and other_id != spec.id and held is not None and held.amount != 0:
                others += futures.unrealised(other, held, other.mark_price)
                others -= futures.maintenance(other, held, other.mark_price)
    liquidation = futures.liquidation_price(spec, position, margin, others)
    return {"mark": mark, "pnl": pnl, "maintenance": maintenance, "initial": initial, "liquidation": liquidation}


def _signed(value: float) -> str:
    return num(value) if value >= 0 else "-" + num(-value)


def _v3_row(engine: Engine, spec: MarketSpec, position: FakePosition) -> dict[str, Any]:
    """A ``/fapi/v3/positionRisk`` row, in the recorded answer's shape (no leverage, no margin type)."""
    f = _figures(engine, spec, position)
    notional = position.amount * f["mark"]
    isolated = f["initial"] if position.margin_type == "isolated" else 0.0
    return {
        "symbol": spec.id,
        "positionSide": "BOTH",
        "positionAmt": _signed(position.amount),
        "entryPrice": num(position.entry_price),
        "breakEvenPrice": num(position.entry_price),
        "markPrice": num(f["mark"]),
        "unRealizedProfit": f"{f['pnl']:.8f}",
        "liquidationPrice": f"{f['liquidation']:.8f}",
        "isolatedMargin": f"{isolated:.8f}",
        "notional": f"{notional:.8f}",
        "marginAsset": spec.quote,
        "isolatedWallet": f"{isolated:.8f}",
        "initialMargin": f"{f['initial']:.8f}",
        "maintMargin": f"{f['maintenance']:.8f}",
        "positionInitialMargin": f"{f['initial']:.8f}",
        "openOrderInitialMargin": "0",
        "adl": "1",
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": engine.now_ms(),
    }


def _leveraged_row(engine: Engine, spec: MarketSpec, position: FakePosition) -> dict[str, Any]:
    """A ``/fapi/v2/positionRisk`` or ``/dapi/v1/positionRisk`` row: these carry leverage and margin type."""
    f = _figures(engine, spec, position)
    row: dict[str, Any] = {
        "symbol": spec.id,
        "positionAmt": _signed(position.amount),
        "entryPrice": num(position.entry_price),
        "breakEvenPrice": num(position.entry_price),
        "markPrice": num(f["mark"]),
        "unRealizedProfit": f"{f['pnl']:.8f}",
        "liquidationPrice": f"{f['liquidation']:.8f}",
        "leverage": str(position.leverage),
        "marginType": position.margin_type,
        "isolatedMargin": f"{f['initial'] if position.margin_type == 'isolated' else 0.0:.8f}",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "isolatedWallet": "0",
        "updateTime": engine.now_ms(),
    }
    if spec.family == "coinm":
        row.update({"maxQty": "150", "notionalValue": f"{-futures.notional(spec, position.amount, f['mark']):.8f}"})
        if position.amount > 0:
            row["notionalValue"] = f"{futures.notional(spec, position.amount, f['mark']):.8f}"
    else:
        row.update({"maxNotionalValue": "1000000", "notional": f"{position.amount * f['mark']:.8f}"})
    return row


def _held(engine: Engine, family: Family, params: Params) -> list[tuple[MarketSpec, FakePosition]]:
    wanted = params.get("symbol")
    return [
        (spec, engine.positions.setdefault(symbol_id, FakePosition()))
        for (fam, symbol_id), spec in engine.markets.items()
        if fam == family and wanted in (None, symbol_id)
    ]


def position_risk_v3(engine: Engine, params: Params) -> Any:
    """USD-M V3: only symbols with a position or an open order are listed, as Binance documents."""
    rows = []
    for spec, position in _held(engine, "usdm", params):
        if position.amount != 0 or engine.open_orders("usdm", spec.id):
            rows.append(_v3_row(engine, spec, position))
    return rows


def position_risk_v2(engine: Engine, params: Params) -> Any:
    return [_leveraged_row(engine, spec, position) for spec, position in _held(engine, "usdm", params)]


def coinm_position_risk(engine: Engine, params: Params) -> Any:
    return [_leveraged_row(engine, spec, position) for spec, position in _held(engine, "coinm", params)]


def symbol_config(engine: Engine, params: Params) -> Any:
    """``GET /fapi/v1/symbolConfig``: leverage and margin type per USD-M symbol."""
    return [
        {
            "symbol": spec.id,
            "marginType": "CROSSED" if position.margin_type == "cross" else "ISOLATED",
            "isAutoAddMargin": False,
            "leverage": position.leverage,
            "maxNotionalValue": num(_max_notional(spec, position.leverage)),
        }
        for spec, position in _held(engine, "usdm", params)
    ]


def _max_notional(spec: MarketSpec, leverage: int) -> float:
    return max_size_at(spec.brackets, leverage)


def _asset_rows(engine: Engine, family: Family) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    positions = [(spec, p) for spec, p in _held(engine, family, {}) if p.amount != 0]
    assets = []
    for asset, wallet in sorted(engine.wallet(family).items()):
        mine = [(s, p) for s, p in positions if futures.margin_asset(s) == asset]
        pnl = sum(futures.unrealised(s, p, s.mark_price) for s, p in mine)
        initial = sum(futures.initial_margin(s, p, s.mark_price) for s, p in mine)
        maintenance = sum(futures.maintenance(s, p, s.mark_price) for s, p in mine)
        assets.append(
            {
                "asset": asset,
                "walletBalance": f"{wallet:.8f}",
                "unrealizedProfit": f"{pnl:.8f}",
                "marginBalance": f"{wallet + pnl:.8f}",
                "maintMargin": f"{maintenance:.8f}",
                "initialMargin": f"{initial:.8f}",
                "positionInitialMargin": f"{initial:.8f}",
                "openOrderInitialMargin": "0.00000000",
                "crossWalletBalance": f"{wallet:.8f}",
                "crossUnPnl": f"{pnl:.8f}",
                "availableBalance": f"{wallet + pnl - initial:.8f}",
                "maxWithdrawAmount": f"{max(wallet - initial, 0.0):.8f}",
                "updateTime": engine.now_ms(),
            }
        )
    rows = []
    for spec, p in positions:
        f = _figures(engine, spec, p)
        row = {
            "symbol": spec.id,
            "positionSide": "BOTH",
            "positionAmt": _signed(p.amount),
            "unrealizedProfit": f"{f['pnl']:.8f}",
            "isolatedMargin": "0",
            "isolatedWallet": "0",
            "initialMargin": f"{f['initial']:.8f}",
            "maintMargin": f"{f['maintenance']:.8f}",
            "updateTime": engine.now_ms(),
        }
        if family == "coinm":  # the COIN-M account lists each position's leverage and margin type
            row.update({"leverage": str(p.leverage), "isolated": p.margin_type == "isolated"})
            row["entryPrice"] = num(p.entry_price)
        else:
            row["notional"] = f"{p.amount * f['mark']:.8f}"
        rows.append(row)
    return assets, rows


def futures_account(family: Family) -> Any:
    def handler(engine: Engine, params: Params) -> Any:
        assets, positions = _asset_rows(engine, family)
        answer: dict[str, Any] = {"canTrade": True, "canDeposit": True, "canWithdraw": True, "updateTime": 0}
        answer.update({"assets": assets, "positions": positions})
        if family == "usdm":
            wallet = sum(float(a["walletBalance"]) for a in assets)
            pnl = sum(float(a["unrealizedProfit"]) for a in assets)
            initial = sum(float(a["initialMargin"]) for a in assets)
            answer.update(
                {
                    "totalWalletBalance": f"{wallet:.8f}",
                    "totalUnrealizedProfit": f"{pnl:.8f}",
                    "totalMarginBalance": f"{wallet + pnl:.8f}",
                    "totalInitialMargin": f"{initial:.8f}",
                    "availableBalance": f"{wallet + pnl - initial:.8f}",
                }
            )
        return answer

    return handler


def leverage_brackets(family: Family) -> Any:
    def handler(engine: Engine, params: Params) -> Any:
        coin = family == "coinm"
        return [
            {"symbol": spec.id, "brackets": as_json(spec.brackets, coin_margined=coin)}
            for spec, _ in _held(engine, family, params)
        ]

    return handler


def position_side_dual(engine: Engine, params: Params) -> Any:
    return {"dualSidePosition": engine.dual_side_position}


def set_leverage(family: Family) -> Any:
    def handler(engine: Engine, params: Params) -> Any:
        spec = engine.market(family, required(params, "symbol"))
        leverage = int(required(params, "leverage"))
        position = engine.positions.setdefault(spec.id, FakePosition())
        futures.check_leverage(spec, position, leverage)
        position.leverage = leverage
        key = "maxQty" if family == "coinm" else "maxNotionalValue"
        return {"leverage": leverage, key: num(_max_notional(spec, leverage)), "symbol": spec.id}

    return handler


def set_margin_type(family: Family) -> Any:
    def handler(engine: Engine, params: Params) -> Any:
        spec = engine.market(family, required(params, "symbol"))
        position = engine.positions.setdefault(spec.id, FakePosition())
        wanted = required(params, "marginType").lower()
        wanted = "cross" if wanted == "crossed" else wanted
        if position.margin_type == wanted:
            raise ExchangeRejectError(400, -4046, "No need to change margin type.")
        if position.amount != 0:
            raise ExchangeRejectError(400, -4048, "Margin type cannot be changed if there exists position.")
        position.margin_type = wanted
        return {"code": 200, "msg": "success"}

    return handler
