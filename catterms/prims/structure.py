"""Structural primitives: reshape, transpose, broadcasting, concatenate, stack and padding.

All but ``pad`` are linear, so each is its own derivative and only needs its transpose: ``reshape`` and
``transpose`` invert themselves, ``broadcast_to ↔ sum_to``, ``concatenate ↔ split``,
``stack ↔ unstack``. ``pad`` with a constant is affine: its derivative ``zero_pad`` pads the tangent with
zeros, and that map's transpose slices the interior back out (``index``). Indexing is :mod:`.indexing`;
the rest of numpy's shape functions (``roll``, ``tile``, ``diag``, …) are compositions of these, in
:mod:`catterms.numpy._shapes`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..codegen import staged
from ..errors import TermTypeError
from ..types import Array, Type, broadcast_shapes
from .table import (
    CHEAP,
    TABLE,
    Rule,
    applied,
    norm_axes,
    p_float,
    p_int,
    p_ints,
    p_opt_ints,
    register,
    want_array,
    want_arrays,
)


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


def _reshape_type(dom: Type, shape: tuple[int, ...]) -> Array:
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
        if broadcast_shapes(a.shape, shape) != shape:
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
        if broadcast_shapes(a.shape, shape) != a.shape:
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


# --- padding ----------------------------------------------------------------------------------------------


def _p_pairs(item: Callable[[Any], Any]) -> Callable[[Any], tuple]:
    def norm(v: Any) -> tuple:
        if not isinstance(v, (tuple, list)) or not all(isinstance(p, (tuple, list)) and len(p) == 2 for p in v):
            raise TypeError("expected one (before, after) pair per axis")
        return tuple((item(b), item(e)) for b, e in v)

    return norm


def _p_width(v: Any) -> int:
    if p_int(v) < 0:
        raise ValueError("pad widths must be >= 0")
    return int(v)


def _pad_type(dom: Type, pad_width: tuple, constant_values: tuple = ()) -> Array:
    a = want_array("pad", dom)
    if len(pad_width) != a.ndim or len(constant_values) not in (0, a.ndim):
        raise TermTypeError(f"pad: {len(pad_width)} (before, after) pairs for {a}, which has {a.ndim} axes")
    return Array(tuple(d + b + e for d, (b, e) in zip(a.shape, pad_width)), a.dtype)


def interior(shape: tuple[int, ...], pad_width: tuple) -> tuple[slice, ...]:
    """Where an array of ``shape`` sits inside its padding."""
    return tuple(slice(b, b + d) for d, (b, _) in zip(shape, pad_width))


def _pad(x: Any, pad_width: tuple, constant_values: tuple = ()) -> Any:
    if staged(x) is not None:  # zero_pad's, recording a derivative term: the primitive pad itself
        return applied("pad", x, pad_width=pad_width, constant_values=constant_values)
    values = {v for pair in constant_values for v in pair} or {0.0}
    if len(values) > 1:  # a value per side: numpy's own order of filling decides the corners
        return np.pad(x, pad_width, constant_values=constant_values)
    # one fill and one copy: np.pad does the same work behind a few dozen Python steps per call
    out = np.full(_pad_type(Array(x.shape, x.dtype), pad_width).shape, values.pop(), x.dtype)
    out[interior(x.shape, pad_width)] = x
    return out


def _zero_pad_transpose(lin: Any, dom: tuple[int, ...], pad_width: tuple) -> Any:
    idx = dict(TABLE["index"].canonical({"idx": interior(dom, pad_width)}))
    return lin.linear(TABLE["index"], idx, _pad_type(Array(dom), pad_width).shape)


_WIDTHS = {"pad_width": ((), _p_pairs(_p_width))}

# Padding with a constant is affine; its derivative pads the tangent with zeros, a linear map whose
# transpose slices the interior back out.
register(Rule(
    "pad", 1, _pad, _pad_type, _copy_cost,
    deriv=lambda lin, x, y, pad_width, constant_values: lin.linear(
        TABLE["zero_pad"], {"pad_width": pad_width}, x.shape),
    params={**_WIDTHS, "constant_values": ((), _p_pairs(p_float))},
    doc="surround with constant_values (zeros when empty): (before, after) sizes and values per axis",
))
register(Rule(
    "zero_pad", 1, _pad, _pad_type, _copy_cost, transpose=_zero_pad_transpose, params=_WIDTHS, public=False,
    doc="surround with zeros: pad's derivative",
))
