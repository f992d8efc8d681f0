"""``catterms.numpy.linalg``: numpy.linalg's names on traced arrays, for real matrices and stacks of them.

The decompositions and solves are primitives (:mod:`catterms.prims.decomp`, whose docstring gives the
conventions at degenerate points); ``norm``, ``matrix_power`` and ``multi_dot`` are the compositions
numpy computes them by. ``norm``'s derivative where it is not differentiable follows JAX: the 2-norm's
(and Frobenius norm's) derivative at 0 is NaN (``sqrt′(0) · 0``), the 1- and ∞-norms' take ``abs′(0) = 0``
and split ties of the max evenly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..errors import TraceError
from ._products import dot, matmul
from ._shapes import reshape
from ._wrap import apply, as_float, operand_type

__all__ = ["cholesky", "det", "eigh", "eigvalsh", "inv", "matrix_power", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "svd"]

# numpy's result types, field for field: ``w, v = eigh(a)`` and ``eigh(a).eigenvalues`` both work
class EighResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any
class SlogdetResult(NamedTuple):
    sign: Any
    logabsdet: Any
class SVDResult(NamedTuple):
    U: Any
    S: Any
    Vh: Any
class QRResult(NamedTuple):
    Q: Any
    R: Any


def inv(a: Any) -> Any:
    """The inverse of a matrix (or of each of a stack)."""
    return apply("inv", (as_float(a),))


def det(a: Any) -> Any:
    """The determinant of a matrix (or of each of a stack)."""
    return apply("det", (as_float(a),))


def slogdet(a: Any) -> tuple[Any, Any]:
    """``(sign, logabsdet)`` of the determinant; the sign has no derivative."""
    return SlogdetResult(*apply("slogdet", (as_float(a),)))


def solve(a: Any, b: Any) -> Any:
    """``x`` with ``a @ x = b``; as numpy 2, ``b`` is a vector only when it has one axis."""
    return apply("solve", (as_float(a), as_float(b)))


def pinv(a: Any, rcond: float | None = None, hermitian: bool = False) -> Any:
    """The Moore–Penrose pseudo-inverse (``rcond``: the relative cutoff for small singular values)."""
    if hermitian:
        raise TraceError("cnp.linalg.pinv: hermitian=True is not supported; leave it False (same result)")
    return apply("pinv", (as_float(a),), rcond=rcond)


def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    """The lower Cholesky factor ``L`` (``L @ L.T = a``, read from a's lower triangle), or with ``upper`` the
    upper factor ``U`` (``U.T @ U = a``, read from the upper triangle)."""
    return apply("cholesky", (as_float(a),), upper=upper)


def eigh(a: Any, UPLO: str = "L") -> tuple[Any, Any]:
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix, read from its UPLO triangle."""
    return EighResult(*apply("eigh", (as_float(a),), UPLO=UPLO))


def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) of a symmetric matrix, read from its UPLO triangle."""
    return apply("eigvalsh", (as_float(a),), UPLO=UPLO)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """``(U, S, Vh)`` with ``a = U @ diag(S) @ Vh``, or ``S`` alone without ``compute_uv``."""
    if hermitian:
        raise TraceError("cnp.linalg.svd: hermitian=True is not supported; leave it False (same singular values)")
    result = apply("svd", (as_float(a),), full_matrices=full_matrices, compute_uv=compute_uv)
    return SVDResult(*result) if compute_uv else result


def qr(a: Any, mode: str = "reduced") -> tuple[Any, Any]:
    """The reduced QR decomposition ``(Q, R)``."""
    if mode != "reduced":
        raise TraceError(f"cnp.linalg.qr: mode={mode!r} is not supported; use mode='reduced'")
    return QRResult(*apply("qr", (as_float(a),)))


def matrix_power(a: Any, n: int) -> Any:
    """``a`` multiplied by itself ``n`` times by repeated squaring, as numpy; a negative ``n`` inverts first."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TraceError(f"cnp.linalg.matrix_power: the exponent must be an integer constant, got {n!r}")
    shape = operand_type(a).shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise TraceError(f"cnp.linalg.matrix_power expects a square matrix or a stack of them, got shape {shape}")
    if n == 0:
        return apply("broadcast_to", (np.eye(shape[-1], dtype=operand_type(a).dtype),), shape=shape)
    base, n = (inv(a), -n) if n < 0 else (a, n)
    result = None
    while n:  # numpy's binary decomposition: the same products in the same order
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def multi_dot(arrays: Sequence[Any], *, out: None = None) -> Any:
    """The product of a sequence of matrices (the first and last may be vectors), in the order of fewest
    scalar multiplications, as numpy chooses it."""
    if out is not None:
        raise TraceError("cnp.linalg.multi_dot: out= is not supported (traced arrays are immutable)")
    parts = list(arrays)
    if len(parts) < 2:
        raise TraceError("cnp.linalg.multi_dot needs at least two arrays")
    first, last = operand_type(parts[0]).ndim, operand_type(parts[-1]).ndim
    if first == 1:
        parts[0] = reshape(parts[0], (1, operand_type(parts[0]).size))
    if last == 1:
        parts[-1] = reshape(parts[-1], (operand_type(parts[-1]).size, 1))
    dims = [operand_type(p).shape[0] for p in parts] + [operand_type(parts[-1]).shape[-1]]
    split = _chain_order(dims)

    def product(i: int, j: int) -> Any:
        return parts[i] if i == j else dot(product(i, split[i][j]), product(split[i][j] + 1, j))

    result = product(0, len(parts) - 1)
    if first == 1 and last == 1:
        return reshape(result, ())
    if first == 1 or last == 1:
        return reshape(result, (operand_type(result).size,))
    return result


def _chain_order(dims: list[int]) -> list[list[int]]:
    """The matrix-chain split points (Cormen et al. 15.2, as numpy's ``_multi_dot_matrix_chain_order``)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = -1
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] < 0 or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


# --- norm ---------------------------------------------------------------------------------------------------


def _sum(x: Any, axis: Any, keepdims: bool = False) -> Any:
    return apply("sum", (x,), axis=axis, keepdims=keepdims)


def _extreme(x: Any, axis: Any, largest: bool) -> Any:
    return apply("max" if largest else "min", (x,), axis=axis)


def _vector_norm(x: Any, ord: Any, axis: int) -> Any:
    if isinstance(ord, str):
        raise TraceError(f"cnp.linalg.norm: ord={ord!r} is a matrix norm; vectors take a number or ±inf")
    if ord is None or ord == 2:
        return apply("sqrt", (_sum(apply("pow", (x,), p=2.0), axis),))
    if ord == np.inf or ord == -np.inf:
        return _extreme(apply("abs", (x,)), axis, ord > 0)
    if ord == 0:
        return _sum(apply("astype", (apply("not_equal", (x, 0.0)),), dtype=operand_type(x).dtype), axis)
    if ord == 1:
        return _sum(apply("abs", (x,)), axis)
    return apply("pow", (_sum(apply("pow", (apply("abs", (x,)),), p=float(ord)), axis),), p=1 / float(ord))


def _matrix_norm(x: Any, ord: Any, row: int, col: int) -> Any:
    if ord is None or ord == "fro":
        return apply("sqrt", (_sum(apply("pow", (x,), p=2.0), (row, col)),))
    if ord in (2, -2, "nuc"):
        nd = operand_type(x).ndim
        rest = [i for i in range(nd) if i not in (row, col)]
        moved = apply("transpose", (x,), axes=tuple(rest + [row, col])) if [row, col] != [nd - 2, nd - 1] else x
        s = apply("svd", (moved,), full_matrices=True, compute_uv=False)
        return _sum(s, -1) if ord == "nuc" else _extreme(s, -1, ord > 0)
    if ord in (1, -1):
        return _extreme(_sum(apply("abs", (x,)), row), col - (col > row), ord > 0)
    if ord in (np.inf, -np.inf):
        return _extreme(_sum(apply("abs", (x,)), col), row - (row > col), ord > 0)
    raise TraceError(f"cnp.linalg.norm: ord={ord!r} is not a matrix norm; use None, 'fro', 'nuc', ±1, ±2 or ±inf")


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """numpy's vector and matrix norms of real arrays (``ord``, ``axis``, ``keepdims`` as numpy.linalg.norm)."""
    x = as_float(x)
    nd = operand_type(x).ndim
    if axis is None and ord is None:
        flat = reshape(x, (operand_type(x).size,))
        y = apply("sqrt", (matmul(flat, flat),))
        return reshape(y, (1,) * nd) if keepdims else y
    if axis is None:
        if nd not in (1, 2):
            raise TraceError(f"cnp.linalg.norm: ord={ord!r} of an array of {nd} axes needs axis= (one or two axes)")
        axis = tuple(range(nd))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis) if isinstance(axis, (tuple, list)) else ()
    if not 1 <= len(axes) <= 2 or any(not -nd <= a < nd for a in axes) or len({a % nd for a in axes}) != len(axes):
        raise TraceError(f"cnp.linalg.norm: axis={axis!r} must name one or two distinct axes of the {nd}")
    axes = tuple(int(a) % nd for a in axes)
    y = _vector_norm(x, ord, axes[0]) if len(axes) == 1 else _matrix_norm(x, ord, *axes)
    if keepdims:
        shape = operand_type(x).shape
        y = reshape(y, tuple(1 if i in axes else d for i, d in enumerate(shape)))
    return y
