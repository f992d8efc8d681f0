"""Construction with numpy's names: ``array``/``asarray`` of nested traced values, ``zeros_like`` and kin of
traced arrays, and the constants ``zeros``, ``eye``, ``arange``, ``linspace``, ….

Constants are made by numpy and *lifted*: inside :func:`catterms.compile` they are traced constants, so
that they have the traced arrays' methods (``cnp.zeros(3).at[0].set(x)``); outside, plain ndarrays.
``array`` of values some of which are traced stacks them (a linear map).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import TraceError
from ..frontend.tracer import holds_tracer, lifted
from ._arith import add, multiply, subtract
from ._logic import astype
from ._shapes import _shape, broadcast_to, moveaxis, reshape, stack
from ._wrap import Tracer, as_float, operand_type
from ._wrap import asarray as _operand

__all__ = [
    "arange", "array", "asarray", "empty", "empty_like", "eye", "full", "full_like", "identity", "indices",
    "linspace", "meshgrid", "ones", "ones_like", "tri", "zeros", "zeros_like",
]


def _nested(obj: Any) -> Any:
    if not isinstance(obj, (list, tuple)) or not holds_tracer(obj):
        return _operand(obj)
    parts = [_nested(o) for o in obj]
    if len({_shape(p) for p in parts}) > 1:
        raise TraceError(f"cnp.array: the nested sequence is ragged (shapes {[_shape(p) for p in parts]}); "
                         "numpy makes arrays of equal-shaped parts only")
    return stack(parts)


def array(object: Any, dtype: Any = None, *, copy: bool = True, ndmin: int = 0) -> Any:
    """An array from an array or nested sequences of arrays and numbers, traced or not (stacked); ``dtype``
    converts. A constant one is a traced constant inside ``ct.compile``. ``copy`` is accepted for numpy's
    signature: arrays here are immutable, so a copy is never observable."""
    if holds_tracer(object):
        out = _nested(object)
        out = out if dtype is None else astype(out, dtype)
    else:
        out = _construct("array", np.array, object, dtype=dtype)
    missing = ndmin - len(_shape(out))
    return reshape(out, (1,) * missing + _shape(out)) if missing > 0 else out


def asarray(a: Any, dtype: Any = None) -> Any:
    """A traced array as it is (converted to ``dtype`` if given); anything else as :func:`array` makes it."""
    if isinstance(a, Tracer):
        return a if dtype is None else astype(a, dtype)
    return array(a, dtype)


def _construct(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, a constant, lifted into the function being compiled."""
    if holds_tracer(list(args) + list(kwargs.values())):
        raise TraceError(f"cnp.{name} makes a constant, so its arguments must be static; for traced values "
                         "build it from them (e.g. cnp.full_like(x, v), a + cnp.arange(n) * step)")
    try:
        value = fn(*args, **kwargs)
    except (TypeError, ValueError) as e:
        raise TraceError(f"cnp.{name}: {e}") from None
    return tuple(lifted(v) for v in value) if isinstance(value, tuple) else lifted(value)


def zeros(shape: Any, dtype: Any = float) -> Any:
    """A constant array of zeros."""
    return _construct("zeros", np.zeros, shape, dtype)


def ones(shape: Any, dtype: Any = float) -> Any:
    """A constant array of ones."""
    return _construct("ones", np.ones, shape, dtype)


def empty(shape: Any, dtype: Any = float) -> Any:
    """A constant array; its values are zeros (numpy leaves them unspecified)."""
    return _construct("empty", np.zeros, shape, dtype)


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Any:
    """``fill_value`` in every element: a constant, or a traced scalar broadcast."""
    return _filled("full", shape, fill_value, dtype)


def _filled(name: str, shape: Any, fill: Any, dtype: Any) -> Any:
    if isinstance(fill, Tracer):  # the one case that is not a constant
        shape = (shape,) if isinstance(shape, int) else shape
        return broadcast_to(fill if dtype is None else astype(fill, dtype), shape)
    return _construct(name, np.full, shape, fill, dtype)


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = float) -> Any:
    """A constant matrix with ones on the ``k``-th diagonal."""
    return _construct("eye", np.eye, N, M, k, dtype)


def identity(n: int, dtype: Any = None) -> Any:
    """The constant identity matrix."""
    return _construct("identity", np.identity, n, dtype)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = float) -> Any:
    """A constant matrix with ones at and below the ``k``-th diagonal."""
    return _construct("tri", np.tri, N, M, k, dtype)


def arange(*args: Any, dtype: Any = None) -> Any:
    """Constant evenly spaced values: ``arange([start,] stop[, step])``."""
    return _construct("arange", np.arange, *args, dtype=dtype)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``: a constant, or, for traced endpoints,
    ``start + t · (stop − start)`` with the constant fractions ``t`` (along a new axis ``axis``)."""
    if not (holds_tracer(start) or holds_tracer(stop)):
        return _construct("linspace", np.linspace, start, stop, num, endpoint, retstep, dtype, axis)
    div = num - 1 if endpoint else num
    first, last = as_float(_operand(start)), as_float(_operand(stop))
    ndim = len(np.broadcast_shapes(operand_type(first).shape, operand_type(last).shape))
    fractions = (np.arange(num, dtype=np.float64) / max(div, 1)).reshape((num,) + (1,) * ndim)
    delta = subtract(last, first)
    y = moveaxis(add(first, multiply(fractions, delta)), 0, axis)
    y = y if dtype is None else astype(y, dtype)
    return (y, multiply(delta, 1.0 / div) if div > 0 else np.nan) if retstep else y


def indices(dimensions: Sequence[int], dtype: Any = int, sparse: bool = False) -> Any:
    """The constant grid of indices of an array of shape ``dimensions``."""
    return _construct("indices", np.indices, dimensions, dtype, sparse)


def _like(name: str, a: Any, fill: Any, dtype: Any, shape: Any) -> Any:
    ty = operand_type(a)
    return _filled(name, ty.shape if shape is None else shape, fill, ty.dtype if dtype is None else dtype)


def zeros_like(a: Any, dtype: Any = None, *, shape: Any = None) -> Any:
    """Constant zeros of ``a``'s shape and dtype (or those given)."""
    return _like("zeros_like", a, 0, dtype, shape)


def ones_like(a: Any, dtype: Any = None, *, shape: Any = None) -> Any:
    """Constant ones of ``a``'s shape and dtype (or those given)."""
    return _like("ones_like", a, 1, dtype, shape)


def empty_like(a: Any, dtype: Any = None, *, shape: Any = None) -> Any:
    """A constant of ``a``'s shape and dtype (or those given); its values are zeros."""
    return _like("empty_like", a, 0, dtype, shape)


def full_like(a: Any, fill_value: Any, dtype: Any = None, *, shape: Any = None) -> Any:
    """``fill_value`` in ``a``'s shape and dtype (or those given); a traced ``fill_value`` is broadcast."""
    return _like("full_like", a, fill_value, dtype, shape)


def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple:
    """Coordinate arrays from coordinate vectors (``indexing`` 'xy' swaps the first two axes, as numpy):
    each vector reshaped along its own axis and, unless ``sparse``, broadcast to the full grid (``copy``
    is accepted for numpy's signature; the arrays are immutable)."""
    if indexing not in ("xy", "ij"):
        raise TraceError(f"cnp.meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    n = len(xi)
    axes = list(range(n))
    if indexing == "xy" and n > 1:
        axes[0], axes[1] = 1, 0
    out = [reshape(_operand(x), tuple(-1 if k == ax else 1 for k in range(n))) for x, ax in zip(xi, axes)]
    if not sparse and out:
        grid = tuple(int(np.prod(_shape(x))) for x in xi)
        grid = (grid[1], grid[0]) + grid[2:] if indexing == "xy" and n > 1 else grid
        out = [broadcast_to(x, grid) for x in out]
    return tuple(out)
