"""Products with numpy's names: matmul, dot."""

from __future__ import annotations

from typing import Any

from ..errors import TraceError
from ._arith import multiply
from ._wrap import binary, operand_type

__all__ = ["dot", "matmul"]

matmul = binary("matmul", floats=False)


def dot(a: Any, b: Any) -> Any:
    """numpy's ``dot`` for operands of at most two axes: ``matmul``, or ``multiply`` with a scalar."""
    na, nb = operand_type(a).ndim, operand_type(b).ndim
    if na == 0 or nb == 0:
        return multiply(a, b)
    if na > 2 or nb > 2:
        raise TraceError(f"cnp.dot of arrays with {na} and {nb} axes differs from matmul: use cnp.matmul "
                         "or cnp.sum(a * b, axis=...) to say which axes to contract")
    return matmul(a, b)
