"""Scans and sorting along one axis: cumsum, cumprod, sort and argsort.

``cumsum`` is linear; its transpose is the cumulative sum from the other end (``cumsum_reverse``).
``cumprod``'s derivative follows the product rule ``dyₖ = xₖ·dyₖ₋₁ + yₖ₋₁·tₖ``: the linear recurrence
``linrec`` (coefficients ``x``) after ``scale`` by the exclusive cumulative product. It never divides by
``x``, so zeros are handled exactly (as JAX, which differentiates an associative scan); ``linrec`` runs as
that scan, in ⌈log₂ n⌉ vectorised steps, and its transpose is the same recurrence run backwards.
``sort``'s derivative gathers the tangent by the sorting permutation (``permute``), whose transpose
scatters it back (``unpermute``). Sorts are stable, as JAX's: tied elements keep their order, so each
takes the tangent of the element at its place in that order. ``argsort`` gives int64 indices, no tangent.
The axis is one int here; the front end flattens for ``axis=None``, as numpy does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..codegen import apply, staged
from ..errors import TermTypeError
from ..types import Array, Type
from .elementwise import scaled
from .reductions import accumulated
from .table import CHEAP, TABLE, Rule, no_derivative, norm_axes, p_bool, p_int, p_ints, register, want_array

AXIS = {"axis": (0, p_int)}


def _scan_type(name: str, dtype: Any = None) -> Any:
    def rule(dom: Type, axis: int, **p: Any) -> Type:
        a = want_array(name, dom)
        norm_axes(name, axis, a.ndim)
        return Array(a.shape, a.dtype if dtype is None else dtype(a.dtype))

    return rule


def _scan_cost(dom: Array, cod: Type, **p: Any) -> float:
    return CHEAP * dom.size


def _sort_cost(dom: Array, cod: Type, axis: int, **p: Any) -> float:
    n = dom.shape[axis] if dom.ndim else 1
    return CHEAP * dom.size * max(math.log2(max(n, 1)), 1.0)


def _cumsum_reverse(t: Any, axis: int) -> Any:
    return np.flip(np.cumsum(np.flip(t, axis), axis), axis)


register(Rule(
    "cumsum", 1, lambda x, axis: np.cumsum(x, axis=axis), _scan_type("cumsum", accumulated), _scan_cost,
    transpose=lambda lin, dom, axis: lin.linear(TABLE["cumsum_reverse"], {"axis": axis}, dom), params=AXIS,
    doc="cumulative sum along axis; booleans and integers sum in int64",
))
register(Rule(
    "cumsum_reverse", 1, _cumsum_reverse, _scan_type("cumsum_reverse"), _scan_cost,
    transpose=lambda lin, dom, axis: lin.linear(TABLE["cumsum"], {"axis": axis}, dom), params=AXIS, public=False,
    doc="the transpose of cumsum: cumulative sums from the far end",
))


def linrec(u: np.ndarray, a: np.ndarray, axis: int, reverse: bool) -> np.ndarray:
    """``sₖ = aₖ·sₖ₋₁ + uₖ`` along ``axis`` (``reverse``: ``sₖ = aₖ₊₁·sₖ₊₁ + uₖ``, its transpose), as a
    Hillis–Steele scan of ``(a, u)`` pairs: ⌈log₂ n⌉ whole-array steps instead of n small ones. The scan axis
    is moved first and made contiguous, so each step's slices are whole blocks of memory."""
    u, a = np.moveaxis(u, axis, 0), np.moveaxis(a, axis, 0)
    if reverse:  # the same scan on the flipped axis; position k now takes the coefficient of k + 1
        u, a = u[::-1], np.concatenate([np.ones_like(a[:1]), a[:0:-1]])
    dtype = np.result_type(u.dtype, a.dtype)
    d, n = 1, u.shape[0]
    if staged(u, a) is not None:  # recording a derivative term: the same steps, each making a new value
        s, prod = u.astype(dtype), a.astype(dtype)
        while d < n:
            s = np.concatenate([s[:d], s[d:] + prod[d:] * s[:-d]])
            prod = np.concatenate([prod[:d], prod[d:] * prod[:-d]]) if 2 * d < n else prod
            d *= 2
    else:
        s, prod = np.array(u, dtype=dtype, order="C"), np.array(a, dtype=dtype, order="C")
        spare = np.empty_like(s)
        while d < n:
            s[d:] += np.multiply(prod[d:], s[:-d], out=spare[d:])
            if 2 * d < n:  # the window products, for the next step (double-buffered: the slices overlap)
                np.multiply(prod[d:], prod[:-d], out=spare[d:])
                spare[:d] = prod[:d]
                prod, spare = spare, prod
            d *= 2
    return np.moveaxis(s[::-1] if reverse else s, 0, axis)


def _linrec_type(dom: Type, a: Any, axis: int, reverse: bool) -> Type:
    t = want_array("linrec", dom)
    return Array(t.shape, np.result_type(t.dtype, a.dtype))


def _linrec_cost(dom: Array, cod: Type, axis: int, **p: Any) -> float:
    return 3 * _sort_cost(dom, cod, axis)


register(Rule(
    "linrec", 1, linrec, _linrec_type, _linrec_cost,
    transpose=lambda lin, dom, a, axis, reverse: lin.linear(
        TABLE["linrec"], {"a": a, "axis": axis, "reverse": not reverse}, dom),
    params={"a": (None, lambda v: v), "axis": (0, p_int), "reverse": (False, p_bool)}, public=False,
    doc="the linear recurrence s ↦ a·s(previous) + u along axis, for coefficients a",
))


def exclusive(y: np.ndarray, axis: int) -> np.ndarray:
    """A cumulative product shifted one place along ``axis``, 1 first: the product of the elements before."""
    y = np.moveaxis(y, axis, -1)
    return np.moveaxis(np.concatenate([np.ones_like(y[..., :1]), y[..., :-1]], axis=-1), -1, axis)


def _cumprod_deriv(lin: Any, x: Any, y: Any, axis: int) -> Any:
    before = apply(exclusive, (y, axis), {}, lambda: (y.shape, y.dtype))
    recur = lin.linear(TABLE["linrec"], {"a": x, "axis": axis, "reverse": False}, x.shape)
    return lin.compose([scaled(lin, before, x.shape), recur])


register(Rule(
    "cumprod", 1, lambda x, axis: np.cumprod(x, axis=axis), _scan_type("cumprod", accumulated), _scan_cost,
    deriv=_cumprod_deriv, params=AXIS,
    doc="cumulative product along axis; booleans and integers multiply in int64",
))


def argsort(x: np.ndarray, axis: int) -> np.ndarray:
    """Stable argsort as int64 (the primitive's implementation, and the permutation sort's derivative
    gathers by: one emitted call serves both)."""
    return np.argsort(x, axis=axis, kind="stable").astype(np.int64, copy=False)


def _sort_deriv(lin: Any, x: Any, y: Any, axis: int) -> Any:
    perm = apply(argsort, (x,), {"axis": axis}, lambda: (x.shape, np.dtype("int64")))
    return lin.linear(TABLE["permute"], {"perm": perm, "axis": axis}, x.shape)


register(Rule(
    # sorted values are the same whatever the algorithm, so numpy's fastest (not stable) one computes them
    "sort", 1, lambda x, axis: np.sort(x, axis=axis), _scan_type("sort"), _sort_cost,
    deriv=_sort_deriv, params={"axis": (-1, p_int)},
    doc="sort along axis (stable); the derivative follows the permutation",
))
register(Rule(
    "argsort", 1, argsort, _scan_type("argsort", lambda d: "int64"), _sort_cost, deriv=no_derivative,
    params={"axis": (-1, p_int)}, doc="int64 indices that sort along axis (stable)",
))


def _p_kth(v: Any) -> tuple[int, ...]:
    return p_ints(v)


def _partition_type(name: str, dtype: Any = None) -> Any:
    sort_type = _scan_type(name, dtype)

    def rule(dom: Type, axis: int, kth: tuple[int, ...]) -> Type:
        out = sort_type(dom, axis=axis)
        n = out.shape[axis] if out.ndim else 0  # a scan keeps the shape
        for k in kth:
            if not -n <= k < n:
                raise TermTypeError(f"{name}: kth={k} is out of range for an axis of length {n}")
        return out

    return rule


def argpartition(x: np.ndarray, kth: tuple[int, ...], axis: int) -> np.ndarray:
    """numpy's argpartition as int64: the permutation that ``np.partition`` applies (the same introselect)."""
    return np.argpartition(x, kth, axis=axis).astype(np.int64, copy=False)


def _partition_deriv(lin: Any, x: Any, y: Any, axis: int, kth: tuple[int, ...]) -> Any:
    perm = apply(argpartition, (x, kth), {"axis": axis}, lambda: (x.shape, np.dtype("int64")))
    return lin.linear(TABLE["permute"], {"perm": perm, "axis": axis}, x.shape)


register(Rule(
    "partition", 1, lambda x, axis, kth: np.partition(x, kth, axis=axis), _partition_type("partition"), _scan_cost,
    deriv=_partition_deriv, params={"axis": (-1, p_int), "kth": ((), _p_kth)},
    doc="numpy's partition along axis: each kth element in its sorted place, smaller ones before it, larger "
        "after; the derivative follows the permutation",
))
register(Rule(
    "argpartition", 1, lambda x, axis, kth: argpartition(x, kth, axis),
    _partition_type("argpartition", lambda d: "int64"),
    _scan_cost, deriv=no_derivative, params={"axis": (-1, p_int), "kth": ((), _p_kth)},
    doc="int64 indices that partition along axis, as numpy's argpartition",
))


def _unpermute(c: np.ndarray, perm: np.ndarray, axis: int) -> np.ndarray:
    kind = staged(c, perm)
    if kind is not None:  # recording a derivative term: the same writes as a functional update
        ax = axis % c.ndim
        along = tuple(perm if d == ax else np.arange(n).reshape([n if e == d else 1 for e in range(c.ndim)])
                      for d, n in enumerate(c.shape))
        return kind.accumulate(np.zeros(c.shape, c.dtype), along, c)
    out = np.empty_like(c)
    np.put_along_axis(out, perm, c, axis)  # perm is a permutation: every place written once
    return out


_PERM = {"perm": (None, lambda v: v), "axis": (0, p_int)}
register(Rule(
    "permute", 1, lambda t, perm, axis: np.take_along_axis(t, perm, axis), _scan_type("permute"), _scan_cost,
    transpose=lambda lin, dom, perm, axis: lin.linear(TABLE["unpermute"], {"perm": perm, "axis": axis}, dom),
    params=_PERM, public=False, doc="t ↦ t gathered along axis by the permutation perm",
))
register(Rule(
    "unpermute", 1, _unpermute, _scan_type("unpermute"), _scan_cost,
    transpose=lambda lin, dom, perm, axis: lin.linear(TABLE["permute"], {"perm": perm, "axis": axis}, dom),
    params=_PERM, public=False, doc="the transpose of permute: scatter back to where each element came from",
))
