"""Cases for :mod:`catterms.prims.indexing`."""

from __future__ import annotations

import numpy as np

from .gen import normal

CASES = {
    "index": [({"idx": slice(1, None)}, normal(5), lambda x: x[1:]),
              ({"idx": (1, slice(None, None, -1))}, normal(3, 4), lambda x: x[1][::-1]),
              ({"idx": (Ellipsis, None, 0)}, normal(2, 3), lambda x: x[:, 0][:, None]),
              ({"idx": [0, 2, 0]}, normal(4), lambda x: np.array([x[0], x[2], x[0]]))],
}
