"""Cases for ``catterms.numpy``'s gathers (:mod:`catterms.numpy._indexing`): static and traced indices,
repeated ones among them."""

from __future__ import annotations

from typing import Any

import numpy as np

from numpy_cases import Case
from prim_cases.gen import fixed, ints, normal, pair, triple

ROWS = np.array([[0, 2, 2], [1, 0, 1]])  # repeats, so the transposes accumulate


def _put(arr: np.ndarray, indices: np.ndarray, values: Any, axis: int | None, inplace: bool) -> np.ndarray:
    out = arr.copy()
    np.put_along_axis(out, indices, values, axis)
    return out


CASES = [
    Case("take", lambda rng: (normal(3, 4)(rng),), args=(np.array([[0, 11], [5, 5]]),), id="take-flat-constant"),
    Case("take", pair(normal(3, 4), ints(-4, 4, 2, 3)), kwargs={"axis": 1}),
    Case("take", pair(normal(2, 3), fixed(np.array(-1))), kwargs={"axis": 0}, id="take-scalar-traced"),
    Case("take_along_axis", pair(normal(2, 3), fixed(ROWS)), kwargs={"axis": 1}),
    Case("take_along_axis", lambda rng: (normal(3, 2)(rng),), args=(ROWS.T,), kwargs={"axis": 0},
         id="take_along_axis-constant"),
    Case("take_along_axis", pair(normal(2, 3), fixed(np.array([5, 0, 5]))), kwargs={"axis": None},
         id="take_along_axis-flat"),
    Case("put_along_axis", triple(normal(2, 3), fixed(ROWS[:, :2]), normal(2, 2)), args=(1,),
         kwargs={"inplace": False}, ref=_put, dispatch=False),
    Case("put_along_axis", triple(normal(2, 3), fixed(np.array([4, 4])), normal(1)), args=(None,),
         kwargs={"inplace": False}, ref=_put, dispatch=False, id="put_along_axis-flat"),
]
