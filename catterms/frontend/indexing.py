"""Indexing traced arrays: ``x[idx]`` and the functional updates ``x.at[idx].set(v)`` (JAX's names).

:func:`getitem` turns a numpy index into primitives: static parts (ints, slices, ``None``, ``...``,
integer arrays and constant boolean masks) into ``index``; with traced integer arrays among them, a
``gather`` whose operands are those arrays. :class:`At` makes ``update``. What the index may hold, and
how repeated indices behave, is :mod:`catterms.prims.indexing`'s docstring.
"""

from __future__ import annotations

import sys
from typing import Any

from ..errors import TraceError
from .dispatch import provide
from .tracer import Tracer, apply, constant, holds_tracer, operand, operand_type

_WHERE = ("its result's shape would depend on the data, which a term cannot express; keep the shape and "
          "choose by the mask with cnp.where(mask, x, 0), or reduce with cnp.sum(cnp.where(mask, x, 0))")


def _traced(item: Any, what: str) -> Tracer:
    """A traced index array, checked: integers only (its values are read at run time)."""
    kind = item.dtype.kind
    if kind == "b":
        raise TraceError(f"{what} with a traced boolean mask: {_WHERE}")
    if kind != "i":
        raise TraceError(f"{what} with a traced {item.dtype} array: indices must be static, or traced integer "
                         "arrays; convert it first with cnp.astype(i, 'int64')")
    return item


def template(idx: Any, what: str) -> tuple[tuple, tuple[Tracer, ...]]:
    """The index with each traced array replaced by the placeholder ``("t",)``, and those arrays in order."""
    items, traced = [], []
    for item in idx if isinstance(idx, tuple) else (idx,):
        if isinstance(item, Tracer):
            traced.append(_traced(item, what))
            items.append(("t",))
        elif isinstance(item, slice) and holds_tracer((item.start, item.stop, item.step)):
            raise TraceError(f"{what} with a traced slice bound: a slice's length must be static; gather with a "
                             "traced integer array instead, e.g. x[start + np.arange(k)]")
        elif holds_tracer(item):  # a list of traced indices is the index array numpy would make of it
            traced.append(_traced(operand(item), what))
            items.append(("t",))
        else:
            items.append(item)
    return tuple(items), tuple(traced)


def getitem(x: Any, idx: Any) -> Any:
    """``x[idx]`` with numpy's indexing rules; ``x`` is traced or a constant."""
    items, traced = template(idx, "indexing")
    if not traced:
        return apply("index", (x,), idx=items)
    return apply("gather", (x,) + traced, idx=items)


def update(x: Any, idx: Any, v: Any, how: str) -> Any:
    """``x.at[idx].<how>(v)``: ``x`` with ``v`` (broadcast to ``x[idx]``'s shape, converted to ``x``'s dtype
    as numpy's assignment does) written into the indexed places; a new array."""
    items, traced = template(idx, f"x.at[...].{how}")
    dtype = operand_type(x).dtype
    if not isinstance(v, Tracer):
        v = constant(v, dtype)
    if v.dtype != dtype:
        v = apply("astype", (v,), dtype=dtype)
    return apply("update", (x, v) + traced, idx=items, how=how)


class At:
    """``x.at[idx]``: functional updates that return a new array (JAX's ``.at``)."""

    def __init__(self, x: Tracer) -> None:
        self.x = x

    def __getitem__(self, idx: Any) -> Updates:
        return Updates(self.x, idx)


class Updates:
    """``x.at[idx]``'s methods; repeated indices: ``set`` keeps the last write, the others combine all."""

    def __init__(self, x: Tracer, idx: Any) -> None:
        self.x, self.idx = x, idx

    def get(self) -> Any:
        """``x[idx]``."""
        return getitem(self.x, self.idx)

    def set(self, v: Any) -> Any:
        """``x`` with ``x[idx] = v``."""
        return update(self.x, self.idx, v, "set")

    def add(self, v: Any) -> Any:
        """``x`` with ``v`` added at ``idx`` (``np.add.at``: repeats accumulate)."""
        return update(self.x, self.idx, v, "add")

    def multiply(self, v: Any) -> Any:
        """``x`` with ``idx`` multiplied by ``v`` (``np.multiply.at``)."""
        return update(self.x, self.idx, v, "multiply")

    def min(self, v: Any) -> Any:
        """``x`` with ``x[idx] = minimum(x[idx], v)`` (``np.minimum.at``)."""
        return update(self.x, self.idx, v, "min")

    def max(self, v: Any) -> Any:
        """``x`` with ``x[idx] = maximum(x[idx], v)`` (``np.maximum.at``)."""
        return update(self.x, self.idx, v, "max")


provide("indexing", sys.modules[__name__])  # a traced array's x[idx] and x.at are this module's
