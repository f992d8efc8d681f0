"""Indexing primitives: static indexing, gathers with traced indices, and functional updates.

* ``index`` is static indexing, linear, so it is its own derivative; its transpose is ``scatter``, a lazy
  :class:`~catterms.vectors.Scatter`, so slices of one array accumulate into one buffer.
* ``gather`` is ``x[idx]`` where some index arrays are operands (``(x, i₁, …)``): linear in ``x`` once the
  indices are fixed, so its derivative is ``index_at ▽ 0 ▽ …`` — ``index_at`` being the same indexing as a
  linear map parameterised by the (symbolic) index arrays, whose transpose scatters with ``np.add.at``,
  so repeated indices add up. Index operands are integers and have no tangent.
* ``update`` is JAX's ``x.at[idx].set(v)`` (and ``add``, ``multiply``, ``min``, ``max``) on ``(x, v, i₁, …)``:
  a new array. Its derivative is ``scale a ▽ (scatter ∘ scale b) ▽ 0 ▽ …`` with coefficients ``a`` (at
  ``x``'s shape) and ``b`` (at the indexed shape) from the mode.

Static indices are stored in a tagged, msgpack-able form: ``("i", k)`` an integer, ``("s", start, stop,
step)`` a slice, ``("n",)`` a new axis, ``("e",)`` an ellipsis, ``("a", (k₁, …))`` a 1-d integer array,
``("a", shape, (k₁, …))`` an integer array of any shape (its values in C order), ``("b", shape, (b₁, …))``
a boolean mask (numpy's semantics: a mask covering several axes replaces them by one), and ``("t",)`` the
next traced index operand (``gather`` and ``update`` only). Everything else is numpy's indexing.

Out of range: a static index is refused when the term is typed (:class:`~catterms.errors.TermTypeError`);
a traced one raises as numpy does — numpy's ``IndexError``, as an ``EvaluationError`` at run time — where
JAX would clamp. Negative indices count from the end, as in numpy.

Repeated indices: a gather's transpose accumulates. ``set`` keeps the last write, as numpy's
``x[idx] = v`` does, and only that write gets a derivative (JAX's rule: scatter ids, gather them back).
``add`` and ``multiply`` combine every write (``np.add.at``, ``np.multiply.at``); ``multiply``'s derivative
is exact there, zero factors included (JAX implements it for unique indices only). ``min`` and ``max`` split
the derivative evenly among ``x`` and the updates that tie for the result, as JAX's scatter does.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from ..buffers import FRESH, OVER_OPERAND
from ..codegen import apply, staged
from ..errors import TermTypeError
from ..types import Array, Type, broadcast_shapes
from ..vectors import Scatter
from .elementwise import scaled
from .structure import _copy_cost
from .table import CHEAP, TABLE, Rule, applied, p_int, p_ints, register, want_array, want_arrays

TRACED = object()  # where a traced index array goes in :func:`numpy_index`'s result
FANCY_TAGS = ("a", "b", "t")  # numpy's advanced indices: they copy, and they may repeat


def _p_index(v: Any) -> tuple:
    """Normalise a Python index (or its tagged form) into the tagged form."""
    items = v if isinstance(v, tuple) else (v,)
    out = []
    for it in items:
        if isinstance(it, tuple) and it and isinstance(it[0], str):
            out.append(_check_tag(it))
        elif isinstance(it, (bool, np.bool_)):  # x[True] is a 0-d mask in numpy, not x[1]
            out.append(("b", (), (bool(it),)))
        elif isinstance(it, (int, np.integer)):
            out.append(("i", int(it)))
        elif isinstance(it, slice):
            out.append(("s",) + tuple(None if x is None else p_int(int(x)) for x in (it.start, it.stop, it.step)))
        elif it is None:
            out.append(("n",))
        elif it is Ellipsis:
            out.append(("e",))
        elif isinstance(it, (list, tuple, np.ndarray)):  # numpy reads a nested tuple as an array too
            out.append(_array_tag(np.asarray(it)))
        else:
            raise TypeError(f"unsupported index {it!r}")
    return tuple(out)


def _array_tag(arr: np.ndarray) -> tuple:
    if arr.dtype.kind == "b":
        return ("b", arr.shape, tuple(bool(b) for b in arr.flat))
    if arr.size == 0 and arr.dtype.kind == "f":  # x[[]]: numpy reads an empty list as an integer index
        arr = arr.astype(np.intp)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"array indices must be integer or boolean arrays, got {arr.dtype}")
    values = tuple(int(k) for k in arr.flat)
    return ("a", values) if arr.ndim == 1 else ("a", arr.shape, values)


def _check_tag(it: tuple) -> tuple:
    tag, rest = it[0], it[1:]

    def flat(shape: Any, values: Any, kind: type) -> bool:
        # type(k) is int: True == 1 and hashes alike, but x[True] is not x[1]
        return (isinstance(shape, tuple) and all(type(d) is int and d >= 0 for d in shape)
                and isinstance(values, tuple) and all(type(k) is kind for k in values)
                and len(values) == int(np.prod(shape, dtype=np.int64)))

    ok = (
        (tag == "i" and len(rest) == 1 and type(rest[0]) is int)
        or (tag == "s" and len(rest) == 3 and all(x is None or type(x) is int for x in rest) and rest[2] != 0)
        or (tag in ("n", "e", "t") and not rest)
        or (tag == "a" and len(rest) == 1 and isinstance(rest[0], tuple) and flat((len(rest[0]),), rest[0], int))
        or (tag in ("a", "b") and len(rest) == 2 and flat(rest[0], rest[1], int if tag == "a" else bool))
    )
    if not ok:
        raise TypeError(f"malformed index entry {it!r}")
    return tuple(it)


def _constant(values: tuple, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(values, dtype=dtype).reshape(shape)
    arr.flags.writeable = False  # shared by every call through the cache
    return arr


@lru_cache(maxsize=4096)
def numpy_index(idx: tuple) -> tuple:
    """The tagged form back as a numpy index tuple, :data:`TRACED` where a traced array goes (memoised:
    indexing runs it on every call)."""
    out: list[Any] = []
    for it in idx:
        tag = it[0]
        if tag == "a":
            out.append(_constant(it[-1], np.intp, it[1] if len(it) == 3 else (len(it[1]),)))
        elif tag == "b":
            out.append(_constant(it[2], bool, it[1]))
        else:
            out.append(it[1] if tag == "i" else slice(*it[1:]) if tag == "s" else None if tag == "n"
                       else Ellipsis if tag == "e" else TRACED)
    return tuple(out)


def resolve(idx: tuple, ix: tuple = ()) -> tuple:
    """The numpy index for ``idx`` with the traced index arrays ``ix`` (values or symbols) in place."""
    base = numpy_index(idx)
    if not ix:
        return base
    rest = iter(ix)
    return tuple(next(rest) if e is TRACED else e for e in base)


@lru_cache(maxsize=4096)
def _take_axis(idx: tuple) -> int | None:
    """The axis ``k`` when ``idx`` is ``[:, …, :, i, :, …]`` (``k`` full slices, one integer array, full
    slices): ``np.take``'s case, which numpy runs faster than its general advanced indexing."""
    full = ("s", None, None, None)
    arrays = [k for k, it in enumerate(idx) if it[0] in ("a", "t")]
    if len(arrays) != 1 or any(it != full for k, it in enumerate(idx) if k != arrays[0]):
        return None
    return arrays[0]


def _take(x: Any, idx: tuple, ix: tuple = ()) -> Any:
    """``x[idx]`` with the traced index arrays ``ix`` in place."""
    axis = _take_axis(idx)
    if axis is None:
        return x[resolve(idx, ix)]
    return np.take(x, ix[0] if ix else numpy_index(idx)[axis], axis=axis)


def is_fancy(idx: tuple) -> bool:
    return any(it[0] in FANCY_TAGS for it in idx)


def _traced_count(idx: tuple) -> int:
    return sum(it[0] == "t" for it in idx)


def indexed_shape(name: str, a: Any, idx: tuple, ix: tuple = ()) -> tuple[int, ...]:
    """The shape of ``a[idx]`` by numpy's rules, found on zero-strided stand-ins (no data is read)."""
    dummy = np.broadcast_to(np.zeros((), bool), a.shape)
    stand_ins = tuple(np.broadcast_to(np.zeros((), np.intp), t.shape) for t in ix)
    try:
        return dummy[resolve(idx, stand_ins)].shape
    except (IndexError, ValueError, TypeError) as e:
        raise TermTypeError(f"{name}: the index does not apply to {Array(a.shape, a.dtype)}: {e}") from None


def _want_indices(name: str, idx: tuple, ix: tuple[Array, ...], at_least: int) -> None:
    """The traced index operands: one per ``("t",)`` entry, integer arrays."""
    n = _traced_count(idx)
    if n != len(ix) or n < at_least:
        raise TermTypeError(f"{name}: the index has {n} traced entries but {len(ix)} index operands were given")
    for t in ix:
        if t.dtype not in ("int64", "int32"):
            raise TermTypeError(f"{name}: traced indices must be integer arrays, got {t}")


# --- index and its transpose -----------------------------------------------------------------------------


def _index_type(dom: Type, idx: tuple) -> Type:
    a = want_array("index", dom)
    _want_indices("index", idx, (), 0)
    return Array(indexed_shape("index", a, idx), a.dtype)


def taken(lin: Any, idx: tuple, ix: tuple, shape: tuple[int, ...]) -> Any:
    """The linear map ``t ↦ t[idx]`` (with the index arrays ``ix`` in place) on tangents of ``shape``."""
    if not ix:
        return lin.linear(TABLE["index"], {"idx": idx}, shape)
    return lin.linear(TABLE["index_at"], {"idx": idx, "ix": ix}, shape)


def scattered(lin: Any, idx: tuple, ix: tuple, shape: tuple[int, ...]) -> Any:
    """The linear map adding ``t`` into a zero array of ``shape`` at ``idx``: ``taken``'s transpose."""
    return lin.linear(TABLE["scatter"], {"idx": idx, "shape": shape, "ix": ix}, None)


def _scatter(t: Any, idx: tuple, shape: tuple[int, ...], ix: tuple) -> Scatter:
    return Scatter(shape, t.dtype, [(resolve(idx, ix), is_fancy(idx), t)])


register(Rule(
    "index", 1, _take, _index_type, _copy_cost,
    transpose=lambda lin, dom, idx: scattered(lin, idx, (), dom),
    params={"idx": ((), _p_index)}, doc="static indexing and slicing: x[idx]",
))
register(Rule(
    "index_at", 1, _take,
    lambda dom, idx, ix: Array(indexed_shape("index_at", dom, idx, ix), dom.dtype), _copy_cost,
    transpose=lambda lin, dom, idx, ix: scattered(lin, idx, ix, dom),
    params={"idx": ((), _p_index), "ix": ((), tuple)}, public=False,
    doc="t[idx] with the traced index arrays ix in place: a gather's derivative",
))
register(Rule(
    "scatter", 1, _scatter, lambda dom, idx, shape, ix: Array(shape, want_array("scatter", dom).dtype), _copy_cost,
    lazy=True, transpose=lambda lin, dom, idx, shape, ix: taken(lin, idx, ix, shape),
    params={"idx": ((), _p_index), "shape": ((), p_ints), "ix": ((), tuple)}, public=False,
    doc="the transpose of index and index_at: add into a zero array of shape at idx (repeats add up)",
))


# --- gather --------------------------------------------------------------------------------------------


def _gather_type(dom: Type, idx: tuple) -> Type:
    x, *ix = want_arrays("gather", dom, None)
    _want_indices("gather", idx, tuple(ix), 1)
    return Array(indexed_shape("gather", x, idx, tuple(ix)), x.dtype)


def _gather_deriv(lin: Any, xs: tuple, y: Any, idx: tuple) -> Any:
    x, *ix = xs
    return lin.join([taken(lin, idx, tuple(ix), x.shape)] + [lin.zero()] * len(ix))


register(Rule(
    "gather", 0, lambda xs, idx: _take(xs[0], idx, xs[1:]), _gather_type, _copy_cost,
    deriv=_gather_deriv, params={"idx": ((), _p_index)},
    doc="x[idx] where ('t',) entries of idx are the traced integer operands after x, in order",
))


# --- update: x.at[idx].set(v) and its kin ------------------------------------------------------------------

UFUNCS = {"add": np.add, "multiply": np.multiply, "min": np.minimum, "max": np.maximum}


def _p_how(v: Any) -> str:
    if v != "set" and v not in UFUNCS:
        raise ValueError(f"expected one of set, {', '.join(UFUNCS)}")
    return v


def _combined(buf: Any, v: Any, idx: tuple, ix: tuple, how: str) -> Any:
    """``buf`` with ``v`` written (``set``) or combined in (repeated places combine every write) at ``idx``,
    the traced index arrays ``ix`` in place: in place into ``buf``, a fresh array; on staged values (a
    derivative's coefficients, recorded into a term) the primitive ``update`` itself, a new value."""
    kind = staged(buf, v, ix)
    if kind is not None:
        v = v if v.dtype == buf.dtype else v.astype(buf.dtype)
        return kind.primitive(TABLE["update"], {"idx": idx, "how": how}, (buf, v) + ix)
    index = resolve(idx, ix)
    if how == "set":
        buf[index] = v
    elif is_fancy(idx):
        UFUNCS[how].at(buf, index, v)  # every write counts, repeated or not
    else:  # slices cannot repeat: one vectorised pass, in place where the index selects a view
        view = buf[index]
        if isinstance(view, np.ndarray):
            UFUNCS[how](view, v, out=view)
        else:  # every axis indexed by an integer: a single element
            buf[index] = UFUNCS[how](view, v)
    return buf


def _update(xs: tuple, idx: tuple, how: str, out: np.ndarray | None = None) -> np.ndarray:
    """``x`` updated at ``idx``, as a new array — or in ``out``, which is ``x`` itself when generated code
    knows nothing reads ``x`` afterwards (the sums of scatters a gradient term makes: one buffer for all)."""
    x, v, *ix = xs
    return _combined(_writable(x) if out is None else out, v, idx, tuple(ix), how)


def _writable(x: np.ndarray) -> np.ndarray:
    """A copy of ``x`` to write into. The zeros that a gradient term's scatters start from are a broadcast
    0: ``np.zeros`` gives them without writing a page until a scatter does (a copy would write them all)."""
    if x.size and not any(x.strides) and x.flat[0] == 0 and x.dtype.kind == "f":
        return np.zeros(x.shape, x.dtype)
    return np.array(x)


FRESH.add(_update)
OVER_OPERAND[_update] = lambda args: args[0][0]


def _indexed(x: Any, idx: tuple, ix: tuple) -> Any:
    """``x[idx]`` with the traced index arrays ``ix`` in place (``gather`` itself when those are staged)."""
    return applied("gather", (x,) + ix, idx=idx) if ix and staged(x, ix) is not None else _take(x, idx, ix)


def _update_type(dom: Type, idx: tuple, how: str) -> Type:
    x, v, *ix = want_arrays("update", dom, None)
    _want_indices("update", idx, tuple(ix), 0)
    shape = indexed_shape("update", x, idx, tuple(ix))
    if v.dtype != x.dtype:
        raise TermTypeError(f"update: the values {v} must have the array's dtype {x.dtype}; convert them first "
                            "(astype)")
    try:
        fits = broadcast_shapes(v.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise TermTypeError(f"update: values {v} do not broadcast to the indexed shape {shape}")
    return Array(x.shape, x.dtype)


def _set_masks(shape: tuple[int, ...], written: tuple[int, ...], idx: tuple, ix: tuple,
               dtype: np.dtype) -> tuple[Any, Any]:
    """For ``out[idx] = v``: 1 where ``out`` keeps ``x`` (at ``shape``), and 1 for the writes that last (at
    the indexed shape ``written``), found by writing ids the same way and reading them back."""
    n = np.arange(math.prod(written)).reshape(written)
    ids = _combined(np.full(shape, -1, np.int64), n, idx, ix, "set")
    return (ids < 0).astype(dtype), (_indexed(ids, idx, ix) == n).astype(dtype)


def _product_coefs(x: Any, v: Any, idx: tuple, ix: tuple) -> tuple[Any, Any]:
    """For ``np.multiply.at(out, index, v)``: the product ``p`` of the updates at each position (``∂/∂x``),
    and ``x·Π_{k≠j} v_k`` for each update ``j`` (``∂/∂v_j``), exact when some ``v`` are zero."""
    xi = _indexed(x, idx, ix)
    vb = np.broadcast_to(v, np.shape(xi))
    zero = vb == 0
    nonzero = _combined(np.ones(x.shape, x.dtype), np.where(zero, 1, vb), idx, ix, "multiply")
    zeros = _combined(np.zeros(x.shape, np.int64), zero.astype(np.int64), idx, ix, "add")
    q, z = _indexed(nonzero, idx, ix), _indexed(zeros, idx, ix)
    others = np.where(zero, np.where(z == 1, q, 0), np.where(z == 0, q / np.where(zero, 1, vb), 0))
    return np.where(zeros > 0, 0, nonzero), (xi * others).astype(x.dtype)


def _extremal_coefs(x: Any, v: Any, y: Any, idx: tuple, ix: tuple) -> tuple[Any, Any]:
    """For ``np.maximum.at`` (or ``minimum``) with result ``y``: the shares of ``x`` and of each update, the
    candidates equal to the result splitting it evenly (JAX's rule)."""
    picked = _indexed(y, idx, ix)
    hit = np.broadcast_to(v, np.shape(picked)) == picked
    kept = x == y
    n = _combined(kept.astype(y.dtype), hit.astype(y.dtype), idx, ix, "add")
    return kept / n, hit / _indexed(n, idx, ix)


def _update_deriv(lin: Any, xs: tuple, y: Any, idx: tuple, how: str) -> Any:
    x, v, *rest = xs
    ix = tuple(rest)
    shape = indexed_shape("update", x, idx, ix)

    def coefs() -> list:  # the coefficients' types, for code generation
        return [(x.shape, x.dtype), (shape, x.dtype)]

    if how == "add":
        dx = lin.id()
        dv = lin.id() if v.shape == shape else lin.linear(TABLE["broadcast_to"], {"shape": shape}, v.shape)
    else:
        if how == "set":  # the masks depend on the indices alone: static ones make them constants
            a, b = apply(_set_masks, (x.shape, shape, idx, ix, x.dtype), {}, coefs)
        elif how == "multiply":
            a, b = apply(_product_coefs, (x, v, idx, ix), {}, coefs)
        else:
            a, b = apply(_extremal_coefs, (x, v, y, idx, ix), {}, coefs)
        dx, dv = scaled(lin, a, x.shape), scaled(lin, b, v.shape)
    into = lin.compose([dv, scattered(lin, idx, ix, x.shape)])
    return lin.join([dx, into] + [lin.zero()] * len(ix))


def _update_cost(dom: tuple[Array, ...], cod: Array, **p: Any) -> float:
    return CHEAP * (cod.size + dom[1].size)


register(Rule(
    "update", 0, _update, _update_type, _update_cost, deriv=_update_deriv,
    params={"idx": ((), _p_index), "how": ("set", _p_how)},
    doc="x.at[idx].set(v) (how: set, add, multiply, min, max) on (x, v, traced indices…): a new array",
))
