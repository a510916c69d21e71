"""What each cycle's snapshot records besides the classes: leverage, funding and every position's liquidation."""

from __future__ import annotations

from typing import Any

from trimtab.valuation.model import Valuation


def risk_payload(valuation: Valuation) -> dict[str, Any]:
    """Leverage, funding and each derivative position's liquidation figures, for ``status`` and the dashboard."""
    return {
        "gross_leverage": valuation.gross_leverage,
        "net_leverage": valuation.net_leverage,
        "funding_per_day": valuation.funding_per_day,
        "min_liquidation_distance": valuation.min_liquidation_distance,
        "positions": [
            {
                "symbol": p.symbol,
                "class": p.class_name,
                "amount": p.amount,
                "mark": p.mark,
                "notional": p.notional,
                "delta_notional": p.delta_notional,
                "unrealised_pnl": p.unrealised_pnl,
                "leverage": p.leverage,
                "initial_margin": p.initial_margin,
                "liquidation_price": p.liquidation_price,
                "liquidation_distance": p.liquidation_distance,
            }
            for p in valuation.positions
        ],
    }
