"""How a numpy-named function becomes primitives: the helpers every module of :mod:`catterms.numpy` uses.

:func:`apply` records a primitive on traced operands or computes it on constants (so constant
subexpressions fold). numpy's dtype rules are applied here, before a primitive sees its operands: a
function that is defined on floats (``sin``, ``divide``) gets integer and boolean operands converted to
float64 first (numpy's ``np.sin(int)`` is float64), while arithmetic and comparisons keep integers
(index arithmetic). Python numbers are weakly typed, as numpy's NEP 50 says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import TraceError
from ..frontend.tracer import Tracer, apply, constant, operand, operand_type
from ..prims import TABLE

__all__ = ["Tracer", "apply", "as_float", "asarray", "binary", "constant", "dtype_of", "is_traced", "named",
           "no_out", "operand", "operand_type", "unary"]  # the sibling modules' toolkit, not catterms.numpy's names


def named(f: Callable[..., Any], name: str, prim: str | None = None, doc: str | None = None) -> Callable[..., Any]:
    """``f`` under numpy's ``name``, documented by its primitive's table row (or ``doc``)."""
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc if doc is not None else f"{TABLE[prim].doc} (the primitive ``{prim}``)" if prim else None
    return f


def is_traced(x: Any) -> bool:
    return isinstance(x, Tracer)


def dtype_of(x: Any) -> np.dtype:
    """The dtype of an operand (a Python number's default dtype)."""
    return np.dtype(operand_type(x).dtype)


def as_float(x: Any) -> Any:
    """``x`` with integer and boolean dtypes converted to float64, as numpy's float functions do; Python
    numbers are left alone (they adopt the other operands' dtype)."""
    if isinstance(x, (int, float)) and not isinstance(x, Tracer):
        return x
    if dtype_of(x).kind == "f":
        return x
    return apply("astype", (x,), dtype="float64")


def unary(prim: str, name: str | None = None, floats: bool = True) -> Callable[[Any], Any]:
    """A function of one array, numpy's name for the primitive ``prim``; ``floats`` converts integers first
    (``sin``), without it integers stay integers (``abs``, ``sign``, ``logical_not``)."""
    if floats:
        return named(lambda x: apply(prim, (as_float(x),)), name or prim, prim)
    return named(lambda x: apply(prim, (x,)), name or prim, prim)


def binary(prim: str, name: str | None = None, floats: bool = True) -> Callable[[Any, Any], Any]:
    """A broadcasting function of two arrays; ``floats`` converts integer operands first."""
    if floats:
        return named(lambda a, b: apply(prim, (as_float(a), as_float(b))), name or prim, prim)
    return named(lambda a, b: apply(prim, (a, b)), name or prim, prim)


def no_out(name: str, out: Any) -> None:
    """numpy's ``out=``: refused, since traced arrays are immutable (the result is the value)."""
    if out is not None:
        raise TraceError(f"cnp.{name}: out= is not supported (traced arrays are immutable); use the result")


def asarray(x: Any) -> Any:
    """A traced array as it is; a list or tuple holding traced arrays stacked into one; anything else as the
    constant ndarray it stands for."""
    x = operand(x)
    return x if isinstance(x, Tracer) else constant(x)

