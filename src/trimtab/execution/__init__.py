"""Execution: legs, the pre-trade gate, order lifecycle with a journal, and execution algorithms."""

from trimtab.execution.config import ExecutionConfig, load_execution_config
from trimtab.execution.executor import ExecutionReport, Executor
from trimtab.execution.gate import GateContext, GateRefusedError, PreTradeGate
from trimtab.execution.ids import PREFIX, client_order_id, is_ours, new_plan_id
from trimtab.execution.legs import Leg, legs_from_trades
from trimtab.execution.tracker import OrderTracker

__all__ = [
    "PREFIX",
    "ExecutionConfig",
    "ExecutionReport",
    "Executor",
    "GateContext",
    "GateRefusedError",
    "Leg",
    "OrderTracker",
    "PreTradeGate",
    "client_order_id",
    "is_ours",
    "legs_from_trades",
    "load_execution_config",
    "new_plan_id",
]
