"""Cases for :mod:`catterms.prims.reductions`."""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np

from .gen import bools, fixed, ints, normal


def lse(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def int32(*shape: int) -> Any:
    return lambda rng: rng.integers(-3, 4, shape).astype(np.int32)


def rows_product(x: np.ndarray) -> np.ndarray:
    """The product of each row, by a Python loop over the columns."""
    return reduce(lambda acc, col: acc * col, x.T, np.ones(x.shape[0], x.dtype))


ZEROS = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 2.0], [0.5, -2.0, 1.5, 3.0]])  # one zero, two, none

CASES = {
    "sum": [({}, normal(3, 4), lambda x: x.ravel().sum()),
            ({"axis": 0}, normal(3, 4), lambda x: x[0] + x[1] + x[2]),
            ({"axis": (0, 2), "keepdims": True}, normal(2, 3, 2),
             lambda x: np.add.reduce(np.add.reduce(x, 2, keepdims=True), 0, keepdims=True)),
            ({"axis": -1}, int32(2, 3), lambda x: x.astype(np.int64) @ np.ones(3, np.int64)),
            ({}, bools(5), lambda x: np.int64(len(np.flatnonzero(x))))],
    "mean": [({"axis": 1}, normal(3, 4), lambda x: x.sum(1) / 4), ({}, normal(5), lambda x: x.sum() / 5)],
    "max": [({"axis": 1}, normal(3, 4), lambda x: np.sort(x, axis=1)[:, -1]), ({}, normal(7), lambda x: np.sort(x)[-1]),
            ({"axis": 0}, ints(-5, 5, 4, 2), lambda x: np.maximum(np.maximum(x[0], x[1]), np.maximum(x[2], x[3])))],
    "min": [({"axis": -1}, normal(3, 4), lambda x: np.sort(x, axis=1)[:, 0]),
            ({"axis": (0, 2), "keepdims": True}, normal(2, 3, 2),
             lambda x: np.sort(np.moveaxis(x, 1, 0).reshape(3, -1), axis=1)[:, 0].reshape(1, 3, 1)),
            ({}, int32(5), lambda x: np.sort(x)[0])],
    "prod": [({"axis": 1}, fixed(ZEROS), rows_product),
             ({"axis": 1, "keepdims": True}, normal(3, 4), lambda x: rows_product(x)[:, None]),
             ({"axis": (0, 2)}, normal(2, 3, 2), lambda x: rows_product(np.moveaxis(x, 1, 0).reshape(3, -1))),
             ({}, fixed(np.array([0.0, 2.0, 0.0])), lambda x: np.float64(0.0)),
             ({"axis": 0}, int32(3, 2), lambda x: (x[0] * x[1] * x[2]).astype(np.int64))],
    "logsumexp": [({"axis": -1}, normal(3, 4), lambda x: lse(x, -1, False)),
                  ({"keepdims": True}, normal(5), lambda x: lse(x, None, True))],
    "argmax": [({}, normal(3, 4), lambda x: np.int64(np.flatnonzero(x.ravel() == x.max())[0])),
               ({"axis": -1, "keepdims": True}, normal(3, 4),
                lambda x: np.array([[np.flatnonzero(r == r.max())[0]] for r in x]))],
    "argmin": [({"axis": 0}, ints(0, 9, 4, 3), lambda x: np.array([np.flatnonzero(c == c.min())[0] for c in x.T]))],
    "any": [({"axis": 1}, bools(3, 4), lambda x: x.sum(1) > 0), ({}, normal(4), lambda x: np.bool_(True))],
    "all": [({"axis": (0, 1), "keepdims": True}, ints(0, 2, 2, 3, 2),
             lambda x: (x.astype(bool).sum((0, 1), keepdims=True) == 6))],
}
