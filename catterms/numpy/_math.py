"""Elementwise mathematical functions with numpy's names: one primitive each, or a composition that costs
no more than a primitive would."""

from __future__ import annotations

from typing import Any

from ._arith import power
from ._wrap import binary, unary

__all__ = [
    "abs", "absolute", "cos", "cosh", "exp", "log", "maximum", "minimum", "relu", "sigmoid", "sin", "sinh",
    "sqrt", "square", "tan", "tanh",
]

exp = unary("exp")
log = unary("log")
sin = unary("sin")
cos = unary("cos")
tan = unary("tan")
tanh = unary("tanh")
sinh = unary("sinh")
cosh = unary("cosh")
sqrt = unary("sqrt")
abs = absolute = unary("abs")
relu = unary("relu")
sigmoid = unary("sigmoid")
maximum = binary("maximum", floats=False)
minimum = binary("minimum", floats=False)


def square(x: Any) -> Any:
    """``x ** 2`` (the primitive ``pow`` with ``p = 2``)."""
    return power(x, 2)
