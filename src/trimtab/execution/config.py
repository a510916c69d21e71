"""Execution settings: the algorithm, its timing, the price collar and the pre-trade caps.

Read from an optional TOML or JSON file (``trimtab run --execution FILE``); every key has a safe default.
Caps are in the base currency; ``*_fraction`` caps are fractions of equity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from trimtab.loaders.files import read_document
from trimtab.loaders.validation import validate
from trimtab.policy.config import StrictModel


class ExecutionConfig(StrictModel):
    """How plans become orders, and the limits no order may pass.

    The last group are the run loop's guards: prices older than ``max_price_age_s`` or further than
    ``outlier_threshold`` from the median of the last ``price_median_window`` cycles pause a cycle; a
    position closer to liquidation than ``liquidation_buffer`` blocks new exposure and is cut by
    ``deleverage_fraction``; ``funding_switch`` replaces hedges whose funding costs more than a spot sale.
    """

    algo: Literal["market", "limit", "twap"] = "limit"
    limit_price: Literal["touch", "mid"] = "touch"
    chase_count: int = Field(default=3, ge=0, le=50)
    chase_interval_s: float = Field(default=5.0, ge=0)
    poll_interval_s: float = Field(default=1.0, ge=0)
    market_fallback: bool = True
    twap_threshold: float = Field(default=50_000.0, gt=0)
    twap_slice_notional: float = Field(default=25_000.0, gt=0)
    twap_max_slices: int = Field(default=12, ge=1, le=500)
    twap_window_s: float = Field(default=600.0, ge=0)
    max_slippage: float = Field(default=0.02, gt=0, lt=1)
    max_order_notional: float = Field(default=1_000_000.0, gt=0)
    max_order_fraction: float = Field(default=0.5, gt=0, le=10)
    max_cycle_orders: int = Field(default=60, ge=1)
    max_cycle_notional_fraction: float = Field(default=2.0, gt=0)
    max_day_orders: int = Field(default=500, ge=1)
    max_day_turnover: float = Field(default=4.0, gt=0)
    max_day_notional: float | None = Field(default=None, gt=0)
    resolve_attempts: int = Field(default=4, ge=1)
    resolve_backoff_s: float = Field(default=1.0, ge=0)
    lost_after_misses: int = Field(default=3, ge=1)
    lost_after_s: float = Field(default=90.0, ge=0)
    final_wait_s: float = Field(default=30.0, ge=0)
    allowed_symbols: list[str] | None = None
    max_price_age_s: float = Field(default=300.0, gt=0)
    outlier_threshold: float = Field(default=0.25, gt=0)
    price_median_window: int = Field(default=5, ge=3, le=100)
    liquidation_buffer: float = Field(default=0.10, ge=0, lt=1)
    deleverage_fraction: float = Field(default=0.5, gt=0, le=1)
    funding_switch: bool = True
    lock_lease_s: float = Field(default=30.0, ge=1.0, le=600.0)
    """How long the run's lease on its journal outlives its last renewal (renewed every fifth of it)."""


def load_execution_config(path: Path | str | None) -> ExecutionConfig:
    """The settings in ``path`` (None: the defaults); raises BadInputError naming file and field."""
    if path is None:
        return ExecutionConfig()
    return validate(ExecutionConfig, read_document(path), Path(path).name)
