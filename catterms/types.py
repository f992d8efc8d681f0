"""Objects of the category: array types and (nested) products of them.

An object is either an :class:`Array` (a shape and a dtype) or a Python ``tuple`` of objects, the
categorical product. Float arrays are vector spaces with tangents; integer and boolean arrays (indices,
comparisons, counts) are values *without* a tangent — their tangent space is trivial, as JAX's ``float0``:
a linear map skips them, and the API hands ``None`` for their tangent or cotangent. Values follow the same
structure: an ``ndarray`` for an :class:`Array`, a Python tuple (or list) for a product. Because the paper's
products are biproducts (§4.4), the same tuples also serve as coproducts: ``inl``/``inr`` inject by padding
with zeros of the other component's type.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import TermTypeError
from .trees import leaves

#: dtypes that terms compute in. Complex numbers would need conjugate transposes; they are refused.
DTYPES: tuple[str, ...] = ("float64", "float32", "int64", "int32", "bool")
#: The dtypes with tangents.
FLOAT_DTYPES: tuple[str, ...] = ("float64", "float32")
_SHORT = {"float64": "f64", "float32": "f32", "int64": "i64", "int32": "i32", "bool": "bool"}


class Array:
    """The object of ``dtype`` arrays of one fixed ``shape``; also a spec for :func:`catterms.compile`.

    Immutable. Its hash is computed once: types key the caches of every interpretation, and folds hash
    one per node."""

    __slots__ = ("shape", "dtype", "size", "_hash")
    shape: tuple[int, ...]
    dtype: str
    size: int  # the number of elements, kept: every primitive's cost rule reads it
    _hash: int

    def __init__(self, shape: tuple[int, ...] | list[int] | int, dtype: Any = "float64") -> None:
        dims = (shape,) if isinstance(shape, int) else tuple(shape)
        if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in dims):
            raise TermTypeError(f"an array shape needs non-negative integer sizes, got {shape!r}")
        shape = tuple(int(d) for d in dims)
        dtype = dtype_name(dtype)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "size", math.prod(shape))
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
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def differentiable(self) -> bool:
        """Whether values of this type have tangents (float arrays do; integer and boolean ones do not)."""
        return self.dtype in FLOAT_DTYPES

    def __str__(self) -> str:
        return f"{_SHORT[self.dtype]}[{','.join(map(str, self.shape))}]"

    def __repr__(self) -> str:
        return f"Array({self.shape}, {self.dtype!r})"


_NAMES: dict[Any, str] = {}


def broadcast_shapes(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """``np.broadcast_shapes``, with its common cases — equal shapes, scalars — answered without it: it costs
    microseconds, and shape rules and derivative rules call it once per node."""
    first = tuple(shapes[0])
    if all(s == first or s == () for s in shapes[1:]):
        return first
    return np.broadcast_shapes(*shapes)


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


Type = Array | tuple
"""An object: an :class:`Array` or a tuple of objects."""


def show(t: Type) -> str:
    """Render a type compactly, e.g. ``(f64[3], f64[])``."""
    if isinstance(t, Array):
        return str(t)
    return "(" + ", ".join(show(c) for c in t) + ")"


_ARRAYS: dict[tuple, Array] = {}
_SUPPORTED = tuple(np.dtype(d) for d in DTYPES)
#: Python scalars as the arrays they stand for (numpy's defaults).
_SCALARS = {bool: np.dtype("bool"), int: np.dtype("int64"), float: np.dtype("float64")}


def array_of(shape: tuple[int, ...], dtype: np.dtype) -> Array:
    """The :class:`Array` object for a shape and dtype, memoised: every call of the API needs one."""
    key = (shape, dtype)
    found = _ARRAYS.get(key)
    if found is None:
        found = _ARRAYS[key] = Array(shape, dtype)
    return found


def type_of(value: Any) -> Type:
    """The object a value belongs to: arrays and numpy scalars by their dtype; Python ``float``, ``int``
    and ``bool`` as float64, int64 and bool scalars (numpy's defaults)."""
    if isinstance(value, tuple):
        return tuple(type_of(v) for v in value)
    if isinstance(value, list):
        return tuple(type_of(v) for v in _product(value))
    if isinstance(value, (np.ndarray, np.generic)):
        return array_of(value.shape, value.dtype)
    kind = _SCALARS.get(type(value))
    if kind is not None:
        return array_of((), kind)
    if isinstance(value, (bool, int, float)):  # subclasses (IntEnum, …)
        return array_of((), np.asarray(value).dtype)
    raise TermTypeError(f"a value must be an ndarray, a Python or numpy scalar, or a tuple of these; "
                        f"got {type(value).__name__}")


def as_value(value: Any, t: Type | None = None) -> Any:
    """Normalise a user value into the value of type ``t`` (or of its own type).

    With ``t`` given, numbers convert to ``t``'s dtype where numpy would do so safely (an integer array where
    floats are expected, a Python int where an int32 is); anything else must match exactly."""
    if type(value) is np.ndarray and value.dtype in _SUPPORTED and t is None:
        return value  # the common case, kept cheap: it is on every call's path
    if isinstance(value, list):
        value = _product(value)
    if isinstance(value, tuple):
        if t is not None and (not isinstance(t, tuple) or len(t) != len(value)):
            raise TermTypeError(f"expected a value of type {show(t)}, got a {len(value)}-tuple")
        parts = t if isinstance(t, tuple) else (None,) * len(value)
        return tuple(as_value(v, p) for v, p in zip(value, parts))
    if value is None:
        raise TermTypeError("a value is missing (None)" + (f" where {show(t)} is expected" if t is not None else ""))
    if t is not None and not isinstance(t, Array):
        raise TermTypeError(f"expected a value of type {show(t)}, got an array of shape {np.shape(value)}")
    kind = _SCALARS.get(type(value))
    arr = np.asarray(value, dtype=kind)
    if t is not None:
        if arr.dtype.name != t.dtype and _converts(arr, type(value) in _SCALARS, t.dtype):
            arr = arr.astype(t.dtype)
        if arr.shape != t.shape or arr.dtype.name != t.dtype:
            raise TermTypeError(f"expected a value of type {show(t)}, got {_describe(arr)}")
        return arr
    if arr.dtype.name not in DTYPES:
        raise TermTypeError(f"unsupported dtype {arr.dtype.name!r}: catterms computes in {', '.join(DTYPES)}")
    return arr


def widened(arr: np.ndarray) -> np.ndarray:
    """``arr`` with a narrow or unsigned integer dtype (int8, int16, uint*) widened to int64, the integer
    dtype catterms computes in beside int32 (constants written in numpy's small dtypes are indices too)."""
    if arr.dtype.kind == "u" or arr.dtype in (np.int8, np.int16):
        return arr.astype("int64")
    return arr


def _product(value: list) -> tuple:
    """A list as a product, as JAX and autograd read it: the tuple of its elements (at least two)."""
    if len(value) < 2:
        raise TermTypeError(f"a list is a product of its elements, and a product has at least two; got a list of "
                            f"{len(value)}: pass the element itself (or np.asarray(...) for an array)")
    return tuple(value)


def _converts(arr: np.ndarray, python_scalar: bool, dtype: str) -> bool:
    """Whether a value of ``arr``'s dtype may stand for one of ``dtype``: integers and booleans where
    floats are expected, and a Python number (weakly typed, as numpy's NEP 50 says) of the same kind."""
    kind = np.dtype(dtype).kind
    return (arr.dtype.kind in "iub" and kind == "f") or (python_scalar and arr.dtype.kind == kind)


def _describe(arr: np.ndarray) -> str:
    return str(Array(arr.shape, arr.dtype)) if arr.dtype.name in DTYPES else f"an array of dtype {arr.dtype.name}"


def as_tangent(value: Any, t: Type) -> Any:
    """Normalise a tangent (or cotangent) for type ``t``: :func:`as_value` on the parts with a tangent;
    the integer and boolean parts take ``None`` (anything else given there is ignored)."""
    if isinstance(t, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(t):
            raise TermTypeError(f"expected a tangent of type {show(t)}, got {type(value).__name__}")
        return tuple(as_tangent(v, c) for v, c in zip(value, t))
    return as_value(value, t) if t.differentiable else None


def differentiable(t: Type) -> bool:
    """Whether any part of ``t`` has a tangent."""
    return any(a.differentiable for a in leaves(t))


def is_type(t: Any) -> bool:
    """Whether ``t`` is a well-formed object (used by the wire format and the front end)."""
    return all(isinstance(a, Array) for a in leaves(t))
