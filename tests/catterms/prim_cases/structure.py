"""Cases for :mod:`catterms.prims.structure`."""

from __future__ import annotations

import numpy as np

from .gen import ints, normal, pair, triple

CASES = {
    "reshape": [({"shape": (3, -1)}, normal(2, 3), lambda x: x.reshape(3, 2))],
    "transpose": [({}, normal(2, 3, 4), lambda x: np.einsum("ijk->kji", x)),
                  ({"axes": (1, 0, 2)}, normal(2, 3, 4), lambda x: np.swapaxes(x, 0, 1))],
    "broadcast_to": [({"shape": (2, 3)}, normal(3), lambda x: np.stack([x, x]))],
    "concatenate": [({"axis": 1}, pair(normal(2, 3), normal(2, 1)), lambda x: np.hstack(x)),
                    ({}, triple(normal(1), normal(2), normal(3)), lambda x: np.hstack(x))],
    "pad": [({"pad_width": ((1, 2), (0, 1))}, normal(2, 3), lambda x: np.pad(x, ((1, 2), (0, 1)))),
            ({"pad_width": ((1, 0), (2, 1)), "constant_values": ((1.0, 2.0), (3.0, 4.0))}, normal(2, 2),
             lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=((1, 2), (3, 4)))),
            ({"pad_width": ((2, 1),), "constant_values": ((-1.0, -1.0),)}, normal(2), lambda x: np.r_[-1, -1, x, -1]),
            ({"pad_width": ((0, 0), (2, 0))}, ints(-3, 3, 2, 2), lambda x: np.hstack([np.zeros((2, 2), int), x])),
            ({"pad_width": ((1, 1),)}, normal(0), lambda x: np.zeros(2))],
    "stack": [({"axis": 1}, pair(normal(2, 3), normal(2, 3)), lambda x: np.dstack(x)[:, :, :].transpose(0, 2, 1))],
}
