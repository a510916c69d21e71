"""The fake's V5 answers for its state: orders, executions, positions and the unified wallet.

Field names and string formatting follow the recorded real answers in ``tests/data/recorded/bybit/``.
"""

from __future__ import annotations

from typing import Any

from trimtab.testing.fake_bybit.engine import (
    LINEAR_MAKER,
    LINEAR_TAKER,
    OPEN_STATUSES,
    SPOT_MAKER,
    SPOT_TAKER,
    BybitEngine,
    Execution,
    Order,
)


def num(value: float) -> str:
    return f"{value:.10f}".rstrip("0").rstrip(".") if value else "0"


def order_entry(order: Order) -> dict[str, Any]:
    is_open = order.status in OPEN_STATUSES
    left = order.qty - order.filled
    return {
        "symbol": order.market.symbol,
        "orderType": order.order_type,
        "orderLinkId": order.link_id,
        "orderId": order.order_id,
        "cancelType": _cancel_type(order),
        "avgPrice": num(order.value / order.filled) if order.filled else "",
        "orderStatus": order.status,
        "createType": "CreateByUser",
        "cumExecValue": num(order.value),
        "cumExecFee": num(order.fee),
        "cumFeeDetail": {order.fee_coin: num(order.fee)} if order.fee else {},
        "rejectReason": order.reject_reason,
        "price": num(order.price or 0.0),
        "createdTime": str(order.created_ms),
        "updatedTime": str(order.updated_ms),
        "positionIdx": "0",
        "timeInForce": order.time_in_force,
        "leavesValue": num(left * (order.price or 0.0)) if is_open else "0",
        "leavesQty": num(left) if is_open else "0",
        "side": order.side,
        "cumExecQty": num(order.filled),
        "reduceOnly": order.reduce_only,
        "qty": num(order.qty),
        "triggerPrice": "",
        "takeProfit": "",
        "stopLoss": "",
        "stopOrderType": "",
    }


def _cancel_type(order: Order) -> str:
    """``CancelByUser`` for a cancel request; an order the matching engine cancelled (a post-only that would
    take) says why in ``rejectReason`` instead."""
    by_user = order.status in ("Cancelled", "PartiallyFilledCanceled") and order.reject_reason == "EC_NoError"
    return "CancelByUser" if by_user else "UNKNOWN"


def execution_entry(execution: Execution) -> dict[str, Any]:
    order = execution.order
    if order.market.category == "spot":
        rate = SPOT_MAKER if execution.is_maker else SPOT_TAKER
    else:
        rate = LINEAR_MAKER if execution.is_maker else LINEAR_TAKER
    return {
        "symbol": order.market.symbol,
        "orderType": order.order_type,
        "orderLinkId": order.link_id,
        "orderId": order.order_id,
        "execTime": str(execution.time_ms),
        "feeRate": num(rate),
        "feeCurrency": execution.fee_coin,
        "execPrice": num(execution.price),
        "orderQty": num(order.qty),
        "orderPrice": num(order.price or 0.0),
        "execValue": num(execution.qty * execution.price),
        "execType": "Trade",
        "side": order.side,
        "leavesQty": num(order.qty - order.filled),
        "isMaker": execution.is_maker,
        "execFee": num(execution.fee),
        "execId": execution.exec_id,
        "execQty": num(execution.qty),
    }


def position_entries(engine: BybitEngine, symbol: str | None) -> list[dict[str, Any]]:
    entries = []
    for (category, name), market in engine.markets.items():
        position = engine.positions.get(name)
        if category != "linear" or (symbol and name != symbol) or position is None or not position.size:
            continue
        leverage = engine.leverage.get(name, 10.0)
        value = abs(position.size) * market.price
        entries.append(
            {
                "positionIdx": 0,
                "riskId": 1,
                "riskLimitValue": "2000000",
                "symbol": name,
                "side": "Buy" if position.size > 0 else "Sell",
                "size": num(abs(position.size)),
                "avgPrice": num(position.entry),
                "positionValue": num(abs(position.size) * position.entry),
                "tradeMode": 0,
                "positionStatus": "Normal",
                "autoAddMargin": 0,
                "adlRankIndicator": 2,
                "leverage": num(leverage),
                "positionBalance": num(value / leverage),
                "markPrice": num(market.price),
                "liqPrice": "",
                "bustPrice": "",
                "positionMM": num(value * 0.005),
                "positionIM": num(value / leverage),
                "tpslMode": "Full",
                "takeProfit": "",
                "stopLoss": "",
                "trailingStop": "0",
                "unrealisedPnl": num(engine.unrealised(name)),
                "cumRealisedPnl": "0",
                "seq": 1,
                "isReduceOnly": False,
                "createdTime": "1677168085779",
                "updatedTime": str(engine.now_ms()),
            }
        )
    return entries


def wallet_balance(engine: BybitEngine) -> dict[str, Any]:
    """``GET /v5/account/wallet-balance?accountType=UNIFIED``: one account, every coin collateral."""
    coins = []
    for coin, balance in sorted(engine.wallet.items()):
        upl = sum(engine.unrealised(s) for (c, s), m in engine.markets.items() if c == "linear" and m.quote == coin)
        coins.append(
            {
                "coin": coin,
                "walletBalance": num(balance),
                "equity": num(balance + upl),
                "unrealisedPnl": num(upl),
                "totalPositionIM": num(engine.initial_margin(coin)),
                "totalOrderIM": "0",
                "locked": num(engine.locked(coin)),
                "borrowAmount": "0",
                "availableToWithdraw": "",
                "marginCollateral": True,
                "collateralSwitch": True,
            }
        )
    return {"list": [{"accountType": "UNIFIED", "coin": coins}]}
