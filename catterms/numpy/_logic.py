"""Comparisons, logical operations, ``where`` and ``astype`` with numpy's names.

Comparisons give boolean arrays, values without tangents; ``where`` chooses between traced values by a
traced mask, the way to write what Python's ``if`` on a traced value cannot.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._wrap import apply, binary, dtype_of, unary

__all__ = [
    "astype", "equal", "greater", "greater_equal", "isfinite", "isinf", "isnan", "less", "less_equal",
    "logical_and", "logical_not", "logical_or", "logical_xor", "not_equal", "where",
]

less = binary("less", floats=False)
less_equal = binary("less_equal", floats=False)
greater = binary("greater", floats=False)
greater_equal = binary("greater_equal", floats=False)
equal = binary("equal", floats=False)
not_equal = binary("not_equal", floats=False)
logical_and = binary("logical_and", floats=False)
logical_or = binary("logical_or", floats=False)
logical_xor = binary("logical_xor", floats=False)
logical_not = unary("logical_not", floats=False)
isfinite = unary("isfinite")
isnan = unary("isnan")
isinf = unary("isinf")


def where(condition: Any, x: Any, y: Any) -> Any:
    """``x`` where ``condition`` is true (nonzero), else ``y``, all three broadcast together (numpy's
    three-argument ``where``; the derivative flows to the chosen operand)."""
    return apply("where", (condition, x, y))


def astype(x: Any, dtype: Any, copy: bool = True) -> Any:
    """``x`` converted to ``dtype`` (float64, float32, int64, int32 or bool), as ``ndarray.astype``; values
    are immutable, so ``copy`` changes nothing."""
    name = np.dtype(dtype).name
    return x if dtype_of(x).name == name else apply("astype", (x,), dtype=name)
