"""Cases for ``catterms.numpy``'s elementwise functions (:mod:`catterms.numpy._math`), with a few float32
and integer inputs (numpy's result dtypes)."""

from __future__ import annotations

import numpy as np
import scipy.special as sc

from numpy_cases import Case
from prim_cases.gen import Maker, fixed, ints, normal, pair, positive, small, triple, uniform


def one(make: Maker) -> Maker:
    return lambda rng: (make(rng),)


def single(make: Maker) -> Maker:
    """``make``'s arrays in float32."""
    return lambda rng: tuple(np.asarray(v, np.float32) for v in make(rng))


_SOME_NAN = fixed(np.array([0.3, np.nan, -1.0, np.nan, 2.0]))
_NON_FINITE = fixed(np.array([1.0, np.nan, np.inf, -np.inf, -2.0]))

CASES = [
    Case("exp", one(normal(3))),
    Case("exp2", one(normal(3))),
    Case("expm1", one(small(3))),
    Case("log", one(positive(3))),
    Case("log", one(ints(1, 5, 3))),
    Case("log2", one(positive(3))),
    Case("log10", one(positive(3))),
    Case("log1p", one(positive(3))),
    Case("sin", one(normal(2, 3))),
    Case("sin", single(one(normal(3))), derivatives=False),
    Case("cos", one(normal(3))),
    Case("tan", one(small(3))),
    Case("arcsin", one(uniform(-0.9, 0.9, 4))),
    Case("arccos", one(uniform(-0.9, 0.9, 4))),
    Case("arctan", one(normal(4))),
    Case("sinh", one(normal(3))),
    Case("cosh", one(normal(3))),
    Case("tanh", one(normal(3))),
    Case("arcsinh", one(normal(4))),
    Case("arccosh", one(uniform(1.5, 3.0, 4))),
    Case("arctanh", one(uniform(-0.8, 0.8, 4))),
    Case("sqrt", one(positive(3))),
    Case("cbrt", one(normal(4))),
    Case("cbrt", one(ints(1, 9, 3))),
    Case("sinc", one(normal(4))),
    Case("relu", one(normal(5)), ref=lambda x: np.maximum(x, 0), dispatch=False),
    Case("sigmoid", one(normal(5)), ref=sc.expit, dispatch=False),
    Case("arctan2", pair(normal(3), normal(2, 3))),
    Case("hypot", pair(normal(3), normal(3))),
    Case("hypot", single(pair(normal(3), normal(3))), derivatives=False, rtol=1e-6),
    Case("logaddexp", pair(normal(3), normal(2, 3))),
    Case("logaddexp2", pair(normal(3), normal(3))),
    Case("maximum", pair(normal(3), normal(2, 3))),
    Case("maximum", pair(ints(0, 4, 3), ints(0, 4, 3))),
    Case("minimum", pair(normal(3), normal(3))),
    Case("fmax", pair(normal(5), _SOME_NAN)),
    Case("fmin", pair(_SOME_NAN, normal(5))),
    Case("fmin", pair(ints(0, 4, 3), ints(0, 4, 3))),
    Case("mod", pair(normal(4), positive(4))),
    Case("mod", pair(ints(-5, 5, 4), ints(1, 4, 4))),
    Case("remainder", pair(normal(3), ints(1, 4, 3))),
    Case("fmod", pair(normal(4), uniform(-2.0, -0.5, 4))),
    Case("fmod", pair(ints(-5, 5, 4), ints(1, 4, 4))),
    Case("floor_divide", pair(normal(4), positive(4))),
    Case("floor_divide", pair(ints(-5, 5, 4), ints(1, 4, 4))),
    Case("divmod", pair(normal(4), positive(4))),
    Case("divmod", pair(ints(-5, 5, 4), ints(1, 4, 4))),
    Case("true_divide", pair(normal(3), positive(3))),
    Case("power", pair(positive(3), normal(3))),
    Case("power", pair(positive(2, 1), ints(0, 3, 3))),
    Case("power", pair(ints(0, 4, 3), ints(0, 3, 3))),
    Case("power", one(ints(-3, 3, 4)), args=(3,)),
    Case("power", one(positive(3)), args=(np.array([1.0, 2.0, 0.5]),)),
    Case("abs", one(normal(4))),
    Case("abs", one(ints(-3, 3, 4))),
    Case("absolute", one(normal(4))),
    Case("fabs", one(ints(-3, 3, 4))),
    Case("sign", one(normal(4))),
    Case("sign", one(ints(-3, 3, 4))),
    Case("reciprocal", one(positive(3))),
    Case("reciprocal", one(ints(1, 4, 3))),
    Case("square", one(normal(3))),
    Case("square", one(ints(-3, 3, 3))),
    Case("square", single(one(normal(3))), derivatives=False),
    Case("positive", one(normal(3))),
    Case("positive", one(ints(-3, 3, 3))),
    Case("deg2rad", one(normal(3))),
    Case("radians", single(one(normal(3))), derivatives=False),
    Case("rad2deg", one(ints(-90, 90, 3))),
    Case("degrees", one(normal(3))),
    Case("floor", one(normal(4))),
    Case("floor", one(ints(-3, 3, 4))),
    Case("ceil", one(normal(4))),
    Case("trunc", one(normal(4))),
    Case("fix", one(normal(4))),
    Case("fix", one(ints(-3, 3, 4))),
    Case("round", one(normal(4)), kwargs={"decimals": 1}),
    Case("round", one(ints(-100, 100, 4)), kwargs={"decimals": -1}),
    Case("round", one(ints(-100, 100, 4))),
    Case("around", one(normal(4))),
    Case("rint", one(normal(4))),
    Case("rint", one(ints(-3, 3, 4))),
    Case("clip", one(normal(5)), args=(-0.5, 0.5)),
    Case("clip", triple(normal(2, 3), uniform(-1.0, -0.2, 3), uniform(0.2, 1.0, 2, 1))),
    Case("clip", one(ints(-5, 5, 4)), args=(-2, 2)),
    Case("clip", one(ints(-5, 5, 4)), args=(0.5, 2.5)),
    Case("clip", one(normal(5)), args=(None, 0.5)),
    Case("clip", one(normal(5)), kwargs={"min": -0.5}),
    Case("clip", single(one(normal(5))), kwargs={"min": -0.5, "max": 0.5}, derivatives=False),
    Case("nan_to_num", one(_NON_FINITE)),
    Case("nan_to_num", one(_NON_FINITE), kwargs={"nan": 1.0, "posinf": 5.0, "neginf": -5.0}),
    Case("nan_to_num", one(ints(-3, 3, 3))),
]
