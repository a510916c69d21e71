"""Quotients that share a divisor at the cost of one division, to the last bit.

A division costs several times a multiplication, and the lockstep batch (:mod:`trimtab.backtest.kernel_lockstep`)
divides every class's value and the bar's change by the same equity. With ``y = 1 / b`` correctly rounded,
:func:`quotient` takes ``q = a x y`` and corrects it twice by the residual ``r = a - b x q`` (a fused
multiply-add), returning ``q + r x y`` rounded once. Markstein's theorem (P. Markstein, IBM J. Res. Dev.
34(1), 1990; J.-M. Muller et al., *Handbook of Floating-Point Arithmetic*, chapter 4) says that this last
step gives ``a / b`` correctly rounded, the very number the division gives, when ``y`` is within half an ulp
of ``1 / b`` and ``q`` within one ulp of ``a / b``. ``a x y`` rounded can be 1.5 ulps away (N. Brisebarre,
J.-M. Muller and S. K. Raina, *Accelerating correctly rounded floating-point division when the divisor is
known in advance*, IEEE Trans. Computers 53(8), 2004), so a first correction brings it within half an ulp
and a bit, which the theorem needs; the second is the theorem's. The residual must neither underflow nor overflow, so
it is used only where :func:`in_range` holds for the dividend and the divisor; elsewhere the caller
divides. ``tests/unit/backtest/test_kernel_divide.py`` checks it against the division on millions of pairs.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

SMALL = 2.0**-400
LARGE = 2.0**400
"""Magnitudes between which dividend and divisor keep every step of :func:`quotient` exact."""


@intrinsic
def fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
    """``a x b + c`` rounded once (LLVM's ``llvm.fma.f64``: one instruction where the CPU has FMA)."""
    signature = types.float64(types.float64, types.float64, types.float64)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        double = ir.DoubleType()
        function = builder.module.declare_intrinsic("llvm.fma", [double], ir.FunctionType(double, [double] * 3))
        return builder.call(function, args)

    return signature, codegen


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def quotient(a: float, b: float, inverse: float) -> float:
    """``a / b`` correctly rounded, given ``inverse = 1.0 / b`` (where :func:`in_range` holds)."""
    q = a * inverse  # within 1.5 ulps of a / b
    residual: float = fma(-q, b, a)  # type: ignore[call-arg]  # Numba supplies the typing context
    q = fma(residual, inverse, q)  # within 1 ulp: the theorem's premise
    residual = fma(-q, b, a)  # exact
    return fma(residual, inverse, q)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def in_range(a: float, b: float) -> bool:
    """Whether :func:`quotient` of ``a`` by ``b`` is exact: both finite, ``b`` and a non-zero ``a`` of
    magnitude between :data:`SMALL` and :data:`LARGE`."""
    size = abs(a)
    scale = abs(b)
    return ((a == 0.0) | ((size > SMALL) & (size < LARGE))) & (scale > SMALL) & (scale < LARGE)
