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
    Case("less_equal", pair(normal(2, 3), normal(3))),
    Case("greater", pair(normal(3), normal(1))),
    Case("greater_equal", pair(ints(0, 3, 4), ints(0, 3, 4))),
    Case("equal", pair(ints(0, 2, 4), ints(0, 2, 4))),
    Case("not_equal", pair(normal(3), normal(3))),
    Case("logical_and", pair(bools(3), bools(3))),
    Case("logical_or", pair(bools(3), bools(1))),
    Case("logical_xor", pair(bools(2, 2), bools(2))),
    Case("logical_not", lambda rng: (bools(3)(rng),)),
    Case("isfinite", lambda rng: (normal(3)(rng),)),
    Case("isnan", lambda rng: (np.array([0.0, np.nan, 1.0]),), derivatives=False),
    Case("isinf", lambda rng: (np.array([np.inf, -1.0, -np.inf]),), derivatives=False),
    Case("astype", lambda rng: (normal(3)(rng),), args=(np.float32,), ref=lambda x, d: x.astype(d),
         derivatives=False),  # float32 out: prim_cases checks convert's derivative at float32 tolerances
    Case("astype", lambda rng: (ints(0, 5, 3)(rng),), args=("float64",), ref=lambda x, d: x.astype(d)),
    Case("where", triple(bools(3), normal(3), normal(2, 3))),
    Case("where", lambda rng: (normal(4)(rng) > 0, normal(4)(rng), np.zeros(4)), id="where-constant-branch"),
]
