"""Cases for :mod:`catterms.prims.structure`."""

from __future__ import annotations

import numpy as np

from .gen import normal, pair, triple

CASES = {
    "reshape": [({"shape": (3, -1)}, normal(2, 3), lambda x: x.reshape(3, 2))],
    "transpose": [({}, normal(2, 3, 4), lambda x: np.einsum("ijk->kji", x)),
                  ({"axes": (1, 0, 2)}, normal(2, 3, 4), lambda x: np.swapaxes(x, 0, 1))],
    "broadcast_to": [({"shape": (2, 3)}, normal(3), lambda x: np.stack([x, x]))],
    "concatenate": [({"axis": 1}, pair(normal(2, 3), normal(2, 1)), lambda x: np.hstack(x)),
                    ({}, triple(normal(1), normal(2), normal(3)), lambda x: np.hstack(x))],
    "stack": [({"axis": 1}, pair(normal(2, 3), normal(2, 3)), lambda x: np.dstack(x)[:, :, :].transpose(0, 2, 1))],
}
