"""Cases for :mod:`catterms.prims.logic`: booleans out, and ``where``/``astype`` with mixed dtypes in."""

from __future__ import annotations

import numpy as np

from .gen import bools, ints, normal, pair, triple

CASES = {
    "less": [({}, pair(normal(3), normal(3)), lambda x: x[0] - x[1] < 0)],
    "less_equal": [({}, pair(normal(2, 3), normal(3)), lambda x: ~(x[0] > x[1]))],
    "greater": [({}, pair(ints(0, 3, 4), ints(0, 3, 4)), lambda x: x[1] < x[0])],
    "greater_equal": [({}, pair(normal(3), normal(1)), lambda x: ~(x[0] < x[1]))],
    "equal": [({}, pair(ints(0, 2, 5), ints(0, 2, 5)), lambda x: (x[0] - x[1]) == 0)],
    "not_equal": [({}, pair(ints(0, 2, 5), ints(0, 2, 1)), lambda x: (x[0] - x[1]) != 0)],
    "logical_and": [({}, pair(bools(4), bools(4)), lambda x: x[0] & x[1])],
    "logical_or": [({}, pair(bools(4), bools(4)), lambda x: x[0] | x[1])],
    "logical_xor": [({}, pair(bools(4), bools(4)), lambda x: x[0] ^ x[1])],
    "logical_not": [({}, bools(2, 3), lambda x: ~x)],
    "isfinite": [({}, normal(4), lambda x: np.abs(x) < np.inf)],
    "isnan": [({}, normal(4), lambda x: x != x)],
    "isinf": [({}, normal(4), lambda x: np.abs(x) == np.inf)],
    "where": [({}, triple(bools(3), normal(3), normal(3)), lambda x: x[0] * x[1] + (1 - x[0]) * x[2]),
              ({}, triple(bools(2, 1), normal(3), normal(2, 3)), lambda x: x[0] * x[1] + (1 - x[0]) * x[2])],
    "astype": [({"dtype": "float32"}, normal(3), lambda x: np.float32(x)),
               ({"dtype": "int64"}, normal(3), lambda x: np.trunc(x).astype(np.int64)),
               ({"dtype": "float64"}, ints(-3, 3, 4), lambda x: x * 1.0)],
}
