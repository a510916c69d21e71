"""The fake's Binance account answers: balances, positions, leverage, margin type and position mode."""

from __future__ import annotations

from typing import Any

from trimtab.testing.fake_exchange.answers import Params, num, required
from trimtab.testing.fake_exchange.engine import Engine, ExchangeRejectError, FakePosition


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


def _position_row(engine: Engine, symbol_id: str, position: FakePosition) -> dict[str, Any]:
    spec = engine.market("usdm", symbol_id)
    pnl = position.amount * (spec.mark_price - position.entry_price)
    notional = position.amount * spec.mark_price
    liquidation = 0.0
    if position.amount != 0:
        # a rough isolated-style estimate: the price at which the initial margin is lost
        liquidation = max(
            position.entry_price * (1.0 - 1.0 / position.leverage * (1 if position.amount > 0 else -1)), 0.0
        )
    return {
        "symbol": symbol_id,
        "positionAmt": num(position.amount) if position.amount >= 0 else "-" + num(-position.amount),
        "entryPrice": num(position.entry_price),
        "breakEvenPrice": num(position.entry_price),
        "markPrice": num(spec.mark_price),
        "unRealizedProfit": f"{pnl:.8f}",
        "liquidationPrice": num(liquidation),
        "leverage": str(position.leverage),
        "maxNotionalValue": "1000000",
        "marginType": position.margin_type,
        "isolatedMargin": "0",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "notional": f"{notional:.8f}",
        "isolatedWallet": "0",
        "initialMargin": f"{abs(notional) / position.leverage:.8f}",
        "maintMargin": f"{abs(notional) * 0.004:.8f}",
        "updateTime": engine.now_ms(),
    }


def position_risk(engine: Engine, params: Params) -> Any:
    rows = []
    for (fam, symbol_id), _spec in engine.markets.items():
        if fam != "usdm" or params.get("symbol") not in (None, symbol_id):
            continue
        rows.append(_position_row(engine, symbol_id, engine.positions.setdefault(symbol_id, FakePosition())))
    return rows


def futures_account(engine: Engine, params: Params) -> Any:
    positions = [_position_row(engine, s, p) for s, p in engine.positions.items()]
    pnl = sum(float(p["unRealizedProfit"]) for p in positions)
    margin = sum(float(p["initialMargin"]) for p in positions)
    assets = []
    for asset, wallet in sorted(engine.futures_wallet.items()):
        assets.append(
            {
                "asset": asset,
                "walletBalance": num(wallet),
                "unrealizedProfit": f"{pnl:.8f}",
                "marginBalance": f"{wallet + pnl:.8f}",
                "maintMargin": "0",
                "initialMargin": f"{margin:.8f}",
                "positionInitialMargin": f"{margin:.8f}",
                "openOrderInitialMargin": "0",
                "crossWalletBalance": num(wallet),
                "crossUnPnl": f"{pnl:.8f}",
                "availableBalance": f"{wallet + pnl - margin:.8f}",
                "maxWithdrawAmount": f"{max(wallet - margin, 0.0):.8f}",
                "updateTime": engine.now_ms(),
            }
        )
    wallet_total = sum(engine.futures_wallet.values())
    return {
        "totalWalletBalance": num(wallet_total),
        "totalUnrealizedProfit": f"{pnl:.8f}",
        "totalMarginBalance": f"{wallet_total + pnl:.8f}",
        "availableBalance": f"{wallet_total + pnl - margin:.8f}",
        "canTrade": True,
        "assets": assets,
        "positions": positions,
    }


def leverage_brackets(engine: Engine, params: Params) -> Any:
    brackets = [
        {
            "bracket": 1,
            "initialLeverage": 125,
            "notionalCap": 10_000_000,
            "notionalFloor": 0,
            "maintMarginRatio": 0.004,
            "cum": 0.0,
        }
    ]
    return [{"symbol": spec.id, "brackets": brackets} for (fam, _), spec in engine.markets.items() if fam == "usdm"]


def position_side_dual(engine: Engine, params: Params) -> Any:
    return {"dualSidePosition": engine.dual_side_position}


def set_leverage(engine: Engine, params: Params) -> Any:
    symbol_id = required(params, "symbol")
    spec = engine.market("usdm", symbol_id)
    leverage = int(required(params, "leverage"))
    if not 1 <= leverage <= 125:
        raise ExchangeRejectError(400, -4028, "Leverage is not valid")
    engine.positions.setdefault(spec.id, FakePosition()).leverage = leverage
    return {"leverage": leverage, "maxNotionalValue": "1000000", "symbol": spec.id}


def set_margin_type(engine: Engine, params: Params) -> Any:
    position = engine.positions.setdefault(required(params, "symbol"), FakePosition())
    wanted = required(params, "marginType").lower()
    wanted = "cross" if wanted == "crossed" else wanted
    if position.margin_type == wanted:
        raise ExchangeRejectError(400, -4046, "No need to change margin type.")
    position.margin_type = wanted
    return {"code": 200, "msg": "success"}
