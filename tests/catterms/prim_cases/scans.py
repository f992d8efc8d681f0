"""Cases for :mod:`catterms.prims.scans`."""

from __future__ import annotations

from typing import Any

import numpy as np

from .gen import bools, fixed, ints, normal


def running(op: Any, x: np.ndarray, axis: int) -> np.ndarray:
    """A cumulative ``op`` along ``axis``, by a Python loop over it."""
    x = np.moveaxis(x, axis, 0)
    out, acc = [], None
    for row in x:
        acc = row if acc is None else op(acc, row)
        out.append(acc)
    return np.moveaxis(np.array(out), 0, axis)


def by_rank(x: np.ndarray, axis: int) -> np.ndarray:
    """The sorting permutation along ``axis`` from ranks (no ties): element i goes to place #{x_j < x_i}."""
    x = np.moveaxis(x, axis, -1)
    ranks = (x[..., None, :] < x[..., :, None]).sum(-1)
    perm = np.zeros_like(ranks)
    np.put_along_axis(perm, ranks, np.arange(x.shape[-1]) + 0 * ranks, -1)
    return np.moveaxis(perm, -1, axis)


ZEROS = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 2.0], [0.5, -2.0, 1.5, 3.0]])  # one zero, two, none

CASES = {
    "cumsum": [({"axis": 1}, normal(3, 4), lambda x: running(np.add, x, 1)),
               ({"axis": -3}, normal(2, 3, 2), lambda x: running(np.add, x, 0)),
               ({"axis": 0}, bools(5), lambda x: running(np.add, x.astype(np.int64), 0))],
    "cumprod": [({"axis": 1}, fixed(ZEROS), lambda x: running(np.multiply, x, 1)),
                ({"axis": 0}, normal(5, 2), lambda x: running(np.multiply, x, 0)),
                ({"axis": -1}, normal(2, 1), lambda x: x),
                ({"axis": 0}, ints(-3, 3, 4), lambda x: running(np.multiply, x, 0))],
    "sort": [({}, normal(3, 5), lambda x: np.take_along_axis(x, by_rank(x, -1), -1)),
             ({"axis": 0}, normal(4, 2), lambda x: np.take_along_axis(x, by_rank(x, 0), 0)),
             ({"axis": 0}, fixed(np.array([2, 1, 2, 0])), lambda x: np.array([0, 1, 2, 2]))],
    "argsort": [({"axis": 1}, normal(3, 4), lambda x: by_rank(x, 1)),
                ({}, fixed(np.array([3, 1, 3, 1, 2])), lambda x: np.array([1, 3, 4, 0, 2]))],
    # numpy's own partition is the oracle: which element lands where off the kth places is its choice
    "partition": [({"kth": (2,)}, normal(6), lambda x: np.partition(x, 2)),
                  ({"kth": (0, 3), "axis": 0}, normal(5, 2), lambda x: np.partition(x, (0, 3), axis=0))],
    "argpartition": [({"kth": (1,)}, normal(5), lambda x: np.argpartition(x, 1))],
}
