"""``catterms.scipy.linalg``: scipy.linalg's names on traced arrays: ``solve_triangular``, ``sqrtm`` and
``solve_sylvester`` (primitives), ``cho_factor`` and ``cho_solve`` (compositions of ``cholesky`` and
``solve_triangular``, the same factorisation and the two triangular solves scipy's LAPACK calls make)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TraceError
from ..numpy._wrap import apply, as_float, operand_type

__all__ = ["cho_factor", "cho_solve", "solve_sylvester", "solve_triangular", "sqrtm"]


def solve_triangular(a: Any, b: Any, trans: int | str = 0, lower: bool = False, unit_diagonal: bool = False,
                     overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """``x`` with ``op(a) @ x = b``, reading the triangle of ``a`` that ``lower`` names (``trans``: 0/'N'
    for ``a``, 1/'T' or 2/'C' for its transpose; ``unit_diagonal`` takes the diagonal as ones).
    ``overwrite_b`` and ``check_finite`` change nothing here (arrays are never overwritten)."""
    return apply("solve_triangular", (as_float(a), as_float(b)), trans=trans, lower=lower, unit_diagonal=unit_diagonal)


def _triangle(shape: tuple[int, ...], dtype: Any, lower: bool) -> np.ndarray:
    n = shape[-1]
    return (np.tril(np.ones((n, n)), -1) if lower else np.triu(np.ones((n, n)), 1)).astype(dtype)


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Any, bool]:
    """``(c, lower)``: the Cholesky factor of ``a`` in the triangle ``lower`` names (read from that triangle of
    ``a``), and ``a``'s own entries in the other, as scipy leaves them."""
    a = as_float(a)
    t = operand_type(a)
    if t.ndim != 2:
        raise TraceError(f"catterms.scipy.linalg.cho_factor expects a matrix, got shape {t.shape}")
    factor = apply("cholesky", (a,), upper=not lower)
    rest = apply("mul", (a, _triangle(t.shape, t.dtype, not lower)))
    return apply("add", (factor, rest)), lower


def cho_solve(c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """``x`` with ``a @ x = b`` from ``cho_factor(a)``'s ``(c, lower)``: two triangular solves."""
    try:
        c, lower = c_and_lower
    except (TypeError, ValueError):
        raise TraceError("catterms.scipy.linalg.cho_solve takes (c, lower) as cho_factor returns it") from None
    if not isinstance(lower, (bool, np.bool_)):
        raise TraceError("catterms.scipy.linalg.cho_solve: lower must be a constant bool (cho_factor's second result)")
    c, lower = as_float(c), bool(lower)
    y = solve_triangular(c, b, trans=0 if lower else 1, lower=lower)
    return solve_triangular(c, y, trans=1 if lower else 0, lower=lower)


def sqrtm(A: Any, disp: bool = True, blocksize: int = 64) -> Any:
    """The principal square root ``X`` of a matrix (or a stack), ``X @ X = A``, real: a matrix with a negative
    real eigenvalue, whose root scipy returns as a complex array, is refused when evaluated (an
    :class:`~catterms.EvaluationError`). ``blocksize`` (deprecated in scipy) changes nothing here;
    ``disp=False`` (deprecated too: it adds an error estimate) is refused."""
    if disp is not True:
        raise TraceError("catterms.scipy.linalg.sqrtm: disp=False is not supported (scipy deprecates it); "
                         "estimate the error from the result, e.g. norm(X @ X - A)")
    return apply("sqrtm", (as_float(A),))


def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """``X`` with ``a @ X + X @ b = q`` (``a`` M×M, ``b`` N×N, ``q`` M×N, or stacks of equal batch shape)."""
    return apply("solve_sylvester", (as_float(a), as_float(b), as_float(q)))
