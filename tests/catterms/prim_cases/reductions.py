"""Cases for :mod:`catterms.prims.reductions`."""

from __future__ import annotations

from typing import Any

import numpy as np

from .gen import normal


def lse(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


CASES = {
    "sum": [({}, normal(3, 4), lambda x: x.ravel().sum()),
            ({"axis": 0}, normal(3, 4), lambda x: x[0] + x[1] + x[2]),
            ({"axis": (0, 2), "keepdims": True}, normal(2, 3, 2),
             lambda x: np.add.reduce(np.add.reduce(x, 2, keepdims=True), 0, keepdims=True))],
    "mean": [({"axis": 1}, normal(3, 4), lambda x: x.sum(1) / 4), ({}, normal(5), lambda x: x.sum() / 5)],
    "max": [({"axis": 1}, normal(3, 4), lambda x: np.sort(x, axis=1)[:, -1]), ({}, normal(7), lambda x: np.sort(x)[-1])],
    "logsumexp": [({"axis": -1}, normal(3, 4), lambda x: lse(x, -1, False)),
                  ({"keepdims": True}, normal(5), lambda x: lse(x, None, True))],
}
