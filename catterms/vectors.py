"""Tangent and cotangent values: the vector spaces the linear maps act on.

Besides ndarrays and tuples, four lazy forms keep derivative work and memory down:

* :data:`ZERO` — the symbolic zero of any object. Constants have zero derivatives; the injections pad
  with zeros; a linear map sends ``ZERO`` to ``ZERO`` without touching memory.
* :class:`Scatter` — the transpose of indexing: "these slices of a zero array of this shape". Sums of
  scatters accumulate into one buffer in place instead of zero-padding every slice (the fused reverse
  mode, obtained by the vector space rather than by hand).
* :class:`Broadcast` — "this array, broadcast to that shape": the transpose of a sum. An elementwise
  linear map (``scale``, ``neg``) acts on the small array and lets numpy broadcast in the next product,
  so the cotangent of ``sum`` — often a single number — is never written out at full size.
* :class:`LazyTuple` — the output of a fork of linear maps, computed component by component on demand.
  In reverse mode a fork is the transpose of a primitive's join, e.g. ``(c ↦ c·Bᵀ) △ (c ↦ Aᵀ·c)`` for a
  matmul; when ``A`` is a constant the next map discards the first component, so it is never computed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import trees
from .buffers import FRESH
from .codegen import IMPURE, Staged, apply, staged
from .types import Array, Type


class _Zero:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ZERO"


ZERO: Any = _Zero()


class Scatter:
    """``Σ scatter(index_k, part_k)`` into a zero array of ``shape``; materialised by :func:`dense`."""

    __slots__ = ("shape", "dtype", "parts")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, parts: list[tuple[Any, bool, Any]]) -> None:
        self.shape, self.dtype, self.parts = shape, dtype, parts


class Broadcast:
    """``value`` broadcast to ``shape`` (``value``'s shape broadcasts to it); materialised by :func:`dense`."""

    __slots__ = ("value", "shape", "dtype")

    def __init__(self, value: Any, shape: tuple[int, ...]) -> None:
        self.value, self.shape, self.dtype = value, shape, value.dtype


def broadcast(value: Any, shape: tuple[int, ...]) -> Any:
    """``value`` as a tangent of ``shape``: itself when it already has that shape, else lazily broadcast."""
    return value if value.shape == shape else Broadcast(value, shape)


class LazyTuple:
    """The tuple ``(f₁ t, …, fₙ t)``, each component computed on first use."""

    __slots__ = ("fs", "t", "vals")

    def __init__(self, fs: Sequence[Callable[[Any], Any]], t: Any) -> None:
        self.fs, self.t, self.vals = fs, t, [None] * len(fs)

    def get(self, i: int) -> Any:
        v = self.vals[i]
        if v is None:
            v = self.vals[i] = self.fs[i](self.t)
        return v

    __getitem__ = get

    def __len__(self) -> int:
        return len(self.fs)


def component(t: Any, i: int) -> Any:
    """The i-th component of a tuple-valued tangent (``ZERO``'s components are ``ZERO``)."""
    if t is ZERO:
        return ZERO
    # a method call, not t[i]: forcing a component may force a chain of lazy tuples (an environment carried
    # through many levels), and Python-to-Python calls do not grow the C stack where a subscript does
    return t.get(i) if type(t) is LazyTuple else t[i]


def zeros(t: Type) -> Any:
    """A real zero of object ``t`` (allocated now, or by the generated code)."""
    return trees.map(lambda a: apply(np.zeros, (a.shape, a.dtype), {}, lambda: (a.shape, a.dtype)), t)


def zeros_like(value: Any) -> Any:
    """The zero of a value's own object."""
    return trees.map(lambda v: zeros(Array(v.shape, v.dtype)), value)


def _accumulate(buf: np.ndarray, index: Any, fancy: bool, part: Any) -> np.ndarray:
    """``buf[index] += part`` in place (repeated fancy indices add up); returns ``buf``. Staged values are
    immutable: for them it is the functional update."""
    kind = staged(buf, index, part)
    if kind is not None:
        return kind.accumulate(buf, index, part)
    if fancy:
        np.add.at(buf, index, part)
    else:
        buf[index] += part
    return buf


def _own(arr: Any, dtype: np.dtype) -> np.ndarray | Staged:
    """``arr`` as a writeable array of ``dtype``, copying only views that cannot be handed out."""
    if isinstance(arr, Staged):
        return arr if arr.dtype == dtype else arr.astype(dtype)
    arr = np.asarray(arr)
    if not arr.flags.writeable or arr.dtype != dtype:
        return np.array(arr, dtype=dtype)
    return arr


def _copy(arr: Any, dtype: np.dtype) -> Any:
    """A new array of ``dtype`` holding ``arr``, for slices to accumulate into (a staged value is never
    written: itself, converted)."""
    if isinstance(arr, Staged):
        return arr.astype(dtype)
    return np.array(arr, dtype=dtype)


IMPURE.update({_accumulate, _own, _copy})
FRESH.add(_copy)


def _into(buf: Any, s: Scatter) -> Any:
    for index, fancy, part in s.parts:
        buf = apply(_accumulate, (buf, index, fancy, part), {}, lambda: (s.shape, buf.dtype))  # noqa: B023 (called in apply)
    return buf


def dense(t: Any) -> Any:
    """An array (or ``ZERO``) for a single-array tangent, materialising a :class:`Scatter` or :class:`Broadcast`."""
    kind = type(t)
    if kind is Broadcast:
        return apply(np.broadcast_to, (t.value, t.shape), {}, lambda: (t.shape, t.dtype))
    if kind is Scatter:
        return _into(zeros(Array(t.shape, t.dtype)), t)
    return t


def add(a: Any, b: Any) -> Any:
    """The vector sum (the meaning of ``jam``), keeping zeros and scatters lazy."""
    if a is ZERO:
        return b
    if b is ZERO:
        return a
    ta, tb = type(a), type(b)
    if ta is Broadcast and tb is Broadcast:
        return broadcast(a.value + b.value, a.shape)
    if ta is Broadcast or tb is Broadcast:
        if ta is Scatter or tb is Scatter:
            return add(dense(a), dense(b))
        return (a.value + b) if ta is Broadcast else (a + b.value)  # numpy broadcasts to the full shape
    if ta is Scatter and tb is Scatter:
        return Scatter(a.shape, np.result_type(a.dtype, b.dtype), a.parts + b.parts)
    if ta is Scatter or tb is Scatter:
        s, d = (a, b) if ta is Scatter else (b, a)
        dtype = np.result_type(d.dtype, s.dtype)
        # one copy of the dense part is the buffer the slices accumulate into (a staged value is not written)
        return _into(_own(d, dtype) if isinstance(d, Staged) else
                     apply(_copy, (d, dtype), {}, lambda: (s.shape, dtype)), s)
    if ta is tuple or ta is LazyTuple or tb is tuple or tb is LazyTuple:
        return tuple(add(a[i], b[i]) for i in range(len(a)))
    return a + b


def total(ts: Sequence[Any]) -> Any:
    """``add`` over a sequence, accumulating left to right."""
    acc = ZERO
    for t in ts:
        acc = add(acc, t)
    return acc


def tangent(t: Any, ty: Type) -> Any:
    """A tangent given for ``ty`` as the linear maps take it: the parts without a tangent (integer and
    boolean arrays) are :data:`ZERO`, whatever was passed for them."""
    if t is ZERO:
        return ZERO
    if isinstance(ty, tuple):
        return tuple(tangent(c, s) for c, s in zip(t, ty))
    return t if ty.differentiable else ZERO


def materialize(t: Any, ty: Type) -> Any:
    """A plain value of type ``ty``: zeros made real, scatters and lazy tuples forced, views copied; a part
    without a tangent (an integer or boolean array) is ``None``."""
    if isinstance(ty, tuple):
        return tuple(materialize(component(t, i), c) for i, c in enumerate(ty))
    if not ty.differentiable:
        return None
    if t is ZERO:
        return zeros(ty)
    arr = dense(t)
    dtype = np.dtype(ty.dtype)
    return apply(_own, (arr, dtype), {}, lambda: (ty.shape, dtype))
