"""A policy's ``[costs]`` table (fees, slippage, funding horizon, margin yield) and its ``[tax]`` table."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from trimtab.domain.lots import LotMethod, TaxRules
from trimtab.policy.durations import parse_duration
from trimtab.policy.strict import StrictModel, check_duration


class FeeRates(StrictModel):
    """One instrument kind's fees: ``taker`` for orders that cross the book, ``maker`` for resting ones."""

    taker: float = Field(ge=0, lt=0.1)
    maker: float = Field(gt=-0.01, lt=0.1)


class FeesByKind(StrictModel):
    """``[costs.fees]``: fees per instrument kind, as exchanges charge them; a kind left out pays
    ``taker_fee`` / ``maker_fee``."""

    spot: FeeRates | None = None
    perp: FeeRates | None = None
    future: FeeRates | None = None
    option: FeeRates | None = None


class CostsConfig(StrictModel):
    """``[costs]``: the cost model the planner and the backtester share.

    ``fill`` is the liquidity an order is expected to take (a backtest charges it, a plan prices it):
    ``taker`` for market and TWAP execution, ``maker`` for limit execution, whose orders rest at the
    reference price (no slippage, the maker fee). ``slippage_model = "square-root"`` adds square-root
    impact on the bar's volume in backtests (``impact`` x the bar's volatility x sqrt(notional / volume)).
    """

    taker_fee: float = Field(default=0.0010, ge=0, lt=0.1)
    maker_fee: float = Field(default=0.0002, gt=-0.01, lt=0.1)
    slippage_bps: float = Field(default=5.0, ge=0, lt=10000)
    funding_horizon_days: float | Literal["auto"] = 7.0
    """How long ``auto`` expects a hedge to be held, in days: exactly this number, or ``"auto"``, estimated per
    class (the session's notional-weighted holding time of the class's own hedges, else the time the class's
    weight takes to drift across its band;
    :mod:`trimtab.planner.horizon`)."""
    fees: FeesByKind | None = None
    fill: Literal["taker", "maker"] = "taker"
    slippage_model: Literal["constant", "square-root"] = "constant"
    impact: float = Field(default=1.0, ge=0, le=100)
    margin_rate: float | None = Field(default=None, ge=0, le=1)
    """A year's return collateral could earn elsewhere; ``auto`` charges it on the margin a hedge ties up
    (None: 0, the contract's cost model, which counts fees, slippage, funding and tax only)."""
    liquidation_risk: bool = False
    """``auto`` also charges a hedge its expected liquidation loss over the holding time (false: the contract's
    cost model; liquidation risk is then only a constraint, the liquidation buffer a new hedge must clear)."""

    @field_validator("funding_horizon_days", mode="before")
    @classmethod
    def _horizon(cls, value: object) -> object:
        if isinstance(value, str) and value != "auto":
            raise ValueError(f'must be a number of days or "auto", not {value!r}')
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise ValueError("must be at least 0")
        return value

    @property
    def fixed_horizon_days(self) -> float | None:
        """:attr:`funding_horizon_days` when it is a number, None when it is ``"auto"``."""
        return None if self.funding_horizon_days == "auto" else float(self.funding_horizon_days)

    @property
    def margin_yield(self) -> float:
        """:attr:`margin_rate`, 0 when not set."""
        return 0.0 if self.margin_rate is None else self.margin_rate

    def fee_rate(self, kind: str, liquidity: str | None = None) -> float:
        """The fee rate of an order on an instrument ``kind`` (spot, perp, future, option) taking
        ``liquidity`` (``fill`` when not given)."""
        side = liquidity or self.fill
        rates = getattr(self.fees, kind, None) if self.fees is not None else None
        if rates is not None:
            return float(rates.taker if side == "taker" else rates.maker)
        return self.taker_fee if side == "taker" else self.maker_fee

    @property
    def fill_slippage(self) -> float:
        """The slippage fraction the expected fill pays: the policy's for a taker, none for a maker."""
        return self.slippage if self.fill == "taker" else 0.0

    @property
    def slippage(self) -> float:
        """Slippage as a fraction of notional."""
        return self.slippage_bps / 10000.0


class TaxConfig(StrictModel):
    """``[tax]``: how a sale picks its lots and the rates its realised gains pay."""

    method: Literal["fifo", "lifo", "hifo", "min-tax"] = "fifo"
    short_term_rate: float = Field(ge=0, le=1)
    long_term_rate: float = Field(ge=0, le=1)
    long_term_after: str = "365d"

    _long_term_after = field_validator("long_term_after")(check_duration)

    def rules(self) -> TaxRules:
        """The core's value for these settings."""
        return TaxRules(
            LotMethod(self.method), self.short_term_rate, self.long_term_rate, parse_duration(self.long_term_after)
        )
