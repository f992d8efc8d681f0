"""Arithmetic with Python's operators and numpy's names: add, subtract, multiply, divide, power, negative.

The mapping from Python to primitives: ``a + b`` is ``add`` (and ``x + 0`` is ``x``, so Python's
``sum`` of a list of traced arrays starts cleanly); ``x * c`` for a scalar constant ``c`` of ``x``'s
dtype is the paper's ``scale c``; ``x ** p`` for a constant ``p`` is ``pow p``, and ``c ** x`` for a
constant ``c > 0`` is ``exp(x · ln c)``; ``-x`` is ``neg``. Python numbers take the dtype of the arrays
they meet, so float32 programs stay float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TraceError
from ._wrap import Tracer, apply, as_float, binary, constant, unary

__all__ = ["add", "divide", "multiply", "negative", "power", "subtract"]

negative = unary("neg", "negative")
subtract = binary("sub", "subtract", floats=False)
divide = binary("div", "divide")

def _is_zero(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, Tracer) and x == 0


def add(a: Any, b: Any) -> Any:
    """``a + b`` with broadcasting; adding the number 0 to a traced array returns it unchanged."""
    if isinstance(a, Tracer) and _is_zero(b):
        return a
    if isinstance(b, Tracer) and _is_zero(a):
        return b
    return apply("add", (a, b))


def multiply(a: Any, b: Any) -> Any:
    """``a * b`` with broadcasting; a traced array times a scalar constant that keeps its dtype is ``scale``."""
    for x, c in ((a, b), (b, a)):
        if isinstance(x, Tracer) and x.dtype.kind == "f" and not isinstance(c, Tracer) and np.ndim(c) == 0:
            s = constant(c, x.dtype)
            if np.result_type(x.dtype, s.dtype) == x.dtype:
                return apply("scale", (x,), s=float(s))
    return apply("mul", (a, b))


def _scalar(v: Any, what: str) -> float:
    if isinstance(v, Tracer) or np.ndim(v) != 0:
        raise TraceError(f"{what} must be a constant scalar, got {v!r}")
    return float(constant(v))


def power(x: Any, p: Any) -> Any:
    """``x ** p`` for a constant exponent ``p`` (the primitive ``pow``); ``c ** x`` for a constant
    ``c > 0`` is ``exp(x · ln c)``."""
    if isinstance(p, Tracer) and not isinstance(x, Tracer):
        base = _scalar(x, "the base of a traced exponent")
        if base <= 0:
            raise TraceError(f"c ** x with a traced x needs a constant base c > 0, got {base!r}")
        return apply("exp", (multiply(as_float(p), float(np.log(base))),))
    if isinstance(p, Tracer):
        raise TraceError("the exponent of ** (cnp.power) must be a constant; for a traced exponent write "
                         "cnp.exp(p * cnp.log(x))")
    return apply("pow", (as_float(x),), p=_scalar(p, "the exponent of ** (cnp.power)"))
