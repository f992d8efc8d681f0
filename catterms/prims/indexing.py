"""Indexing primitives: static indexing and its transpose.

``index`` is linear, so it is its own derivative; its transpose is ``scatter``, a lazy
:class:`~catterms.vectors.Scatter`, so slices of one array accumulate into one buffer.

Static indices are stored in a tagged, msgpack-able form: ``("i", k)`` an integer, ``("s", start, stop,
step)`` a slice, ``("n",)`` a new axis, ``("e",)`` an ellipsis, ``("a", (k₁, …))`` a 1-d integer array.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import TermTypeError
from ..types import Array, Type
from ..vectors import Scatter
from . import TABLE, Rule, p_int, p_ints, register, want_array
from .structure import _copy_cost


def _p_index(v: Any) -> tuple:
    """Normalise a Python index (or its tagged form) into the tagged form."""
    items = v if isinstance(v, tuple) else (v,)
    out = []
    for it in items:
        if isinstance(it, tuple) and it and isinstance(it[0], str):
            out.append(_check_tag(it))
        elif isinstance(it, (int, np.integer)) and not isinstance(it, bool):
            out.append(("i", int(it)))
        elif isinstance(it, slice):
            out.append(("s",) + tuple(None if x is None else p_int(int(x)) for x in (it.start, it.stop, it.step)))
        elif it is None:
            out.append(("n",))
        elif it is Ellipsis:
            out.append(("e",))
        elif isinstance(it, (list, np.ndarray)):
            arr = np.asarray(it)
            if arr.ndim != 1 or arr.dtype.kind not in "iu":
                raise TypeError("array indices must be 1-d integer arrays")
            out.append(("a", tuple(int(k) for k in arr)))
        else:
            raise TypeError(f"unsupported index {it!r}")
    return tuple(out)


def _check_tag(it: tuple) -> tuple:
    tag, rest = it[0], it[1:]
    # type(k) is int: True == 1 and hashes alike, but x[True] is not x[1]
    ok = (
        (tag == "i" and len(rest) == 1 and type(rest[0]) is int)
        or (tag == "s" and len(rest) == 3 and all(x is None or type(x) is int for x in rest) and rest[2] != 0)
        or (tag in ("n", "e") and not rest)
        or (tag == "a" and len(rest) == 1 and isinstance(rest[0], tuple) and all(type(k) is int for k in rest[0]))
    )
    if not ok:
        raise TypeError(f"malformed index entry {it!r}")
    return tuple(it)


@lru_cache(maxsize=4096)
def numpy_index(idx: tuple) -> tuple:
    """The tagged form back as a numpy index tuple (memoised: indexing runs it on every call)."""
    out: list[Any] = []
    for it in idx:
        tag = it[0]
        out.append(
            it[1] if tag == "i" else slice(*it[1:]) if tag == "s" else None if tag == "n"
            else Ellipsis if tag == "e" else np.asarray(it[1], dtype=np.intp)
        )
    return tuple(out)


def _is_fancy(idx: tuple) -> bool:
    return any(it[0] == "a" for it in idx)


def _index_type(dom: Type, idx: tuple) -> Type:
    a = want_array("index", dom)
    try:
        shape = np.broadcast_to(np.empty((), a.dtype), a.shape)[numpy_index(idx)].shape
    except (IndexError, ValueError, TypeError) as e:
        raise TermTypeError(f"index: {idx} does not apply to {a}: {e}") from None
    return Array(shape, a.dtype)


def _index(x: Any, idx: tuple) -> Any:
    return x[numpy_index(idx)]


def _scatter(t: Any, idx: tuple, shape: tuple[int, ...]) -> Scatter:
    return Scatter(shape, t.dtype, [(numpy_index(idx), _is_fancy(idx), t)])


register(Rule(
    "index", 1, _index, _index_type, _copy_cost,
    transpose=lambda lin, dom, idx: lin.linear(TABLE["scatter"], {"idx": idx, "shape": dom}, None),
    params={"idx": ((), _p_index)}, doc="static indexing and slicing: x[idx]",
))
register(Rule(
    "scatter", 1, _scatter, lambda dom, idx, shape: Array(shape, want_array("scatter", dom).dtype), _copy_cost,
    lazy=True,
    transpose=lambda lin, dom, idx, shape: lin.linear(TABLE["index"], {"idx": idx}, shape),
    params={"idx": ((), _p_index), "shape": ((), p_ints)}, public=False,
    doc="the transpose of index: add into a zero array of shape at idx",
))


