"""Matrix products, with numpy's ``matmul`` semantics (1-d promotion, broadcast batch dimensions).

``matmul`` is bilinear, so its derivative at ``(a, b)`` is ``matmul_right b ▽ matmul_left a``, the
array analogue of ``mulC = scale b ▽ scale a``. The four linear maps below are transposes of each
other in pairs; their transposes sum over broadcast batch dimensions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TermTypeError
from ..types import Array, Type
from . import TABLE, Rule, register, want_arrays
from .structure import sum_to_shape


def _as_matrix(shape: tuple[int, ...], left: bool) -> tuple[int, ...]:
    """numpy's promotion of a 1-d operand: a row vector on the left, a column on the right."""
    if len(shape) > 1:
        return shape
    return (1,) + shape if left else shape + (1,)


def _product_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of ``C`` in ``C = A @ B`` before 1-d axes are dropped again."""
    A, B = _as_matrix(a, True), _as_matrix(b, False)
    return np.broadcast_shapes(A[:-2], B[:-2]) + (A[-2], B[-1])


def _matmul_type(dom: Type) -> Type:
    a, b = want_arrays("matmul", dom, 2)
    if a.ndim == 0 or b.ndim == 0:
        raise TermTypeError(f"matmul: operands must have at least one axis, got {a} and {b}")
    A, B = _as_matrix(a.shape, True), _as_matrix(b.shape, False)
    if A[-1] != B[-2]:
        raise TermTypeError(f"matmul: inner sizes of {a} and {b} differ ({A[-1]} ≠ {B[-2]})")
    try:
        shape = _product_shape(a.shape, b.shape)
    except ValueError:
        raise TermTypeError(f"matmul: batch dimensions of {a} and {b} do not broadcast") from None
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return Array(shape, np.result_type(a.dtype, b.dtype))


def _matmul_cost(dom: Type, cod: Type) -> float:
    a, b = dom
    A = _as_matrix(a.shape, True)
    return 2.0 * max(cod.size, 1) * A[-1]


def _matmul_deriv(lin: Any, x: tuple, y: Any) -> Any:
    a, b = x
    return lin.join([
        lin.linear(TABLE["matmul_right"], {"m": b, "shape": ()}, a.shape),
        lin.linear(TABLE["matmul_left"], {"m": a, "shape": ()}, b.shape),
    ])


register(Rule(
    "matmul", 2, np.matmul, _matmul_type, _matmul_cost, deriv=_matmul_deriv, blas=True,
    doc="matrix product a @ b with numpy's matmul rules",
))


def grad_left(c: Any, a_shape: tuple[int, ...], b: Any) -> Any:
    """``∂⟨c, a @ b⟩/∂a`` for ``a`` of shape ``a_shape``."""
    B = b if b.ndim > 1 else b[:, None]
    A = _as_matrix(a_shape, True)
    g = c.reshape(_product_shape(a_shape, b.shape)) @ np.swapaxes(B, -1, -2)
    return sum_to_shape(g, A).reshape(a_shape)


def grad_right(c: Any, a: Any, b_shape: tuple[int, ...]) -> Any:
    """``∂⟨c, a @ b⟩/∂b`` for ``b`` of shape ``b_shape``."""
    A = a if a.ndim > 1 else a[None, :]
    B = _as_matrix(b_shape, False)
    g = np.swapaxes(A, -1, -2) @ c.reshape(_product_shape(a.shape, b_shape))
    return sum_to_shape(g, B).reshape(b_shape)


def _internal(name: str, impl: Any, type_rule: Any, transpose: Any, doc: str) -> None:
    register(Rule(name, 1, impl, type_rule, lambda dom, cod, **p: 0.0,
                  transpose=transpose, params={"m": (None, lambda v: v), "shape": ((), tuple)},
                  public=False, doc=doc))


def _cod(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> tuple[int, ...]:
    return _matmul_type((Array(a_shape), Array(b_shape))).shape


def _right_type(dom: Type, m: Any, shape: tuple) -> Type:
    return _matmul_type((dom, Array(np.shape(m), m.dtype)))


def _left_type(dom: Type, m: Any, shape: tuple) -> Type:
    return _matmul_type((Array(np.shape(m), m.dtype), dom))


def _onto_type(dom: Type, m: Any, shape: tuple) -> Type:
    return Array(shape, np.result_type(dom.dtype, m.dtype))


_internal("matmul_right", lambda t, m, shape: t @ m, _right_type,
          lambda lin, dom, m, shape: lin.linear(TABLE["matmul_right_t"], {"m": m, "shape": dom}, _cod(dom, m.shape)),
          "t ↦ t @ m")
_internal("matmul_right_t", lambda c, m, shape: grad_left(c, shape, m), _onto_type,
          lambda lin, dom, m, shape: lin.linear(TABLE["matmul_right"], {"m": m, "shape": ()}, shape),
          "the transpose of matmul_right m, onto shape")
_internal("matmul_left", lambda t, m, shape: m @ t, _left_type,
          lambda lin, dom, m, shape: lin.linear(TABLE["matmul_left_t"], {"m": m, "shape": dom}, _cod(m.shape, dom)),
          "t ↦ m @ t")
_internal("matmul_left_t", lambda c, m, shape: grad_right(c, m, shape), _onto_type,
          lambda lin, dom, m, shape: lin.linear(TABLE["matmul_left"], {"m": m, "shape": ()}, shape),
          "the transpose of matmul_left m, onto shape")
