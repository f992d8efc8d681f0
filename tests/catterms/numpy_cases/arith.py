"""Cases for ``catterms.numpy``'s arithmetic and logic (:mod:`catterms.numpy._arith`, ``._logic``)."""

from __future__ import annotations

import numpy as np

from numpy_cases import Case
from prim_cases.gen import bools, ints, normal, pair, positive, triple

CASES = [
    Case("add", pair(normal(3), normal(2, 3))),
    Case("subtract", pair(normal(3), ints(0, 4, 3))),
    Case("multiply", pair(normal(2, 1), normal(3))),
    Case("multiply", pair(ints(0, 4, 3), ints(0, 4, 3))),
    Case("divide", pair(normal(3), positive(3))),
    Case("divide", pair(ints(1, 4, 3), ints(1, 4, 3))),
    Case("negative", lambda rng: (normal(4)(rng),)),
    Case("power", lambda rng: (positive(4)(rng),), args=(1.5,)),
    Case("power", lambda rng: (normal(4)(rng),), args=(0,)),
    Case("less", pair(normal(3), normal(3))),
    Case("greater_equal", pair(ints(0, 3, 4), ints(0, 3, 4))),
    Case("logical_and", pair(bools(3), bools(3))),
    Case("logical_not", lambda rng: (bools(3)(rng),)),
    Case("isfinite", lambda rng: (normal(3)(rng),)),
    Case("where", triple(bools(3), normal(3), normal(2, 3))),
    Case("where", lambda rng: (normal(4)(rng) > 0, normal(4)(rng), np.zeros(4)), id="where-constant-branch"),
]
