"""Reductions over an axis (or several, or all): sum, mean, prod, max, min, logsumexp, argmax, argmin, any
and all.

``sum`` and ``mean`` are linear; their transpose broadcasts back (``unsum``), which costs nothing until
used because ``np.broadcast_to`` is a view. ``max``, ``min``, ``prod`` and ``logsumexp`` have derivative
``sum ∘ scale w`` for weights ``w``: the indicator of the extremum, the product of the *other* elements,
and the softmax respectively. ``prod``'s weights are products of exclusive cumulative products from both
ends, never ``y / x``, so they are right where the slice holds one zero or several. ``argmax``, ``argmin``,
``any`` and ``all`` give integers and booleans, values without tangents.

Non-smooth points follow JAX: tied maxima (minima) share the derivative equally. Integer and boolean
operands reduce with numpy's dtypes: ``sum`` and ``prod`` of booleans or int32 are int64, ``max`` and
``min`` keep the dtype; ``mean`` and ``logsumexp`` are defined on floats (the front end converts first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..codegen import apply
from ..errors import TermTypeError
from ..types import Array, Type
from ..vectors import broadcast
from .elementwise import scaled
from .table import (
    CHEAP,
    TABLE,
    TRANSCENDENTAL,
    Rule,
    no_derivative,
    norm_axes,
    p_axis,
    p_bool,
    p_int,
    p_ints,
    register,
    want_array,
    want_float,
)

AXIS_PARAMS = {"axis": (None, p_axis), "keepdims": (False, p_bool)}
# The implementations are the ufuncs' own reductions (np.add.reduce, …), which np.sum and its kin wrap:
# calling them directly saves that wrapper's microseconds on small arrays, the same numbers.


def _reduced(shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def accumulated(dtype: str) -> str:
    """The dtype numpy's ``sum``, ``prod`` and their cumulative forms give: booleans and narrow integers
    accumulate in int64; floats keep their dtype."""
    return "int64" if np.dtype(dtype).kind in "biu" else dtype


def _reduce_type(name: str, floats: bool = False, nonempty: bool = False, dtype: Any = None) -> Any:
    """The shape rule of a reduction; ``dtype(d)`` maps the operand's dtype to the result's."""

    def rule(dom: Type, axis: Any, keepdims: bool) -> Type:
        a = want_float(name, dom) if floats else want_array(name, dom)
        axes = norm_axes(name, axis, a.ndim)
        if nonempty and any(a.shape[i] == 0 for i in axes):
            raise TermTypeError(f"{name}: cannot reduce over an empty axis of {a}")
        return Array(_reduced(a.shape, axes, keepdims), a.dtype if dtype is None else dtype(a.dtype))

    return rule


def _reduce_cost(k: float) -> Any:
    return lambda dom, cod, **p: k * dom.size


def _unsum(t: Any, axes: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """A reduced array broadcast back to ``shape``, lazily (:class:`~catterms.vectors.Broadcast`)."""
    keep = _reduced(shape, axes, True)
    if t.ndim and t.shape != keep:
        t = apply(np.reshape, (t, keep), {}, lambda: (keep, t.dtype))
    return broadcast(t, shape)


def _sum_transpose(lin: Any, dom: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    axes = norm_axes("sum", axis, len(dom))
    return lin.linear(TABLE["unsum"], {"axes": axes, "shape": dom}, _reduced(dom, axes, keepdims))


register(Rule(
    "sum", 1, np.add.reduce, _reduce_type("sum", dtype=accumulated), _reduce_cost(CHEAP), transpose=_sum_transpose,
    params=AXIS_PARAMS,
    doc="sum over axis (all if None); booleans and integers sum to int64",
))


def _unsum_transpose(lin: Any, dom: tuple[int, ...], axes: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    keepdims = len(dom) == len(shape)
    return lin.linear(TABLE["sum"], {"axis": axes, "keepdims": keepdims}, shape)


register(Rule(
    "unsum", 1, _unsum, lambda dom, axes, shape: Array(shape, want_array("unsum", dom).dtype), _reduce_cost(0.0),
    transpose=_unsum_transpose, params={"axes": ((), p_ints), "shape": ((), p_ints)}, public=False, lazy=True,
    doc="the transpose of sum: broadcast back over the summed axes",
))


def _count(dom: tuple[int, ...], axis: Any) -> int:
    return int(np.prod([dom[i] for i in norm_axes("mean", axis, len(dom))], dtype=np.int64))


def _mean_transpose(lin: Any, dom: tuple[int, ...], axis: Any, keepdims: bool) -> Any:
    axes = norm_axes("mean", axis, len(dom))
    cod = _reduced(dom, axes, keepdims)
    return lin.compose([scaled(lin, 1.0 / max(_count(dom, axis), 1), cod), _sum_transpose(lin, dom, axis, keepdims)])


register(Rule(
    "mean", 1, lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims), _reduce_type("mean", floats=True),
    _reduce_cost(CHEAP), transpose=_mean_transpose, params=AXIS_PARAMS, doc="mean over axis (all if None)",
))


def _weighted_sum(lin: Any, w: Any, axis: Any, keepdims: bool) -> Any:
    """``t ↦ Σ_axis w·t``: the derivative shape shared by max, min, prod and logsumexp."""
    total = lin.linear(TABLE["sum"], {"axis": axis, "keepdims": keepdims}, w.shape)
    return lin.compose([scaled(lin, w, w.shape), total])


def _keep(y: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """``y`` with the reduced axes kept as size 1, so it broadcasts against ``x``."""
    return y if keepdims else y.reshape(_reduced(x.shape, norm_axes("reduce", axis, x.ndim), True))


def _extremum_deriv(lin: Any, x: Any, y: Any, axis: Any, keepdims: bool) -> Any:
    hit = (x == _keep(y, x, axis, keepdims)).astype(x.dtype)
    return _weighted_sum(lin, hit / hit.sum(axis=axis, keepdims=True), axis, keepdims)


_impl: Callable[..., Any]  # the loops below bind numpy functions of different (overloaded) types
for _name, _impl in (("max", np.maximum.reduce), ("min", np.minimum.reduce)):
    register(Rule(
        _name, 1, _impl, _reduce_type(_name, nonempty=True), _reduce_cost(CHEAP), deriv=_extremum_deriv,
        params=AXIS_PARAMS,
        doc=f"{_name} over axis; tied {_name}ima share the derivative equally",
    ))


def others_product(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """At each element, the product of the *other* elements of its slice over ``axes`` — ∂ prod / ∂x —
    as (product of those before) × (product of those after), so a zero anywhere is handled exactly."""
    k = len(axes)
    moved = np.moveaxis(x, axes, range(x.ndim - k, x.ndim))
    flat = moved.reshape(moved.shape[:x.ndim - k] + (-1,))
    one = np.ones_like(flat[..., :1])
    before = np.cumprod(np.concatenate([one, flat[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([one, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis((before * after).reshape(moved.shape), range(x.ndim - k, x.ndim), axes)


def _prod_deriv(lin: Any, x: Any, y: Any, axis: Any, keepdims: bool) -> Any:
    axes = norm_axes("prod", axis, x.ndim)
    w = apply(others_product, (x, axes), {}, lambda: (x.shape, x.dtype))
    return _weighted_sum(lin, w, axis, keepdims)


register(Rule(
    "prod", 1, np.multiply.reduce, _reduce_type("prod", dtype=accumulated), _reduce_cost(CHEAP), deriv=_prod_deriv,
    params=AXIS_PARAMS,
    doc="product over axis (all if None); booleans and integers multiply in int64",
))


def _logsumexp(x: Any, axis: Any, keepdims: bool) -> Any:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) slices: avoid inf - inf
    y = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return y if keepdims else y.reshape(_reduced(x.shape, norm_axes("logsumexp", axis, x.ndim), False))


def _logsumexp_deriv(lin: Any, x: Any, y: Any, axis: Any, keepdims: bool) -> Any:
    return _weighted_sum(lin, np.exp(x - _keep(y, x, axis, keepdims)), axis, keepdims)


register(Rule(
    "logsumexp", 1, _logsumexp, _reduce_type("logsumexp", floats=True, nonempty=True), _reduce_cost(TRANSCENDENTAL),
    deriv=_logsumexp_deriv, params=AXIS_PARAMS, doc="log Σ exp over axis, computed stably",
))


def _p_one_axis(v: Any) -> int | None:
    return None if v is None else p_int(v)


for _name, _impl in (("argmax", np.argmax), ("argmin", np.argmin)):
    register(Rule(
        _name, 1, lambda x, axis, keepdims, f=_impl: f(x, axis=axis, keepdims=keepdims),
        _reduce_type(_name, nonempty=True, dtype=lambda d: "int64"), _reduce_cost(CHEAP), deriv=no_derivative,
        params={"axis": (None, _p_one_axis), "keepdims": (False, p_bool)},
        doc=f"int64 index of the first {_name[3:]}imum along axis (of the flattened array if None)",
    ))

for _name, _impl, _which in (("any", np.logical_or.reduce, "some"), ("all", np.logical_and.reduce, "every")):
    register(Rule(
        _name, 1, _impl, _reduce_type(_name, dtype=lambda d: "bool"), _reduce_cost(CHEAP), deriv=no_derivative,
        params=AXIS_PARAMS,
        doc=f"whether {_which} element along axis is nonzero (a boolean)",
    ))
