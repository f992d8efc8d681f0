"""Comparisons, logical operations, ``where`` and ``astype``: where booleans and integers come from.

Booleans and integers are values without tangents (:mod:`catterms.types`), so a comparison or a logical
operation has :func:`~catterms.prims.no_derivative`. ``where(c, a, b)`` is linear in ``(a, b)`` once the
mask ``c`` is fixed: its derivative is ``0 ▽ scale m ▽ scale (1 − m)`` with ``m`` the mask as floats,
the paper's ``scale`` again. ``astype`` between float dtypes is the linear map ``convert``, whose transpose
converts back; a conversion to or from an integer or boolean dtype has no derivative.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..codegen import apply
from ..types import DTYPES, Array, Type, dtype_name
from .elementwise import _elementwise_cost, diagonals
from .table import CHEAP, TABLE, Rule, broadcast_shape, no_derivative, register, want_array, want_arrays


def _predicate(name: str, ufunc: np.ufunc, arity: int, doc: str) -> None:
    def rule(dom: Type) -> Type:
        parts = want_arrays(name, dom, 2) if arity == 2 else (want_array(name, dom),)
        return Array(broadcast_shape(name, parts), "bool")

    register(Rule(name, arity, ufunc, rule, _elementwise_cost(CHEAP), deriv=no_derivative, doc=doc))


_predicate("less", np.less, 2, "a < b")
_predicate("less_equal", np.less_equal, 2, "a <= b")
_predicate("greater", np.greater, 2, "a > b")
_predicate("greater_equal", np.greater_equal, 2, "a >= b")
_predicate("equal", np.equal, 2, "a == b")
_predicate("not_equal", np.not_equal, 2, "a != b")
_predicate("logical_and", np.logical_and, 2, "a and b, elementwise (nonzero is true)")
_predicate("logical_or", np.logical_or, 2, "a or b, elementwise (nonzero is true)")
_predicate("logical_xor", np.logical_xor, 2, "a xor b, elementwise (nonzero is true)")
_predicate("logical_not", np.logical_not, 1, "not a, elementwise (nonzero is true)")
_predicate("isfinite", np.isfinite, 1, "neither NaN nor ±inf")
_predicate("isnan", np.isnan, 1, "NaN")
_predicate("isinf", np.isinf, 1, "±inf")


def _where_type(dom: Type) -> Type:
    c, a, b = want_arrays("where", dom, 3)
    return Array(broadcast_shape("where", (c, a, b)), np.result_type(a.dtype, b.dtype))


def _where_deriv(lin: Any, x: tuple, y: Any) -> Any:
    c, a, b = x
    # at the result's full shape, so that each scale's transpose sums back to its operand's shape
    mask = apply(np.broadcast_to, (c, y.shape), {}, lambda: (y.shape, c.dtype)).astype(y.dtype)
    return diagonals(lin, x, (None, mask, 1 - mask), y.shape)  # the mask itself has no tangent


register(Rule(
    "where", 0, lambda x: np.where(*x), _where_type, _elementwise_cost(CHEAP), deriv=_where_deriv,
    doc="a where c (nonzero), else b; broadcasts all three",
))


def _p_dtype(v: Any) -> str:
    if not isinstance(v, str) or v not in DTYPES:
        raise ValueError(f"expected one of {', '.join(DTYPES)}")
    return v


def _astype_deriv(lin: Any, x: Any, y: Any, dtype: str) -> Any:
    if x.dtype.kind != "f" or y.dtype.kind != "f":
        return lin.zero()
    return lin.linear(TABLE["convert"], {"dtype": dtype, "back": x.dtype.name}, x.shape)


register(Rule(
    "astype", 1, lambda x, dtype: x.astype(dtype),
    lambda dom, dtype: Array(want_array("astype", dom).shape, dtype), _elementwise_cost(CHEAP),
    deriv=_astype_deriv, params={"dtype": ("float64", _p_dtype)},
    doc="convert to dtype (float64, float32, int64, int32 or bool), as ndarray.astype",
))
register(Rule(
    "convert", 1, lambda t, dtype, back: t.astype(dtype),
    lambda dom, dtype, back: Array(want_array("convert", dom).shape, dtype_name(dtype)), _elementwise_cost(CHEAP),
    transpose=lambda lin, dom, dtype, back: lin.linear(TABLE["convert"], {"dtype": back, "back": dtype}, dom),
    params={"dtype": ("float64", _p_dtype), "back": ("float64", _p_dtype)}, public=False, elementwise=True,
    doc="a float conversion, as a linear map; its transpose converts back",
))
