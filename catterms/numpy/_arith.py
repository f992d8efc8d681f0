"""Arithmetic with Python's operators and numpy's names: add, subtract, multiply, divide, power, negative.

The mapping from Python to primitives: ``a + b`` is ``add`` (and ``x + 0`` is ``x``, so Python's
``sum`` of a list of traced arrays starts cleanly); ``x * c`` for a scalar constant ``c`` of ``x``'s
dtype is the paper's ``scale c`` (and constant factors and divisors gather into one ``scale``); ``x ** p``
for a constant ``p`` is ``pow p``, and ``c ** x`` for a constant ``c > 0`` is ``exp(x · ln c)``; ``-x`` is
``neg``. Python numbers take the dtype of the arrays
they meet, so float32 programs stay float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TraceError
from ._wrap import Tracer, apply, as_float, binary, constant, dtype_of, operand_type

__all__ = ["add", "divide", "multiply", "negative", "power", "subtract"]

def negative(x: Any) -> Any:
    """-x (the primitive ``neg``); the negation of a scaled array is one ``scale``, and ``-(-u)`` is ``u``."""
    if isinstance(x, Tracer) and _scaled(x) is not None:
        return multiply(x, -1.0)
    return apply("neg", (as_float(x),))
subtract = binary("sub", "subtract", floats=False)

def _is_zero(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, Tracer) and x == 0


def _unchanged_by(x: Any, zero: Any) -> bool:
    """Whether ``x + zero`` is ``x``: a traced array whose dtype the number 0 does not promote (``i + 0.0`` is
    float64, ``mask + 0`` int64)."""
    return isinstance(x, Tracer) and _is_zero(zero) and np.result_type(x.dtype, zero) == x.dtype


def add(a: Any, b: Any) -> Any:
    """``a + b`` with broadcasting; adding the number 0 to a traced array of a dtype it does not promote
    returns the array unchanged."""
    if _unchanged_by(a, b):
        return a
    if _unchanged_by(b, a):
        return b
    for x, y in ((a, b), (b, a)):  # b + (−u) is b − u: one pass fewer (the transposes of sub negate)
        if isinstance(y, Tracer) and y.node.kind == "prim" and y.node.name == "neg":
            u = Tracer(y.graph, y.node.args[0])
            if np.result_type(operand_type(x).dtype, u.dtype) == np.result_type(operand_type(x).dtype, y.dtype):
                return subtract(x, u)
    return apply("add", (a, b))


def _scaled(x: Any) -> tuple[float, Any] | None:
    """``(s, u)`` when the traced ``x`` is ``scale s ∘ u`` (``neg`` is ``scale -1``), else None."""
    node = x.node
    if node.kind == "prim" and node.name == "scale":
        return dict(node.params)["s"], Tracer(x.graph, node.args[0])
    if node.kind == "prim" and node.name == "neg":
        return -1.0, Tracer(x.graph, node.args[0])
    return None


def multiply(a: Any, b: Any) -> Any:
    """``a * b`` with broadcasting. A traced float array times a scalar constant of its dtype is the paper's
    ``scale``, and constant factors gather into one ``scale`` outside the product (``(2·u) · v`` is
    ``scale 2 ∘ mul``, ``3 · (2 · u)`` is ``scale 6``): one pass fewer, and a plan that keeps data-parallel
    branches whole (the planner sees a constant factor as free plumbing-like work, not a split)."""
    for x, c in ((a, b), (b, a)):
        if isinstance(x, Tracer) and x.dtype.kind == "f" and not isinstance(c, Tracer) and np.ndim(c) == 0:
            s = constant(c, x.dtype)
            if np.result_type(x.dtype, s.dtype) == x.dtype:
                inner = _scaled(x)
                if inner is not None:
                    return multiply(inner[1], float(s) * inner[0])
                if float(s) == 1.0:
                    return x  # scale 1 is the identity (a gradient's seed meets it first)
                return apply("scale", (x,), s=float(s))
    if isinstance(a, Tracer) and isinstance(b, Tracer):
        for x, y in ((a, b), (b, a)):
            inner = _scaled(x)
            if inner is not None and np.result_type(x.dtype, y.dtype) == x.dtype:
                return multiply(multiply(inner[1], y), inner[0])
    return apply("mul", (a, b))


def divide(a: Any, b: Any) -> Any:
    """``a / b`` (true division: integers give float64). Division of a traced float array by a constant is
    multiplication by its reciprocal — ``loss / N`` is ``scale (1/N)`` — which may differ from numpy's
    quotient in the last bit."""
    a, b = as_float(a), as_float(b)
    if isinstance(a, Tracer) and not isinstance(b, Tracer) and a.dtype.kind == "f":
        c = constant(b, a.dtype if np.ndim(b) == 0 and not hasattr(b, "dtype") else None)
        if np.result_type(a.dtype, c.dtype) == a.dtype and not np.any(c == 0):
            with np.errstate(all="ignore"):
                return multiply(a, (1 / c).astype(a.dtype) if c.ndim else float(1 / c))
    return apply("div", (a, b))


def _scalar(v: Any, what: str) -> float:
    if isinstance(v, Tracer) or np.ndim(v) != 0:
        raise TraceError(f"{what} must be a constant scalar, got {v!r}")
    return float(constant(v))


def power(x: Any, p: Any) -> Any:
    """``x ** p``. A constant scalar exponent is the primitive ``pow`` (integers to a whole power ≥ 0 stay
    integers, as numpy's do); ``c ** p`` for a constant scalar ``c > 0`` and a float exponent is
    ``exp(p · ln c)``; any other exponent is the primitive ``power``."""
    if isinstance(p, Tracer) or np.ndim(p) > 0:
        xs, ps = (as_float(v) if dtype_of(v) == np.bool_ else v for v in (x, p))  # numpy's int8 is not ours
        if not isinstance(x, Tracer) and np.ndim(x) == 0 and dtype_of(ps).kind == "f":
            base = _scalar(x, "the base of a traced exponent")
            if base > 0:
                return apply("exp", (multiply(ps, float(np.log(base))),))
        return apply("power", (xs, ps))
    if dtype_of(x).kind == "i" and dtype_of(p).kind in "iu":
        if p < 0:
            raise TraceError(f"integers to a negative integer power ({p}) are not integers: numpy refuses them; "
                             "convert the base first, e.g. x.astype('float64') ** p")
        return apply("pow", (x,), p=float(p))
    return apply("pow", (as_float(x),), p=_scalar(p, "the exponent of ** (cnp.power)"))
