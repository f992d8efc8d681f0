"""Cases for ``catterms.numpy``'s reductions, scans and sorting (:mod:`catterms.numpy._reductions`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special

from numpy_cases import Case
from prim_cases.gen import bools, fixed, ints, normal


def one(maker: Any) -> Any:
    return lambda rng: (maker(rng),)


def int32(*shape: int) -> Any:
    return lambda rng: (rng.integers(-3, 4, shape).astype(np.int32),)


def float32(*shape: int) -> Any:
    return lambda rng: (rng.standard_normal(shape).astype(np.float32),)


def listed(*makers: Any) -> Any:
    """One traced argument that is a tuple of arrays: numpy stacks it before reducing. (Plain ``np.sum`` of
    a tuple of traced arrays cannot dispatch: numpy's protocol only looks at the argument itself, so these
    cases set ``dispatch=False``.)"""
    return lambda rng: (tuple(m(rng) for m in makers),)


ZEROS = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 2.0], [0.5, -2.0, 1.5, 3.0]])  # one zero, two, none
F32 = {"rtol": 1e-5, "derivatives": False}  # float32: exact to its precision, too coarse for differences

CASES = [
    Case("sum", one(normal(3, 4))),
    Case("sum", one(normal(2, 3, 2)), kwargs={"axis": (0, -1), "keepdims": True}),
    Case("sum", int32(2, 3), kwargs={"axis": 1}),
    Case("sum", one(bools(4))),
    Case("sum", one(ints(0, 5, 3)), kwargs={"dtype": np.float32}),
    Case("sum", listed(normal(3), normal(3)), kwargs={"axis": 0}, dispatch=False),
    Case("sum", float32(3, 2), kwargs={"axis": 0}, **F32),
    Case("mean", one(normal(3, 4)), kwargs={"axis": -1}),
    Case("mean", int32(3, 2)),
    Case("mean", listed(normal(2), normal(2), normal(2)), dispatch=False),
    Case("prod", one(fixed(ZEROS)), kwargs={"axis": 1}),
    Case("prod", one(fixed(np.array([0.0, 2.0, 0.0, 1.5]))), id="prod-two-zeros"),
    Case("prod", one(normal(2, 3, 2)), kwargs={"axis": (0, 2), "keepdims": True}),
    Case("prod", int32(3, 2), kwargs={"axis": 0}),
    Case("max", one(normal(3, 4)), kwargs={"axis": 0}),
    Case("max", one(ints(-5, 5, 6))),
    Case("amax", one(normal(2, 3)), kwargs={"axis": -1, "keepdims": True}),
    Case("min", one(normal(2, 3, 2)), kwargs={"axis": (0, 2)}),
    Case("min", int32(4)),
    Case("amin", listed(normal(3), normal(3)), kwargs={"axis": 0}, dispatch=False),
    Case("logsumexp", one(normal(3, 4)), kwargs={"axis": 1}, ref=scipy.special.logsumexp, dispatch=False),
    Case("var", one(normal(3, 4))),
    Case("var", one(normal(3, 4)), kwargs={"axis": 0, "ddof": 1}),
    Case("var", int32(5)),
    Case("var", float32(4, 3), kwargs={"axis": 1}, **F32),
    Case("std", one(normal(2, 3, 2)), kwargs={"axis": (0, -1), "keepdims": True}),
    Case("std", one(normal(5)), kwargs={"ddof": 2}),
    Case("average", one(normal(3, 4)), kwargs={"axis": 1}),
    # the weights are static here: a case's traced arguments are positional, and average's second is axis
    Case("average", one(normal(3, 4)), kwargs={"weights": np.arange(1.0, 13.0).reshape(3, 4)}, id="average-weights"),
    Case("average", one(normal(3, 4)), kwargs={"axis": -1, "weights": np.array([1.0, 2.0, 0.5, 3.0]),
                                               "returned": True}, id="average-1d-weights"),
    Case("average", one(ints(0, 5, 2, 3)), kwargs={"axis": 0, "weights": np.array([[1, 2, 1], [3, 1, 2]]),
                                                  "keepdims": True}, id="average-int-weights"),
    Case("average", float32(2, 3), kwargs={"axis": 1, "weights": np.array([1, 2, 3])}, id="average-f32-int-weights",
         **F32),
    Case("average", int32(2, 3), kwargs={"axis": 0, "returned": True}),
    Case("ptp", one(normal(3, 4)), kwargs={"axis": 1}),
    Case("ptp", one(ints(-4, 4, 2, 3))),
    Case("argmax", one(normal(3, 4))),
    Case("argmax", one(normal(3, 4)), kwargs={"axis": 1, "keepdims": True}),
    Case("argmin", one(ints(0, 9, 4, 3)), kwargs={"axis": -2}),
    Case("any", one(bools(3, 4)), kwargs={"axis": 1}),
    Case("any", one(normal(2, 3)), kwargs={"axis": (0, 1), "keepdims": True}),
    Case("all", one(ints(0, 2, 3, 2)), kwargs={"axis": 0}),
    Case("all", one(bools(4))),
    Case("count_nonzero", one(ints(0, 3, 3, 4)), kwargs={"axis": 0}),
    Case("count_nonzero", one(normal(3))),
    Case("count_nonzero", one(bools(2, 3)), kwargs={"axis": -1, "keepdims": True}),
    Case("cumsum", one(normal(2, 3))),
    Case("cumsum", one(normal(2, 3)), kwargs={"axis": -1}),
    Case("cumsum", int32(4)),
    Case("cumsum", one(bools(2, 3)), kwargs={"axis": 0, "dtype": np.int32}),
    Case("cumprod", one(fixed(ZEROS)), kwargs={"axis": 1}),
    Case("cumprod", one(normal(2, 3))),
    Case("cumprod", one(ints(-3, 3, 2, 3)), kwargs={"axis": 0}),
    Case("diff", one(normal(5))),
    Case("diff", one(normal(4, 3)), kwargs={"n": 2, "axis": 0}),
    Case("diff", one(normal(2, 3)), kwargs={"prepend": 0.0, "append": np.ones((2, 1))}),
    Case("diff", one(ints(0, 9, 5))),
    Case("diff", one(bools(4))),
    Case("sort", one(normal(3, 4))),
    Case("sort", one(normal(3, 4)), kwargs={"axis": None}),
    Case("sort", one(normal(4, 2)), kwargs={"axis": 0}),
    Case("sort", one(ints(0, 4, 6))),
    Case("argsort", one(normal(3, 4)), kwargs={"axis": 0}),
    Case("argsort", one(normal(2, 3)), kwargs={"axis": None}),
    Case("argsort", one(fixed(np.array([3, 1, 3, 1, 2]))), kwargs={"kind": "stable"}),
]
