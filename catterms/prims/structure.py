"""Structural primitives: reshape, transpose, broadcasting, concatenate and stack.

All of them are linear, so each is its own derivative and only needs its transpose: ``reshape`` and
``transpose`` invert themselves, ``broadcast_to ↔ sum_to``, ``concatenate ↔ split`` and
``stack ↔ unstack``. Indexing is :mod:`.indexing`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TermTypeError
from ..types import Array, Type
from . import CHEAP, TABLE, Rule, norm_axes, p_int, p_ints, p_opt_ints, register, want_array, want_arrays


def _copy_cost(dom: Type, cod: Type, **p: Any) -> float:
    return CHEAP * sum(a.size for a in (cod if isinstance(cod, tuple) else (cod,)))


def _view_cost(dom: Type, cod: Type, **p: Any) -> float:
    return 0.0


def sum_to_shape(t: Any, shape: tuple[int, ...]) -> Any:
    """Sum a broadcast array back down to ``shape`` (the transpose of broadcasting)."""
    if t.shape == shape:
        return t
    lead = t.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape) if d == 1 and t.shape[lead + i] != 1)
    return t.sum(axis=axes).reshape(shape)


def _p_shape(v: Any) -> tuple[int, ...]:
    shape = p_ints(v)
    if any(d < -1 for d in shape) or shape.count(-1) > 1:
        raise ValueError("sizes must be >= 0, with at most one -1")
    return shape


def _reshape_type(dom: Type, shape: tuple[int, ...]) -> Type:
    a = want_array("reshape", dom)
    known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
    if -1 in shape:
        if known == 0 or a.size % known:
            raise TermTypeError(f"reshape: cannot reshape {a} into {shape}")
        shape = tuple(a.size // known if d == -1 else d for d in shape)
    if int(np.prod(shape, dtype=np.int64)) != a.size:
        raise TermTypeError(f"reshape: cannot reshape {a} into {shape}")
    return Array(shape, a.dtype)


register(Rule(
    "reshape", 1, lambda x, shape: x.reshape(shape), _reshape_type, _view_cost,
    transpose=lambda lin, dom, shape: lin.linear(
        TABLE["reshape"], {"shape": dom}, _reshape_type(Array(dom), shape).shape),
    params={"shape": ((), _p_shape)}, doc="reshape (one size may be -1)",
))


def _transpose_type(dom: Type, axes: tuple[int, ...] | None) -> Type:
    a = want_array("transpose", dom)
    if axes is None:
        return Array(a.shape[::-1], a.dtype)
    if sorted(axes) != list(range(a.ndim)):
        raise TermTypeError(f"transpose: axes {axes} are not a permutation for {a}")
    return Array(tuple(a.shape[i] for i in axes), a.dtype)


def _transpose_transpose(lin: Any, dom: tuple[int, ...], axes: tuple[int, ...] | None) -> Any:
    inverse = None if axes is None else tuple(int(i) for i in np.argsort(axes))
    cod = dom[::-1] if axes is None else tuple(dom[i] for i in axes)
    return lin.linear(TABLE["transpose"], {"axes": inverse}, cod)


register(Rule(
    "transpose", 1, lambda x, axes: np.transpose(x, axes), _transpose_type, _view_cost,
    transpose=_transpose_transpose, params={"axes": (None, p_opt_ints)},
    doc="permute axes (reverse them when axes is None)",
))


def _broadcast_to_type(dom: Type, shape: tuple[int, ...]) -> Type:
    a = want_array("broadcast_to", dom)
    try:
        if np.broadcast_shapes(a.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise TermTypeError(f"broadcast_to: {a} does not broadcast to {shape}") from None
    return Array(shape, a.dtype)


register(Rule(
    "broadcast_to", 1, lambda x, shape: np.broadcast_to(x, shape), _broadcast_to_type, _view_cost,
    transpose=lambda lin, dom, shape: lin.linear(TABLE["sum_to"], {"shape": dom}, shape),
    params={"shape": ((), p_ints)}, doc="broadcast to a larger shape (numpy rules)",
))


def _sum_to_type(dom: Type, shape: tuple[int, ...]) -> Type:
    a = want_array("sum_to", dom)
    try:
        if np.broadcast_shapes(a.shape, shape) != a.shape:
            raise ValueError
    except ValueError:
        raise TermTypeError(f"sum_to: {a} does not sum down to {shape}") from None
    return Array(shape, a.dtype)


register(Rule(
    "sum_to", 1, sum_to_shape, _sum_to_type, _copy_cost,
    transpose=lambda lin, dom, shape: lin.linear(TABLE["broadcast_to"], {"shape": dom}, shape),
    params={"shape": ((), p_ints)}, public=False, doc="sum a broadcast array back to shape",
))


# --- concatenate / stack --------------------------------------------------------------------------------


def _concat_type(dom: Type, axis: int) -> Type:
    parts = want_arrays("concatenate", dom, None)
    first = parts[0]
    if first.ndim == 0:
        raise TermTypeError("concatenate: zero-dimensional arrays cannot be concatenated")
    ax = norm_axes("concatenate", axis, first.ndim)[0]
    for p in parts[1:]:
        if p.ndim != first.ndim or any(d != e for i, (d, e) in enumerate(zip(p.shape, first.shape)) if i != ax):
            raise TermTypeError(f"concatenate: {p} does not line up with {first} along axis {axis}")
    shape = list(first.shape)
    shape[ax] = sum(p.shape[ax] for p in parts)
    return Array(tuple(shape), np.result_type(*[p.dtype for p in parts]))


def _split(t: Any, axis: int, sizes: tuple[int, ...]) -> tuple:
    return tuple(np.split(t, np.cumsum(sizes)[:-1], axis=axis))


def _with_axis(shape: tuple[int, ...], axis: int, size: int) -> tuple[int, ...]:
    out = list(shape)
    out[axis] = size
    return tuple(out)


def _concat_transpose(lin: Any, dom: tuple, axis: int) -> Any:
    sizes = tuple(s[axis] for s in dom)
    return lin.linear(TABLE["split"], {"axis": axis, "sizes": sizes}, _with_axis(dom[0], axis, sum(sizes)))


def _split_transpose(lin: Any, dom: tuple[int, ...], axis: int, sizes: tuple[int, ...]) -> Any:
    parts = tuple(_with_axis(dom, axis, k) for k in sizes)
    return lin.linear(TABLE["concatenate"], {"axis": axis}, parts)


register(Rule(
    "concatenate", 0, lambda x, axis: np.concatenate(x, axis=axis), _concat_type, _copy_cost,
    transpose=_concat_transpose,
    params={"axis": (0, p_int)}, doc="join a tuple of arrays along an existing axis",
))
register(Rule(
    "split", 1, _split,
    lambda dom, axis, sizes: tuple(Array(_with_axis(dom.shape, axis, k), dom.dtype) for k in sizes), _view_cost,
    transpose=_split_transpose,
    params={"axis": (0, p_int), "sizes": ((), p_ints)}, public=False,
    doc="the transpose of concatenate",
))


def _stack_type(dom: Type, axis: int) -> Type:
    parts = want_arrays("stack", dom, None)
    for p in parts[1:]:
        if p.shape != parts[0].shape:
            raise TermTypeError(f"stack: {p} and {parts[0]} differ in shape")
    ax = norm_axes("stack", axis, parts[0].ndim + 1)[0]
    shape = parts[0].shape[:ax] + (len(parts),) + parts[0].shape[ax:]
    return Array(shape, np.result_type(*[p.dtype for p in parts]))


register(Rule(
    "stack", 0, lambda x, axis: np.stack(x, axis=axis), _stack_type, _copy_cost,
    transpose=lambda lin, dom, axis: lin.linear(TABLE["unstack"], {"axis": axis}, None),
    params={"axis": (0, p_int)}, doc="join a tuple of same-shaped arrays along a new axis",
))
register(Rule(
    "unstack", 1, lambda t, axis: tuple(np.moveaxis(t, axis, 0)),
    lambda dom, axis: (Array(np.delete(np.array(dom.shape), axis).tolist(), dom.dtype),) * dom.shape[axis],
    _view_cost,
    transpose=lambda lin, dom, axis: lin.linear(
        TABLE["stack"], {"axis": axis}, (dom[:axis % len(dom)] + dom[axis % len(dom) + 1:],) * dom[axis]),
    params={"axis": (0, p_int)}, public=False, doc="the transpose of stack",
))
