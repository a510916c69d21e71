"""What a valuation can work out once per (portfolio, classes) pair, before seeing any prices.

A backtest or the live loop values the same portfolio against the same classes at many snapshots.
Everything that does not depend on prices (which class each asset and derivative counts toward,
summed spot amounts, parsed instrument details) is gathered here once, so a
valuation only multiplies and adds. Layouts are memoised on the identity of the (immutable) inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from trimtab.domain.classes import AssetClass
from trimtab.domain.instruments import Instrument, InstrumentKind, OptionType
from trimtab.domain.portfolio import Portfolio

LINEAR = 0
INVERSE = 1
OPTION = 2

_CACHE_SIZE = 32
_OPTION = InstrumentKind.OPTION  # enum members are looked up once: attribute access on an enum class is slow
_PERP = InstrumentKind.PERP
_new = tuple.__new__  # builds a named tuple from a complete tuple, skipping keyword handling


class DerivativeLayout(NamedTuple):
    """One derivative position's price-independent facts.

    ``form`` is LINEAR, INVERSE or OPTION; ``venue`` the account holding the position. A named tuple,
    so that the valuation loop can unpack it in one step.
    ``underlying_symbol`` is the perpetual on the same pair, whose mark prices an option's underlying
    when the snapshot has no spot price for it.
    """

    instrument: Instrument
    symbol: str
    form: int
    perp: bool
    amount: float
    entry_price: float
    leverage: float
    long: bool
    class_index: int
    class_name: str
    base_asset: str
    quote_asset: str
    quote_is_base: bool
    venue: str
    strike: float
    option_type: OptionType | None
    expires_at: datetime | None
    underlying_symbol: str


@dataclass(frozen=True, slots=True)
class Layout:
    """The price-independent part of valuing ``portfolio`` against ``classes``.

    ``spot_assets``, ``spot_amounts`` and ``spot_class`` are parallel: each held asset (all venues
    together), its amount and the index of its class (the cash class for an asset in none; the index
    ``len(class_names)`` when there is no cash class either). ``cash_index`` is -1 without a cash class;
    ``sink_index`` is where the value of unclassified spot holdings goes.
    """

    base_currency: str
    class_names: tuple[str, ...]
    cash_index: int
    sink_index: int
    spot_assets: tuple[str, ...]
    spot_amounts: tuple[float, ...]
    spot_class: tuple[int, ...]
    holds_base: bool
    derivatives: tuple[DerivativeLayout, ...]


class ClassIndex(NamedTuple):
    """Where each asset and hedge symbol belongs among the policy's classes (indices into ``names``)."""

    names: tuple[str, ...]
    index_of_asset: dict[str, int]
    index_of_hedge: dict[str, int]
    cash_index: int
    sink_index: int


ClassKey = tuple[tuple[str, tuple[str, ...], str | None, bool], ...]

_cache: dict[tuple[int, int], tuple[Portfolio, ClassIndex, Layout]] = {}
_class_by_identity: dict[int, tuple[Sequence[AssetClass], ClassIndex]] = {}
_class_by_content: dict[ClassKey, ClassIndex] = {}


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    """Store ``value``, first dropping the oldest entry of a full memo (dicts keep insertion order)."""
    if len(memo) >= _CACHE_SIZE:
        # Tolerant of another thread evicting the same entry first.
        memo.pop(next(iter(memo), None), None)
    memo[key] = value


def layout_for(portfolio: Portfolio, classes: Sequence[AssetClass]) -> Layout:
    """The layout of ``portfolio`` against ``classes``, memoised while the portfolio is the same object.

    The classes are matched by content (names, assets, hedges, the cash flag, in order; see
    :func:`class_index_for`), so a policy that builds a fresh tuple of equal classes for every call still
    hits the memo. The memo holds its keys alive, so an id cannot be reused while it is cached.

    Raises
    ------
    ValueError
        If a derivative counts toward no class.
    """
    index = class_index_for(classes)
    key = (id(portfolio), id(index))
    hit = _cache.get(key)
    if hit is not None and hit[0] is portfolio and hit[1] is index:
        return hit[2]
    layout = _build(portfolio, index)
    _remember(_cache, key, (portfolio, index, layout))
    return layout


def class_index_for(classes: Sequence[AssetClass]) -> ClassIndex:
    """The class index of ``classes``, memoised; equal classes share one index.

    A tuple seen before is recognised by identity (no work); otherwise the classes are recognised by
    what valuation reads of them: each class's name, assets, hedge and cash flag, in order. A list is
    always matched by content, since it may have changed while keeping its identity.
    """
    is_tuple = type(classes) is tuple
    if is_tuple:
        hit = _class_by_identity.get(id(classes))
        if hit is not None and hit[0] is classes:
            return hit[1]
    content: ClassKey = tuple((c.name, tuple(c.assets), c.hedge, c.cash) for c in classes)
    index = _class_by_content.get(content)
    if index is None:
        index = build_class_index(classes)
        _remember(_class_by_content, content, index)
    if is_tuple:
        _remember(_class_by_identity, id(classes), (classes, index))
    return index


def build_class_index(classes: Sequence[AssetClass]) -> ClassIndex:
    """Work out the class index without the memo."""
    index_of_asset: dict[str, int] = {}
    index_of_hedge: dict[str, int] = {}
    cash_index = -1
    for index, c in enumerate(classes):
        for asset in c.assets:
            index_of_asset[asset] = index
        if c.cash:
            cash_index = index
        if c.hedge:
            index_of_hedge[c.hedge] = index
    names = tuple(c.name for c in classes)
    # An asset in no class is cash; without a cash class its value goes to a slot past the last class.
    sink = cash_index if cash_index >= 0 else len(names)
    return ClassIndex(names, index_of_asset, index_of_hedge, cash_index, sink)


def build_layout(portfolio: Portfolio, classes: Sequence[AssetClass]) -> Layout:
    """Work out the layout without the layout memo (the class index may still come from its own)."""
    return _build(portfolio, class_index_for(classes))


def _build(portfolio: Portfolio, index: ClassIndex) -> Layout:
    base = portfolio.base_currency
    names, index_of_asset, index_of_hedge, cash_index, sink = index
    totals = portfolio.spot_totals
    spot_assets = tuple(totals)
    spot_class = tuple(index_of_asset.get(asset, sink) for asset in spot_assets)

    derivatives = []
    for position in portfolio.derivatives:
        instrument = position.instrument
        symbol = instrument.symbol
        asset = instrument.base
        class_index = index_of_asset.get(asset, -1)
        if class_index < 0:
            class_index = index_of_hedge.get(symbol, -1)
            if class_index < 0:
                raise ValueError(f"{symbol} counts toward no class")
        amount = position.amount
        kind = instrument.kind
        # Only options need the expiry and the underlying's perpetual.
        strike = 0.0
        option_type: OptionType | None = None
        expires_at: datetime | None = None
        underlying_symbol = ""
        if kind is _OPTION:
            form = OPTION
            strike = instrument.strike or 0.0
            option_type = instrument.option_type
            expiry = instrument.expires_at
            expires_at = expiry.astimezone(UTC) if expiry is not None else None
            underlying_symbol = f"{asset}/{instrument.quote}:{instrument.settle}"
        else:
            form = INVERSE if instrument.is_inverse else LINEAR
        row = (
            instrument,
            symbol,
            form,
            kind is _PERP,
            amount,
            position.entry_price,
            position.leverage,
            amount > 0,
            class_index,
            names[class_index],
            asset,
            instrument.quote,
            instrument.quote == base,
            position.venue,
            strike,
            option_type,
            expires_at,
            underlying_symbol,
        )
        derivatives.append(_new(DerivativeLayout, row))
    return Layout(
        base_currency=base,
        class_names=names,
        cash_index=cash_index,
        sink_index=sink,
        spot_assets=spot_assets,
        spot_amounts=tuple(totals[a] for a in spot_assets),
        spot_class=spot_class,
        holds_base=base in totals,
        derivatives=tuple(derivatives),
    )
