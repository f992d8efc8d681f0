"""Gathers with numpy's names: ``take``, ``take_along_axis``, and JAX's functional ``put_along_axis``
(indexing itself is ``x[idx]`` and ``x.at``, :mod:`catterms.frontend.indexing`).

Each is numpy's own definition in terms of indexing — ``take`` indexes one axis, the ``along_axis`` functions
pair the indices with ``arange``s of the other axes — so each is one ``index``, ``gather`` or ``update``
(after a free ``reshape`` for ``axis=None``), as fast as numpy's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TermTypeError, TraceError
from ..frontend.indexing import getitem, update
from ..prims import norm_axes
from ._shapes import reshape
from ._wrap import asarray, no_out, operand_type

__all__ = ["put_along_axis", "take", "take_along_axis"]


def _axis(name: str, x: Any, axis: int | None) -> tuple[Any, int]:
    """``x`` and a non-negative axis; ``axis=None`` means the flattened array, as numpy has it."""
    x = asarray(x)
    if axis is None:
        return reshape(x, (-1,)), 0
    return x, norm_axes(name, axis, x.ndim)[0]


def take(a: Any, indices: Any, axis: int | None = None, out: None = None, mode: str = "raise") -> Any:
    """Elements of ``a`` at ``indices`` (static or traced integers) along ``axis`` (of the flattened array
    when None); the result has ``indices``' shape in place of that axis. An index out of range raises."""
    no_out("take", out)
    if mode != "raise":
        raise TraceError(f"cnp.take: mode={mode!r} is not supported, only numpy's default 'raise'; clip or wrap "
                         "the indices before taking")
    a, ax = _axis("take", a, axis)
    return getitem(a, (slice(None),) * ax + (indices,))


def _along(name: str, arr: Any, indices: Any, axis: int | None) -> tuple[Any, tuple]:
    """``arr`` (flattened for ``axis=None``) and the index numpy's ``take_along_axis`` builds: ``indices``
    on ``axis``, an ``arange`` broadcast along each other axis."""
    arr, ax = _axis(name, arr, axis)
    ndim = len(operand_type(indices).shape)
    if ndim != arr.ndim:
        raise TermTypeError(f"{name}: indices of rank {ndim} do not match the array's rank {arr.ndim} "
                            "(add axes of size 1 to indices)")
    idx = tuple(indices if d == ax else np.arange(n).reshape([n if e == d else 1 for e in range(arr.ndim)])
                for d, n in enumerate(arr.shape))
    return arr, idx


def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Any:
    """``arr``'s elements at ``indices`` along ``axis``, matched elementwise over the other axes (numpy's
    ``take_along_axis``: e.g. with the result of ``argsort``)."""
    arr, idx = _along("take_along_axis", arr, indices, axis)
    return getitem(arr, idx)


def put_along_axis(arr: Any, indices: Any, values: Any, axis: int | None, inplace: bool = True) -> Any:
    """``arr`` with ``values`` written at ``indices`` along ``axis`` — JAX's functional form of numpy's
    in-place ``put_along_axis``: pass ``inplace=False``. Of repeated indices the last write stays."""
    if inplace:
        raise TraceError("cnp.put_along_axis cannot modify arrays in place (terms are functions): pass "
                         "inplace=False to get the updated array, as in JAX")
    shape = operand_type(arr).shape
    flat, idx = _along("put_along_axis", arr, indices, axis)
    out = update(flat, idx, values, "set")
    return out if axis is not None else reshape(out, shape)
