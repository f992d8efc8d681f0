"""Reductions: sum, mean, max and logsumexp over an axis (or several, or all).

``sum`` and ``mean`` are linear; their transpose broadcasts back (``unsum``), which costs nothing until
used because ``np.broadcast_to`` is a view. ``max`` and ``logsumexp`` have derivative
``sum ∘ scale w`` for weights ``w``: the argmax indicator (ties share equally, as in JAX) and the
softmax respectively.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..codegen import apply
from ..errors import TermTypeError
from ..types import Array, Type
from . import CHEAP, TRANSCENDENTAL, TABLE, Rule, norm_axes, p_axis, p_bool, p_ints, register, want_array
from ..vectors import broadcast
from .elementwise import scaled

AXIS_PARAMS = {"axis": (None, p_axis), "keepdims": (False, p_bool)}


def _reduced(shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> tuple[int, ...]:
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _reduce_type(name: str) -> Any:
    def rule(dom: Type, axis: Any, keepdims: bool) -> Type:
        a = want_array(name, dom)
        axes = norm_axes(name, axis, a.ndim)
        if name in ("max", "logsumexp") and any(a.shape[i] == 0 for i in axes):
            raise TermTypeError(f"{name}: cannot reduce over an empty axis of {a}")
        return Array(_reduced(a.shape, axes, keepdims), a.dtype)

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
    "sum", 1, lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims), _reduce_type("sum"),
    _reduce_cost(CHEAP), transpose=_sum_transpose, params=AXIS_PARAMS, doc="sum over axis (all if None)",
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
    "mean", 1, lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims), _reduce_type("mean"),
    _reduce_cost(CHEAP), transpose=_mean_transpose, params=AXIS_PARAMS, doc="mean over axis (all if None)",
))


def _weighted_sum(lin: Any, w: Any, axis: Any, keepdims: bool) -> Any:
    """``t ↦ Σ_axis w·t``: the derivative shape shared by max and logsumexp."""
    return lin.compose([scaled(lin, w, w.shape), lin.linear(TABLE["sum"], {"axis": axis, "keepdims": keepdims}, w.shape)])


def _keep(y: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """``y`` with the reduced axes kept as size 1, so it broadcasts against ``x``."""
    return y if keepdims else y.reshape(_reduced(x.shape, norm_axes("max", axis, x.ndim), True))


def _max_deriv(lin: Any, x: Any, y: Any, axis: Any, keepdims: bool) -> Any:
    hit = (x == _keep(y, x, axis, keepdims)).astype(x.dtype)
    return _weighted_sum(lin, hit / hit.sum(axis=axis, keepdims=True), axis, keepdims)


register(Rule(
    "max", 1, lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims), _reduce_type("max"),
    _reduce_cost(CHEAP), deriv=_max_deriv, params=AXIS_PARAMS,
    doc="max over axis; tied maxima share the derivative equally",
))


def _logsumexp(x: Any, axis: Any, keepdims: bool) -> Any:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) slices: avoid inf - inf
    y = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return y if keepdims else y.reshape(_reduced(x.shape, norm_axes("logsumexp", axis, x.ndim), False))


def _logsumexp_deriv(lin: Any, x: Any, y: Any, axis: Any, keepdims: bool) -> Any:
    return _weighted_sum(lin, np.exp(x - _keep(y, x, axis, keepdims)), axis, keepdims)


register(Rule(
    "logsumexp", 1, _logsumexp, _reduce_type("logsumexp"), _reduce_cost(TRANSCENDENTAL),
    deriv=_logsumexp_deriv, params=AXIS_PARAMS, doc="log Σ exp over axis, computed stably",
))
