"""Products with numpy's names: matmul, dot, vdot, inner, outer, tensordot, einsum, kron, cross, convolve
and correlate.

``einsum`` is one primitive. The others are the compositions numpy itself computes them by, so they cost
what numpy's do: ``tensordot`` (and ``dot`` and ``inner`` beyond matrices, which it serves) is a
transpose, a reshape to a matrix product and a reshape back, as in ``numpy.tensordot``; ``outer`` and
``kron`` are a broadcast ``multiply`` and a reshape, as ``numpy.outer`` and ``numpy.kron`` are; ``cross``
is numpy's six products of components and three differences. ``convolve`` and ``correlate`` (1-d) are
the ``convolve`` primitive (:mod:`catterms.prims.signal`), with the longer operand first as numpy puts it,
and for ``correlate`` the other reversed, as ``numpy.convolve`` is ``numpy.correlate`` reversed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import TraceError
from ._arith import multiply, subtract
from ._shapes import flip, reshape, transpose
from ._wrap import apply, binary, constant, is_traced, operand_type

__all__ = ["convolve", "correlate", "cross", "dot", "einsum", "inner", "kron", "matmul", "outer", "tensordot", "vdot"]

matmul = binary("matmul", floats=False)


def _axes(name: str, axes: Any, ndim: int) -> list[int]:
    out = [axes] if isinstance(axes, int) else list(axes)
    for a in out:
        if not -ndim <= a < ndim:
            raise TraceError(f"cnp.{name}: axis {a} is out of range for an array of {ndim} axes")
    return [a % ndim for a in out]


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """Sum products over ``axes``: an int ``N`` (the last ``N`` of ``a`` with the first ``N`` of ``b``) or a
    pair of axis lists, as ``numpy.tensordot``."""
    sa, sb = operand_type(a).shape, operand_type(b).shape
    if isinstance(axes, int):
        if not 0 <= axes <= min(len(sa), len(sb)):
            raise TraceError(f"cnp.tensordot: axes={axes} is more than the {min(len(sa), len(sb))} axes shared")
        ia, ib = list(range(len(sa) - axes, len(sa))), list(range(axes))
    else:
        try:
            xa, xb = axes
        except (TypeError, ValueError):
            raise TraceError("cnp.tensordot: axes is an int or a pair of axis lists, e.g. ([1], [0])") from None
        ia, ib = _axes("tensordot", xa, len(sa)), _axes("tensordot", xb, len(sb))
    if len(ia) != len(ib) or any(sa[i] != sb[j] for i, j in zip(ia, ib)):
        raise TraceError(f"cnp.tensordot: the summed axes of shapes {sa} and {sb} do not match")
    keep_a = [i for i in range(len(sa)) if i not in ia]
    keep_b = [j for j in range(len(sb)) if j not in ib]
    k = math.prod(sa[i] for i in ia)
    left = reshape(transpose(a, keep_a + ia), (math.prod(sa[i] for i in keep_a), k))
    right = reshape(transpose(b, ib + keep_b), (k, math.prod(sb[j] for j in keep_b)))
    return reshape(matmul(left, right), tuple(sa[i] for i in keep_a) + tuple(sb[j] for j in keep_b))


def dot(a: Any, b: Any) -> Any:
    """numpy's ``dot``: a product with a scalar, a matrix product, or the sum over the last axis of ``a``
    and the second-to-last of ``b`` (the last, for a vector ``b``)."""
    na, nb = operand_type(a).ndim, operand_type(b).ndim
    if na == 0 or nb == 0:
        return multiply(a, b)
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    return tensordot(a, b, ([na - 1], [max(nb - 2, 0)]))


def inner(a: Any, b: Any) -> Any:
    """numpy's ``inner``: the sum over the last axes of ``a`` and ``b`` (a product with a scalar)."""
    na, nb = operand_type(a).ndim, operand_type(b).ndim
    if na == 0 or nb == 0:
        return multiply(a, b)
    return tensordot(a, b, ([na - 1], [nb - 1]))


def vdot(a: Any, b: Any) -> Any:
    """numpy's ``vdot`` for real arrays: the dot product of both flattened."""
    return matmul(reshape(a, (operand_type(a).size,)), reshape(b, (operand_type(b).size,)))


def outer(a: Any, b: Any) -> Any:
    """numpy's ``outer``: ``a.ravel()[:, None] * b.ravel()[None, :]``."""
    return multiply(reshape(a, (operand_type(a).size, 1)), reshape(b, (1, operand_type(b).size)))


def kron(a: Any, b: Any) -> Any:
    """numpy's ``kron``: block ``(i, j)`` is ``a[i, j] * b``, for any ranks (the shorter padded in front)."""
    sa, sb = operand_type(a).shape, operand_type(b).shape
    if not sa or not sb:
        return multiply(a, b)
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    spread = multiply(reshape(a, tuple(d for s in sa for d in (s, 1))),
                      reshape(b, tuple(d for s in sb for d in (1, s))))
    return reshape(spread, tuple(p * q for p, q in zip(sa, sb)))


def _component(x: Any, i: int) -> Any:
    return apply("index", (x,), idx=(Ellipsis, i))


def _to_last(x: Any, axis: int, name: str) -> Any:
    nd = operand_type(x).ndim
    ax = _axes("cross", axis, nd)[0]
    if operand_type(x).shape[ax] != 3:
        raise TraceError(f"cnp.cross: the {name} vectors have {operand_type(x).shape[ax]} components; cross needs 3 "
                         "(numpy 2 deprecates 2-vectors: append a zero third component)")
    return transpose(x, [i for i in range(nd) if i != ax] + [ax])


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None) -> Any:
    """numpy's ``cross`` of 3-vectors along ``axisa``/``axisb`` (or ``axis``), the result's along ``axisc``."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _to_last(a, axisa, "first"), _to_last(b, axisb, "second")
    x = [_component(a, i) for i in range(3)]
    y = [_component(b, i) for i in range(3)]
    parts = [subtract(multiply(x[(i + 1) % 3], y[(i + 2) % 3]), multiply(x[(i + 2) % 3], y[(i + 1) % 3]))
             for i in range(3)]
    return apply("stack", tuple(parts), axis=_axes("cross", axisc, operand_type(parts[0]).ndim + 1)[0])


def _interleaved(args: tuple) -> tuple[str, tuple]:
    """numpy's other spelling, ``einsum(a, [0, 1], b, [1, 2], [0, 2])``, as subscripts and operands."""
    def letters(sub: Any) -> str:
        try:
            return "".join("..." if k is Ellipsis else "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[k]
                           for k in sub)
        except (TypeError, IndexError):
            raise TraceError(f"cnp.einsum: a sublist holds integers 0–51 or ..., got {sub!r}") from None

    pairs, output = (args[:-1], args[-1]) if len(args) % 2 else (args, None)
    lhs = ",".join(letters(sub) for sub in pairs[1::2])
    return (lhs if output is None else f"{lhs}->{letters(output)}"), pairs[0::2]


def einsum(subscripts: Any, *operands: Any, out: None = None, dtype: None = None, order: str = "K",
           casting: str = "safe", optimize: Any = False) -> Any:
    """numpy's ``einsum`` with subscripts (explicit or implicit, with ``...``) and any number of operands, or
    in the interleaved form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``. The primitive picks its own evaluation
    order (``optimize`` is accepted and needs no setting); ``out``, ``dtype``, ``order`` and ``casting`` keep
    numpy's defaults."""
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved((subscripts, *operands))
    if (out, dtype, order, casting) != (None, None, "K", "safe"):
        raise TraceError("cnp.einsum: out, dtype, order and casting keep numpy's defaults; convert the result "
                         "with .astype instead")
    if not operands:
        raise TraceError("cnp.einsum needs at least one operand")
    if len(operands) == 1:
        # a term has no 1-tuples: one operand is contracted with the scalar 1 of its dtype (same result, one call)
        lhs, arrow, rhs = subscripts.partition("->")
        subscripts = lhs + "," + arrow + rhs
        operands = (operands[0], np.ones((), operand_type(operands[0]).dtype))
    return apply("einsum", tuple(x if is_traced(x) else constant(x) for x in operands), subscripts=subscripts)


_MODES = {"v": "valid", "s": "same", "f": "full", 0: "valid", 1: "same", 2: "full"}


def _signal(name: str, a: Any, v: Any, mode: Any) -> tuple[Any, Any, str, bool]:
    """numpy's operands as 1-d arrays (a scalar as one element), its mode's name (any spelling numpy reads:
    a name by its first letter, or 0/1/2), and whether ``v`` is the longer, which numpy puts first."""
    key = mode.lower()[:1] if isinstance(mode, str) else mode
    if isinstance(key, bool) or key not in _MODES:
        raise TraceError(f"cnp.{name}: mode is 'full', 'same' or 'valid', got {mode!r}")
    a, v = (reshape(x, (1,)) if operand_type(x).ndim == 0 else x for x in (a, v))
    if operand_type(a).ndim != 1 or operand_type(v).ndim != 1:
        raise TraceError(f"cnp.{name} takes 1-d arrays, got shapes {operand_type(a).shape} and "
                         f"{operand_type(v).shape}; for N-d arrays use catterms.scipy.signal.{name}")
    return a, v, _MODES[key], operand_type(v).shape[0] > operand_type(a).shape[0]


def convolve(a: Any, v: Any, mode: str = "full") -> Any:
    """numpy's discrete linear convolution of two 1-d arrays (``same``: the longer one's length)."""
    a, v, mode, swap = _signal("convolve", a, v, mode)
    return apply("convolve", (v, a) if swap else (a, v), mode=mode)


def correlate(a: Any, v: Any, mode: str = "valid") -> Any:
    """numpy's cross-correlation of two 1-d real arrays, ``z[k] = Σₙ a[n + k] v[n]``; when ``v`` is the
    longer, numpy correlates it with ``a`` and reverses the result."""
    a, v, mode, swap = _signal("correlate", a, v, mode)
    if swap:
        return flip(apply("convolve", (v, flip(a)), mode=mode))
    return apply("convolve", (a, flip(v)), mode=mode)
