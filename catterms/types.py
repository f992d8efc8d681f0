"""Objects of the category: array types and (nested) products of them.

An object is either an :class:`Array` (a shape and a float dtype) or a Python ``tuple`` of objects, the
categorical product. Values follow the same structure: an ``ndarray`` for an :class:`Array`, a Python
tuple for a product. Because the paper's products are biproducts (§4.4), the same tuples also serve as
coproducts: ``inl``/``inr`` inject by padding with zeros of the other component's type.
"""

from __future__ import annotations

import math

from typing import Any, Union

import numpy as np

from .errors import TermTypeError

#: dtypes that terms compute in. Complex numbers would need conjugate transposes; they are refused.
DTYPES: tuple[str, ...] = ("float64", "float32")


class Array:
    """The object of ``dtype`` arrays of one fixed ``shape``; also a spec for :func:`catterms.compile`.

    Immutable. Its hash is computed once: types key the caches of every interpretation, and folds hash
    one per node."""

    __slots__ = ("shape", "dtype", "_hash")
    shape: tuple[int, ...]
    dtype: str

    def __init__(self, shape: tuple[int, ...] | list[int] | int, dtype: Any = "float64") -> None:
        dims = (shape,) if isinstance(shape, int) else tuple(shape)
        if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in dims):
            raise TermTypeError(f"an array shape needs non-negative integer sizes, got {shape!r}")
        shape = tuple(int(d) for d in dims)
        dtype = dtype_name(dtype)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "_hash", hash((shape, dtype)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Array is immutable; cannot set {name}")

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not Array:
            return NotImplemented
        return self._hash == other._hash and self.shape == other.shape and self.dtype == other.dtype

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple:
        return Array, (self.shape, self.dtype)  # the hash is per process (string hashing is salted)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        return f"{'f64' if self.dtype == 'float64' else 'f32'}[{','.join(map(str, self.shape))}]"

    def __repr__(self) -> str:
        return f"Array({self.shape}, {self.dtype!r})"


_NAMES: dict[Any, str] = {}


def dtype_name(dtype: Any) -> str:
    """The name of a supported dtype (memoised: types are built for every node of every program)."""
    try:
        return _NAMES[dtype]
    except (KeyError, TypeError):
        pass
    name = np.dtype(dtype).name
    if name not in DTYPES:
        raise TermTypeError(f"unsupported dtype {name!r}: catterms computes in {', '.join(DTYPES)}")
    try:
        _NAMES[dtype] = name
    except TypeError:
        pass
    return name


Type = Union[Array, tuple]
"""An object: an :class:`Array` or a tuple of objects."""


def show(t: Type) -> str:
    """Render a type compactly, e.g. ``(f64[3], f64[])``."""
    if isinstance(t, Array):
        return str(t)
    return "(" + ", ".join(show(c) for c in t) + ")"


_ARRAYS: dict[tuple, Array] = {}
_FLOATS = (np.dtype("float64"), np.dtype("float32"))


def array_of(shape: tuple[int, ...], dtype: np.dtype) -> Array:
    """The :class:`Array` object for a shape and dtype, memoised: every call of the API needs one."""
    key = (shape, dtype)
    found = _ARRAYS.get(key)
    if found is None:
        found = _ARRAYS[key] = Array(shape, dtype)
    return found


def type_of(value: Any) -> Type:
    """The object a value belongs to; Python floats and ints count as float64 scalars."""
    if isinstance(value, tuple):
        return tuple(type_of(v) for v in value)
    if isinstance(value, np.ndarray) or isinstance(value, np.floating):
        return array_of(value.shape, value.dtype)
    if isinstance(value, (float, int, np.integer)) and not isinstance(value, bool):
        return array_of((), np.dtype("float64"))
    raise TermTypeError(f"a value must be an ndarray, a float or a tuple of these, got {type(value).__name__}")


def as_value(value: Any, t: Type | None = None) -> Any:
    """Normalise a user value into the value of type ``t`` (or its own type): arrays, float dtypes."""
    if type(value) is np.ndarray and value.dtype in _FLOATS and t is None:
        return value  # the common case, kept cheap: it is on every call's path
    if isinstance(value, tuple):
        parts = t if t is not None else (None,) * len(value)
        if t is not None and (not isinstance(t, tuple) or len(t) != len(value)):
            raise TermTypeError(f"expected a value of type {show(t)}, got a {len(value)}-tuple")
        return tuple(as_value(v, p) for v, p in zip(value, parts))
    if isinstance(value, list):
        raise TermTypeError("products are Python tuples, not lists: wrap arrays in np.asarray or tuple(...)")
    arr = np.asarray(value)
    if arr.dtype.kind in "iub" and (t is None or isinstance(t, Array)):
        arr = arr.astype(t.dtype if isinstance(t, Array) else "float64")
    if t is not None:
        if not isinstance(t, Array):
            raise TermTypeError(f"expected a value of type {show(t)}, got an array of shape {arr.shape}")
        if arr.shape != t.shape or arr.dtype.name != t.dtype:
            raise TermTypeError(f"expected a value of type {show(t)}, got {show(Array(arr.shape, arr.dtype))}")
        return arr
    type_of(arr)  # rejects complex/object dtypes with the documented error
    if arr.dtype.name not in DTYPES:
        raise TermTypeError(f"unsupported dtype {arr.dtype.name!r}: catterms computes in {', '.join(DTYPES)}")
    return arr


def leaves(t: Type) -> list[Array]:
    """The arrays of an object, left to right."""
    if isinstance(t, Array):
        return [t]
    return [a for c in t for a in leaves(c)]


def is_type(t: Any) -> bool:
    """Whether ``t`` is a well-formed object (used by the wire format and the front end)."""
    stack = [t]
    while stack:
        s = stack.pop()
        if isinstance(s, tuple):
            stack.extend(s)
        elif not isinstance(s, Array):
            return False
    return True
