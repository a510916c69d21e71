"""The trade log of a backtest as columns: one array per field, a dict per fill only when read.

Both backtest paths fill the same columns: the kernel from its trade buffers in one step, the event
engine fill by fill (Python numbers appended to lists). Timestamps are formatted in one vectorised call
the first time a row is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def iso_times(nanoseconds: IntArray) -> list[str]:
    """ISO-8601 UTC texts with ``Z`` (``2024-01-02T00:00:00Z``; microseconds only where a time has them).

    The text of :meth:`datetime.isoformat` with ``+00:00`` written ``Z``, for a whole array at once.
    """
    micros = np.asarray(nanoseconds, dtype=np.int64) // 1000
    stamps = micros.astype("datetime64[us]")
    texts: list[str] = np.datetime_as_string(stamps, unit="s").tolist()
    fractional = np.flatnonzero(micros % 1_000_000 != 0)
    if fractional.size:
        precise = np.datetime_as_string(stamps[fractional], unit="us").tolist()
        for row, text in zip(fractional.tolist(), precise, strict=True):
            texts[row] = text
    return [f"{text}Z" for text in texts]


class TradeLog(Sequence[dict[str, Any]]):
    """Fills in columns; ``log[i]`` is the dict of fill ``i`` (the keys of :class:`BacktestResult.trades`).

    Parameters
    ----------
    times:
        Each fill's time, int64 ns (its bar's close), shape (N,).
    labels:
        Distinct ``(class, symbol, instrument)`` triples.
    label_index:
        Each fill's row in ``labels``, shape (N,).
    signed_amount, price, notional, fee, slippage:
        Each fill's signed amount (positive buys), fill price, notional, fee and slippage cost, shape (N,).
    """

    def __init__(
        self,
        times: IntArray,
        labels: Sequence[tuple[str, str, str]],
        label_index: IntArray,
        signed_amount: FloatArray,
        price: FloatArray,
        notional: FloatArray,
        fee: FloatArray,
        slippage: FloatArray,
    ) -> None:
        self.times = times
        self.labels = tuple(labels)
        self.label_index = label_index
        self.signed_amount = signed_amount
        self.price = price
        self.notional = notional
        self.fee = fee
        self.slippage = slippage
        self._texts: list[str] | None = None

    @classmethod
    def empty(cls) -> TradeLog:
        nothing = np.zeros(0)
        return cls(
            np.zeros(0, dtype=np.int64), (), np.zeros(0, dtype=np.int64), nothing, nothing, nothing, nothing, nothing
        )

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("trade index out of range")
        return self._row(index)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._row(i) for i in range(len(self)))

    def _row(self, i: int) -> dict[str, Any]:
        if self._texts is None:
            self._texts = iso_times(self.times)
        class_name, symbol, instrument = self.labels[int(self.label_index[i])]
        signed = float(self.signed_amount[i])
        return {
            "timestamp": self._texts[i],
            "class": class_name,
            "symbol": symbol,
            "instrument": instrument,
            "side": "buy" if signed > 0 else "sell",
            "amount": abs(signed),
            "price": float(self.price[i]),
            "notional": float(self.notional[i]),
            "fee": float(self.fee[i]),
            "slippage": float(self.slippage[i]),
        }


class TradeRecorder:
    """Collects fills one by one (the event engine) and hands them over as a :class:`TradeLog`."""

    def __init__(self) -> None:
        self._labels: dict[tuple[str, str, str], int] = {}
        self._rows: list[tuple[int, int, float, float, float, float, float]] = []

    def add(
        self,
        time_ns: int,
        label: tuple[str, str, str],
        signed_amount: float,
        price: float,
        notional: float,
        fee: float,
        slippage: float,
    ) -> None:
        index = self._labels.setdefault(label, len(self._labels))
        self._rows.append((time_ns, index, signed_amount, price, notional, fee, slippage))

    def log(self) -> TradeLog:
        if not self._rows:
            return TradeLog.empty()
        times, index, signed, price, notional, fee, slip = zip(*self._rows, strict=True)
        return TradeLog(
            np.array(times, dtype=np.int64),
            list(self._labels),
            np.array(index, dtype=np.int64),
            np.array(signed, dtype=np.float64),
            np.array(price, dtype=np.float64),
            np.array(notional, dtype=np.float64),
            np.array(fee, dtype=np.float64),
            np.array(slip, dtype=np.float64),
        )
