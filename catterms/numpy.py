"""numpy-named functions for :func:`catterms.compile`: ``import catterms.numpy as cnp``.

One function per public primitive of :mod:`catterms.prims`, with numpy's name and signature, plus the
usual compositions (``square``, ``dot``). Inside a function being compiled they record primitives on
traced arrays; on ordinary arrays they compute with the primitive's own implementation, which is also
how a subexpression of constants folds into a constant.

The mapping from Python to primitives: ``a + b`` is ``add`` (and ``x + 0`` is ``x``, so Python's
``sum`` of a list of traced arrays starts cleanly); ``x * c`` for a scalar constant ``c`` of ``x``'s
dtype is the paper's ``scale c``; ``x ** p`` for a constant ``p`` is ``pow p``, and ``c ** x`` for a
constant ``c > 0`` is ``exp(x · ln c)``; ``-x`` is ``neg``; ``x[i]`` is ``index``. Python numbers take
the dtype of the arrays they meet, so float32 programs stay float32.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .errors import TraceError
from .frontend.tracer import Tracer, apply, constant, operand_type
from .prims import TABLE

__all__ = [
    "abs", "absolute", "add", "broadcast_to", "concatenate", "cos", "cosh", "divide", "dot", "exp", "log",
    "logsumexp", "matmul", "max", "maximum", "mean", "minimum", "multiply", "negative", "power", "relu",
    "reshape", "sigmoid", "sin", "sinh", "sqrt", "square", "stack", "subtract", "sum", "tan", "tanh",
    "transpose",
]


def _named(f: Callable[..., Any], name: str, prim: str) -> Callable[..., Any]:
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"{TABLE[prim].doc} (the primitive ``{prim}``)"
    return f


def _elementwise(prim: str, name: str | None = None) -> Callable[[Any], Any]:
    return _named(lambda x: apply(prim, (x,)), name or prim, prim)


def _binary(prim: str, name: str) -> Callable[[Any, Any], Any]:
    return _named(lambda a, b: apply(prim, (a, b)), name, prim)


def _reduction(prim: str) -> Callable[..., Any]:
    def f(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return apply(prim, (x,), axis=axis, keepdims=keepdims)

    return _named(f, prim, prim)


exp = _elementwise("exp")
log = _elementwise("log")
sin = _elementwise("sin")
cos = _elementwise("cos")
tan = _elementwise("tan")
tanh = _elementwise("tanh")
sinh = _elementwise("sinh")
cosh = _elementwise("cosh")
sqrt = _elementwise("sqrt")
abs = absolute = _elementwise("abs")
relu = _elementwise("relu")
sigmoid = _elementwise("sigmoid")
negative = _elementwise("neg", "negative")
subtract = _binary("sub", "subtract")
divide = _binary("div", "divide")
maximum = _binary("maximum", "maximum")
minimum = _binary("minimum", "minimum")
matmul = _binary("matmul", "matmul")
sum = _reduction("sum")
mean = _reduction("mean")
max = _reduction("max")
logsumexp = _reduction("logsumexp")


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
        if isinstance(x, Tracer) and not isinstance(c, Tracer) and np.ndim(c) == 0:
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
        return exp(multiply(p, float(np.log(base))))
    if isinstance(p, Tracer):
        raise TraceError("the exponent of ** (cnp.power) must be a constant; for a traced exponent write "
                         "cnp.exp(p * cnp.log(x))")
    return apply("pow", (x,), p=_scalar(p, "the exponent of ** (cnp.power)"))


def square(x: Any) -> Any:
    """``x ** 2`` (the primitive ``pow`` with ``p = 2``)."""
    return power(x, 2)


def dot(a: Any, b: Any) -> Any:
    """numpy's ``dot`` for operands of at most two axes: ``matmul``, or ``multiply`` with a scalar."""
    na, nb = operand_type(a).ndim, operand_type(b).ndim
    if na == 0 or nb == 0:
        return multiply(a, b)
    if na > 2 or nb > 2:
        raise TraceError(f"cnp.dot of arrays with {na} and {nb} axes differs from matmul: use cnp.matmul "
                         "or cnp.sum(a * b, axis=...) to say which axes to contract")
    return matmul(a, b)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Any:
    """Permute axes (reverse them when ``axes`` is None)."""
    return apply("transpose", (x,), axes=axes)


def reshape(x: Any, shape: Any) -> Any:
    """Reshape; one size may be -1."""
    return apply("reshape", (x,), shape=shape)


def broadcast_to(x: Any, shape: Any) -> Any:
    """Broadcast to a larger shape with numpy's rules."""
    return apply("broadcast_to", (x,), shape=shape)


def _join(name: str, arrays: Any, axis: int) -> Any:
    parts = tuple(arrays)
    if len(parts) != 1:
        return apply(name, parts, axis=axis)
    # A term has no 1-tuples, so one part is handled here, after the same shape check.
    rule = TABLE[name]
    cod = rule.type((operand_type(parts[0]),), **dict(rule.canonical({"axis": axis})))
    x = parts[0] if isinstance(parts[0], Tracer) else constant(parts[0])
    return x if name == "concatenate" else reshape(x, cod.shape)


def concatenate(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join arrays along an existing axis."""
    return _join("concatenate", arrays, axis)


def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join same-shaped arrays along a new axis."""
    return _join("stack", arrays, axis)
