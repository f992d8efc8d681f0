"""Shapes, joining and splitting with numpy's names (construction is :mod:`._construct`).

All of these are linear maps made of a handful of structural primitives (:mod:`catterms.prims.structure`
and ``index``), composed the way numpy itself computes them, so they cost what numpy's own functions
cost: ``ravel``, ``squeeze``, ``expand_dims`` and ``atleast_*`` are ``reshape``; ``swapaxes``,
``moveaxis`` and ``rollaxis`` are ``transpose``; ``flip`` is a reversed slice; ``roll`` is two slices
joined; ``tile`` and ``repeat`` broadcast a reshaped view; ``diagonal`` is a strided slice of the
flattened matrix (a view, as numpy's), ``diag`` of a vector one ``pad``; ``tril``, ``triu`` and
``select`` are ``where``, as in numpy. The one primitive of this family is ``pad`` (a constant around an
array; its derivative pads with zeros, whose transpose is a slice). Integer and boolean arrays keep their
dtype throughout.

Where numpy returns a list (``split`` and its kin) these return a tuple, the product a compiled function
can return.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from ..errors import TermTypeError, TraceError
from ..frontend.tracer import holds_tracer
from ..prims import TABLE, norm_axes
from ..types import Array
from ._logic import astype, where
from ._wrap import Tracer, apply, dtype_of, no_out, operand_type
from ._wrap import asarray as _operand

__all__ = [
    "append", "c_", "r_", "array_split", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to", "column_stack",
    "concatenate", "diag", "diagonal", "dsplit", "dstack", "expand_dims", "flip", "fliplr", "flipud", "hsplit",
    "hstack", "moveaxis", "pad", "ravel", "repeat", "reshape", "roll", "rollaxis", "rot90", "row_stack",
    "select", "split", "squeeze", "stack", "swapaxes", "tile", "transpose", "tril", "triu", "vsplit",
    "vstack",
]

#: numpy's ``casting`` rules, for the functions that join arrays.
Casting = Literal["no", "equiv", "safe", "same_kind", "unsafe"]


def _shape(x: Any) -> tuple[int, ...]:
    return operand_type(x).shape


def _axis(name: str, axis: int, ndim: int) -> int:
    return norm_axes(name, axis, ndim)[0]


# --- reshaping and permuting -----------------------------------------------------------------------------


def transpose(a: Any, axes: Sequence[int] | None = None) -> Any:
    """Permute axes (reverse them when ``axes`` is None); the identity permutation adds nothing."""
    if isinstance(a, Tracer) and axes is not None and tuple(axes) == tuple(range(a.ndim)):
        return a
    return apply("transpose", (a,), axes=axes)


def reshape(a: Any, shape: Any) -> Any:
    """Reshape; one size may be -1. Reshaping to the same shape adds nothing."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return a if isinstance(a, Tracer) and shape == a.shape else apply("reshape", (a,), shape=shape)


def broadcast_to(array: Any, shape: Any) -> Any:
    """Broadcast to a larger shape with numpy's rules."""
    return apply("broadcast_to", (array,), shape=shape)


def ravel(a: Any, order: str = "C") -> Any:
    """The elements in one axis, in C order (``x.flatten()`` and ``x.ravel()`` too)."""
    if order != "C":
        raise TraceError(f"cnp.ravel supports order='C' only, got {order!r}: transpose first for another order")
    return reshape(a, (-1,))


def squeeze(a: Any, axis: int | Sequence[int] | None = None) -> Any:
    """Drop axes of size 1 (all of them when ``axis`` is None)."""
    shape = _shape(a)
    axes = tuple(i for i, d in enumerate(shape) if d == 1) if axis is None else norm_axes("squeeze", axis, len(shape))
    if any(shape[i] != 1 for i in axes):
        raise TermTypeError(f"squeeze: cannot squeeze axis {axis!r} of shape {shape}: its size is not 1")
    return reshape(a, tuple(d for i, d in enumerate(shape) if i not in axes))


def expand_dims(a: Any, axis: int | Sequence[int]) -> Any:
    """Insert axes of size 1 at ``axis`` (positions in the result)."""
    shape = _shape(a)
    axes = norm_axes("expand_dims", axis, len(shape) + (1 if isinstance(axis, int) else len(axis)))
    rest = iter(shape)
    return reshape(a, tuple(1 if i in axes else next(rest) for i in range(len(shape) + len(axes))))


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """Exchange two axes."""
    n = len(_shape(a))
    i, j = _axis("swapaxes", axis1, n), _axis("swapaxes", axis2, n)
    perm = list(range(n))
    perm[i], perm[j] = j, i
    return transpose(a, perm)


def moveaxis(a: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Any:
    """Move axes to new positions, keeping the order of the others."""
    n = len(_shape(a))
    src = [_axis("moveaxis", s, n) for s in ((source,) if isinstance(source, int) else source)]
    dst = [_axis("moveaxis", d, n) for d in ((destination,) if isinstance(destination, int) else destination)]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise TermTypeError(f"moveaxis: source {source!r} and destination {destination!r} must be distinct axes, "
                            "as many of each")
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """Move ``axis`` to sit before position ``start`` (numpy's older spelling of :func:`moveaxis`)."""
    n = len(_shape(a))
    axis = _axis("rollaxis", axis, n)
    start = start + n if start < 0 else start
    if not 0 <= start <= n:
        raise TermTypeError(f"rollaxis: start {start} is out of range for rank {n}")
    order = [i for i in range(n) if i != axis]
    order.insert(start - 1 if axis < start else start, axis)
    return transpose(a, order)


def atleast_1d(*arys: Any) -> Any:
    """Each argument with at least one axis (one argument: the array; several: a tuple)."""
    return _atleast(arys, lambda s: s or (1,))


def atleast_2d(*arys: Any) -> Any:
    """Each argument with at least two axes, new ones in front (one argument: the array; several: a tuple)."""
    return _atleast(arys, lambda s: (1,) * (2 - len(s)) + s if len(s) < 2 else s)


def atleast_3d(*arys: Any) -> Any:
    """Each argument with at least three axes, as numpy places them: ``(n,)`` becomes ``(1, n, 1)`` and
    ``(m, n)`` becomes ``(m, n, 1)`` (one argument: the array; several: a tuple)."""
    return _atleast(arys, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s))


def _atleast(arys: tuple, grow: Callable[[tuple[int, ...]], tuple[int, ...]]) -> Any:
    out = tuple(reshape(_operand(a), grow(_shape(a))) for a in arys)
    return out[0] if len(out) == 1 else out


# --- reordering elements ---------------------------------------------------------------------------------


def _index(a: Any, idx: tuple) -> Any:
    return apply("index", (a,), idx=idx)


def _along(axis: int, item: Any) -> tuple:
    """An index applying ``item`` to ``axis`` alone."""
    return (slice(None),) * axis + (item,)


def flip(m: Any, axis: int | Sequence[int] | None = None) -> Any:
    """Reverse the order of elements along ``axis`` (all axes when None): one reversed slice, a view."""
    n = len(_shape(m))
    axes = norm_axes("flip", axis, n)
    return _index(m, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(n)))


def flipud(m: Any) -> Any:
    """Reverse the first axis."""
    return flip(m, 0)


def fliplr(m: Any) -> Any:
    """Reverse the second axis (of an array with at least two)."""
    if len(_shape(m)) < 2:
        raise TermTypeError(f"fliplr needs an array of at least two axes, got shape {_shape(m)}")
    return flip(m, 1)


def rot90(m: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Any:
    """Rotate by 90° ``k`` times in the plane of ``axes``, from the first axis towards the second."""
    n = len(_shape(m))
    axes = tuple(axes)
    if len(axes) != 2:
        raise TermTypeError(f"rot90: axes must be two axes, got {axes!r}")
    i, j = _axis("rot90", axes[0], n), _axis("rot90", axes[1], n)
    if i == j:
        raise TermTypeError(f"rot90: axes {axes!r} must be different")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(m, (i, j))
    return swapaxes(flip(m, j), i, j) if k == 1 else flip(swapaxes(m, i, j), j)


def roll(a: Any, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Any:
    """Shift elements cyclically along ``axis`` (the flattened array when None): two slices joined."""
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), _shape(a))
    shape = _shape(a)
    try:
        pairs = np.broadcast(np.asarray(shift), np.asarray(axis))
    except ValueError:
        raise TermTypeError(f"roll: shift {shift!r} and axis {axis!r} do not broadcast") from None
    shifts: dict[int, int] = {}
    for s, ax in pairs:  # shifts of one axis add up, as numpy's
        ax = _axis("roll", int(ax), len(shape))
        shifts[ax] = shifts.get(ax, 0) + int(s)
    for ax, s in shifts.items():
        cut = shape[ax] - s % shape[ax] if shape[ax] else 0
        if cut not in (0, shape[ax]):
            a = concatenate([_index(a, _along(ax, slice(cut, None))), _index(a, _along(ax, slice(None, cut)))], ax)
    return a


def _p_counts(name: str, v: Any) -> tuple[int, ...]:
    if isinstance(v, Tracer):
        raise TraceError(f"cnp.{name}: the counts must be static (Python ints or lists), not traced")
    counts = np.asarray(v)
    if counts.ndim > 1 or counts.dtype.kind not in "iub" or (counts < 0).any():
        raise TermTypeError(f"{name}: counts must be non-negative integers, got {v!r}")
    return tuple(int(c) for c in counts.ravel())


def tile(A: Any, reps: int | Sequence[int]) -> Any:
    """``A`` repeated ``reps`` times along each axis: a reshaped view broadcast, then laid out."""
    reps = _p_counts("tile", reps) or (1,)
    shape = _shape(A)
    n = max(len(shape), len(reps))
    shape, reps = (1,) * (n - len(shape)) + shape, (1,) * (n - len(reps)) + reps
    out = tuple(r * d for r, d in zip(reps, shape))
    if all(r == 1 for r in reps):
        return reshape(A, out)
    interleaved = reshape(A, tuple(x for d in shape for x in (1, d)))
    spread = broadcast_to(interleaved, tuple(x for p in zip(reps, shape) for x in p))
    return reshape(spread, out)


def repeat(a: Any, repeats: int | Sequence[int], axis: int | None = None) -> Any:
    """Each element repeated ``repeats`` times along ``axis`` (of the flattened array when None); one count
    for all is a broadcast view laid out, one count per element a gather."""
    if axis is None:
        a, axis = ravel(a), 0
    shape = _shape(a)
    ax = _axis("repeat", axis, len(shape))
    counts = _p_counts("repeat", repeats)
    n = shape[ax]
    if len(counts) == 1:
        wide = shape[:ax + 1] + (counts[0],) + shape[ax + 1:]
        return reshape(broadcast_to(reshape(a, shape[:ax + 1] + (1,) + shape[ax + 1:]), wide),
                       shape[:ax] + (n * counts[0],) + shape[ax + 1:])
    if len(counts) != n:
        raise TermTypeError(f"repeat: {len(counts)} counts for an axis of length {n}")
    return _index(a, _along(ax, np.repeat(np.arange(n), counts)))


# --- joining and splitting ---------------------------------------------------------------------------------


def _join(name: str, arrays: Any, axis: int, dtype: Any, casting: Casting = "same_kind") -> Any:
    parts = tuple(_operand(p) for p in arrays)
    if not parts:
        raise TermTypeError(f"{name} needs at least one array")
    # numpy's result dtype, made explicit so each part's tangent keeps its own dtype
    common = np.dtype(dtype) if dtype is not None else np.result_type(*(dtype_of(p) for p in parts))
    for p in parts:
        if not np.can_cast(dtype_of(p), common, casting):
            raise TermTypeError(f"cnp.{name}: cannot cast {dtype_of(p)} to {common} with casting={casting!r}")
    parts = tuple(astype(p, common) for p in parts)
    if len(parts) != 1:
        return apply(name, parts, axis=axis)
    # A term has no 1-tuples, so one part is handled here, after the same shape check.
    rule = TABLE[name]
    cod = rule.type((operand_type(parts[0]),), **dict(rule.canonical({"axis": axis})))
    assert isinstance(cod, Array)  # joining arrays gives an array
    return parts[0] if name == "concatenate" else reshape(parts[0], cod.shape)


def concatenate(arrays: Sequence[Any], axis: int | None = 0, out: None = None, *, dtype: Any = None,
                casting: Casting = "same_kind") -> Any:
    """Join arrays along an existing axis (of their flattened forms when ``axis`` is None)."""
    no_out("concatenate", out)
    if axis is None:
        return _join("concatenate", [ravel(_operand(p)) for p in arrays], 0, dtype, casting)
    return _join("concatenate", arrays, axis, dtype, casting)


def stack(arrays: Sequence[Any], axis: int = 0, out: None = None, *, dtype: Any = None,
          casting: Casting = "same_kind") -> Any:
    """Join same-shaped arrays along a new axis."""
    no_out("stack", out)
    return _join("stack", arrays, axis, dtype, casting)


def _tuple(v: Any) -> tuple:
    return v if isinstance(v, tuple) else (v,)


def hstack(tup: Sequence[Any], *, dtype: Any = None, casting: Casting = "same_kind") -> Any:
    """Join along the second axis (the first, for 1-d arrays)."""
    parts = _tuple(atleast_1d(*tup))
    return concatenate(parts, 0 if parts and len(_shape(parts[0])) == 1 else 1, dtype=dtype, casting=casting)


def vstack(tup: Sequence[Any], *, dtype: Any = None, casting: Casting = "same_kind") -> Any:
    """Join along the first axis, 1-d arrays as rows."""
    return concatenate(_tuple(atleast_2d(*tup)), 0, dtype=dtype, casting=casting)


row_stack = vstack


def dstack(tup: Sequence[Any]) -> Any:
    """Join along the third axis (after :func:`atleast_3d`)."""
    return concatenate(_tuple(atleast_3d(*tup)), 2)


def _columns(parts: Sequence[Any]) -> list[Any]:
    """Each part with 1-d (and 0-d) arrays made columns, as ``column_stack`` and ``c_`` take them."""
    return [reshape(p, (-1, 1)) if len(_shape(p)) < 2 else p for p in map(_operand, parts)]


def column_stack(tup: Sequence[Any]) -> Any:
    """Join 1-d arrays as columns (and 2-d ones as they are) into a 2-d array."""
    return concatenate(_columns(tup), 1)


class _Concatenator:
    """numpy's ``r_`` and ``c_`` for traced arrays: ``r_[a, b, 0:3]`` joins along the first axis (slices
    are ``arange``/``linspace`` constants as numpy makes them); ``c_[a, b]`` joins columns, 1-d arrays as
    columns, along the last axis."""

    def __init__(self, name: str, columns: bool) -> None:
        self.name, self.columns = name, columns

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if any(isinstance(it, str) for it in items):
            raise TraceError(f"cnp.{self.name}: string directives ('0,2', 'r', 'c') are not supported; use "
                             "cnp.concatenate or cnp.stack with the axis you mean")
        parts = [np.r_[it] if isinstance(it, slice) else _operand(it) for it in items]
        if self.columns:
            return concatenate(_columns(parts), -1)
        return concatenate([atleast_1d(p) for p in parts], 0)


r_ = _Concatenator("r_", columns=False)
c_ = _Concatenator("c_", columns=True)


def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """``arr`` followed by ``values`` along ``axis`` (both flattened when None)."""
    if axis is None:
        return concatenate([ravel(_operand(arr)), ravel(_operand(values))], 0)
    return concatenate([arr, values], axis)


def array_split(ary: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> tuple:
    """Pieces along ``axis``: ``N`` nearly equal ones (the first ``n % N`` one longer), or cut at the given
    indices. Each piece is a slice (a view); a tuple, where numpy gives a list."""
    shape = _shape(ary)
    ax = _axis("array_split", axis, len(shape))
    n = shape[ax]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise TermTypeError(f"array_split: the number of sections must be positive, got {k}")
        each, extra = divmod(n, k)
        cuts = np.cumsum([0] + [each + 1] * extra + [each] * (k - extra)).tolist()
    else:
        cuts = [0] + [int(i) for i in indices_or_sections] + [n]
    return tuple(_index(ary, _along(ax, slice(lo, hi))) for lo, hi in zip(cuts[:-1], cuts[1:]))


def split(ary: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> tuple:
    """Pieces along ``axis``: ``N`` equal ones, or cut at the given indices (a tuple of views)."""
    if isinstance(indices_or_sections, (int, np.integer)):
        n = _shape(ary)[_axis("split", axis, len(_shape(ary)))]
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise TermTypeError(f"split: an axis of length {n} does not split into {indices_or_sections} equal parts; "
                                "use cnp.array_split for unequal parts")
    return array_split(ary, indices_or_sections, axis)


def _split_at_least(name: str, ary: Any, sections: Any, ndim: int, axis: int) -> tuple:
    if len(_shape(ary)) < ndim:
        raise TermTypeError(f"{name} needs an array of at least {ndim} axes, got shape {_shape(ary)}")
    return split(ary, sections, axis)


def hsplit(ary: Any, indices_or_sections: int | Sequence[int]) -> tuple:
    """:func:`split` along the second axis (the first, for 1-d arrays)."""
    return _split_at_least("hsplit", ary, indices_or_sections, 1, 1 if len(_shape(ary)) > 1 else 0)


def vsplit(ary: Any, indices_or_sections: int | Sequence[int]) -> tuple:
    """:func:`split` along the first axis (of an array with at least two)."""
    return _split_at_least("vsplit", ary, indices_or_sections, 2, 0)


def dsplit(ary: Any, indices_or_sections: int | Sequence[int]) -> tuple:
    """:func:`split` along the third axis (of an array with at least three)."""
    return _split_at_least("dsplit", ary, indices_or_sections, 3, 2)


# --- padding -------------------------------------------------------------------------------------------------

PadMode = Literal["constant", "edge", "reflect", "symmetric", "wrap"]
_PAD_MODES: tuple[PadMode, ...] = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(array: Any, pad_width: Any, mode: PadMode = "constant", **kwargs: Any) -> Any:
    """Pad with numpy's ``pad_width`` forms. ``constant`` mode (``constant_values``, default 0) is the
    primitive ``pad``; ``edge``, ``reflect``, ``symmetric`` and ``wrap`` join gathered borders to the array
    along each axis in turn."""
    shape = _shape(array)
    try:
        given = np.broadcast_to(np.asarray(pad_width), (len(shape), 2))
        if given.dtype.kind not in "iu" or (given < 0).any():
            raise ValueError
    except ValueError:
        raise TermTypeError(f"pad: pad_width {pad_width!r} is not non-negative (before, after) sizes for shape "
                            f"{shape}") from None
    widths = tuple((int(b), int(e)) for b, e in given)
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"}, "symmetric": {"reflect_type"}}
    if mode not in _PAD_MODES or set(kwargs) - allowed.get(mode, set()) or kwargs.get("reflect_type", "even") != "even":
        raise TraceError(f"cnp.pad supports the modes {', '.join(_PAD_MODES)} (with constant_values for 'constant', "
                         f"reflect_type='even'), got mode={mode!r} with {sorted(kwargs)}")
    if mode == "constant":
        return _pad_constant(array, widths, kwargs.get("constant_values", 0))
    for ax, (b, e) in enumerate(widths):
        if b or e:
            if not shape[ax]:
                raise TermTypeError(f"pad: mode {mode!r} cannot pad the empty axis {ax} of shape {shape}")
            # the source of each new element, as numpy's own padding of the positions computes it
            source = np.pad(np.arange(shape[ax]), (b, e), mode=mode)
            before = [_index(array, _along(ax, source[:b]))] if b else []
            after = [_index(array, _along(ax, source[b + shape[ax]:]))] if e else []
            array = concatenate(before + [array] + after, ax)
    return array


def _pad_constant(array: Any, widths: tuple, value: Any) -> Any:
    if holds_tracer(value):
        raise TraceError("cnp.pad: constant_values must be static; for a traced value v write "
                         "cnp.where(mask, cnp.pad(x, w), v) with a constant mask")
    try:
        pairs = np.broadcast_to(np.asarray(value, dtype=np.float64), (len(widths), 2))
    except (TypeError, ValueError):
        raise TermTypeError(f"pad: constant_values={value!r} are not numbers, one or a (before, after) pair per axis "
                            f"of {len(widths)}") from None
    values = tuple((float(b), float(e)) for b, e in pairs) if pairs.any() else ()
    return apply("pad", (array,), pad_width=widths, constant_values=values)


# --- diagonals and triangles ---------------------------------------------------------------------------------


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The ``offset`` diagonal of the planes of ``axis1`` and ``axis2``, as a new last axis: a strided slice
    of each plane flattened (a view, as numpy's)."""
    shape = _shape(a)
    if len(shape) < 2:
        raise TermTypeError(f"diagonal needs an array of at least two axes, got shape {shape}")
    i, j = _axis("diagonal", axis1, len(shape)), _axis("diagonal", axis2, len(shape))
    if i == j:
        raise TermTypeError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2}")
    rows, cols = shape[i], shape[j]
    rest = [d for k, d in enumerate(shape) if k not in (i, j)]
    plane = reshape(transpose(a, [k for k in range(len(shape)) if k not in (i, j)] + [i, j]),
                    tuple(rest) + (rows * cols,))
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    start = offset if offset >= 0 else -offset * cols
    return _index(plane, (Ellipsis, slice(start, start + (length - 1) * (cols + 1) + 1 if length else start, cols + 1)))


def diag(v: Any, k: int = 0) -> Any:
    """A 1-d ``v`` as the ``k``-th diagonal of a square matrix; a 2-d ``v``'s ``k``-th diagonal."""
    shape = _shape(v)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise TermTypeError(f"diag takes a 1-d or 2-d array, got shape {shape}")
    n, size = shape[0], shape[0] + abs(k)
    # Flattened, the matrix holds v[i] at start + i·(size + 1): row i + q, column r of a (size, size + 1)
    # array whose first size² elements are the matrix. So one zero padding of v as a column builds it.
    q, r = divmod(k if k >= 0 else -k * size, size + 1)
    column = pad(reshape(v, (n, 1)), ((q, size - n - q), (r, size - r)))
    return reshape(_index(reshape(column, (-1,)), (slice(0, size * size),)), (size, size))


def _triangle(name: str, m: Any, keep: bool, k: int) -> Any:
    if not _shape(m):
        raise TermTypeError(f"{name} needs an array of at least one axis")
    rows_cols = _shape(m)[-2:]  # one axis: a square mask, as np.tri(n)
    mask = np.tri(rows_cols[0], rows_cols[-1], k=k, dtype=bool)
    zero = np.zeros(1, dtype_of(m))
    return where(mask, m, zero) if keep else where(mask, zero, m)


def tril(m: Any, k: int = 0) -> Any:
    """Zero above the ``k``-th diagonal (of the last two axes): a ``where`` with a constant mask, as numpy."""
    return _triangle("tril", m, True, k)


def triu(m: Any, k: int = 0) -> Any:
    """Zero below the ``k``-th diagonal (of the last two axes): a ``where`` with a constant mask, as numpy."""
    return _triangle("triu", m, False, k - 1)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """The first choice whose condition holds, elementwise, else ``default``: numpy's chain of ``where``."""
    if len(condlist) != len(choicelist) or not condlist:
        raise TermTypeError(f"select: needs as many conditions as choices, at least one; got {len(condlist)} "
                            f"and {len(choicelist)}")
    for i, c in enumerate(condlist):
        if dtype_of(c) != np.bool_:
            raise TermTypeError(f"select: condition {i} is {dtype_of(c)}, not bool; compare it first (c != 0)")
    out = default
    for c, x in zip(reversed(condlist), reversed(choicelist)):
        out = where(c, x, out)
    return out
