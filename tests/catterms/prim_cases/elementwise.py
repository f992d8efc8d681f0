"""Cases for :mod:`catterms.prims.elementwise`."""

from __future__ import annotations

import numpy as np

from .gen import fixed, ints, normal, pair, positive, small, triple, uniform

CASES = {
    "exp": [({}, normal(3, 4), lambda x: np.e ** x)],
    "log": [({}, positive(5), lambda x: np.log2(x) / np.log2(np.e))],
    "sin": [({}, normal(2, 3), lambda x: np.cos(x - np.pi / 2))],
    "cos": [({}, normal(4), lambda x: np.sin(x + np.pi / 2))],
    "tan": [({}, small(4), lambda x: np.sin(x) / np.cos(x))],
    "tanh": [({}, normal(3, 2), lambda x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1))],
    "sinh": [({}, normal(3), lambda x: (np.exp(x) - np.exp(-x)) / 2)],
    "cosh": [({}, normal(3), lambda x: (np.exp(x) + np.exp(-x)) / 2)],
    "sqrt": [({}, positive(6), lambda x: x ** 0.5)],
    "abs": [({}, normal(6), lambda x: np.where(x < 0, -x, x))],
    "relu": [({}, normal(6), lambda x: np.where(x > 0, x, 0.0))],
    "sigmoid": [({}, normal(6), lambda x: 1 / (1 + np.exp(-x)))],
    "pow": [({"p": 3.0}, normal(4), lambda x: x * x * x), ({"p": 2.0}, normal(2, 2), lambda x: x * x),
            ({"p": -0.5}, positive(3), lambda x: 1 / np.sqrt(x)), ({"p": 0.0}, normal(3), lambda x: x * 0 + 1)],
    "scale": [({"s": 2.5}, normal(3), lambda x: x + 1.5 * x)],
    "neg": [({}, normal(3), lambda x: 0 - x)],
    "mul": [({}, pair(normal(3), normal(3)), lambda x: x[0] * x[1]),
            ({}, pair(normal(2, 3), normal(3)), lambda x: x[0] * x[1][None, :])],
    "div": [({}, pair(normal(3), positive(3)), lambda x: x[0] * (1 / x[1])),
            ({}, pair(normal(2, 1), positive(3)), lambda x: x[0] / x[1])],
    "maximum": [({}, pair(normal(5), normal(5)), lambda x: np.where(x[0] > x[1], x[0], x[1]))],
    "minimum": [({}, pair(normal(2, 3), normal(1, 3)), lambda x: np.where(x[0] < x[1], x[0], x[1]))],
    "add": [({}, pair(normal(3), normal(3)), lambda x: x[0] + x[1]),
            ({}, pair(normal(4, 1), normal(3)), lambda x: x[0] + x[1])],
    "sub": [({}, pair(normal(3), normal(3)), lambda x: x[0] - x[1]),
            ({}, pair(normal(), normal(2, 2)), lambda x: x[0] - x[1])],
}

_HALF = fixed(np.array(0.5))


def _int_power(x: tuple) -> np.ndarray:
    return np.array([int(a) ** int(b) for a, b in zip(*x)])


def _clipped(x: tuple) -> np.ndarray:
    a, lo, hi = x
    return np.where(a < lo, lo, np.where(a > hi, hi, a))


def _finite(x: np.ndarray, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> np.ndarray:
    big = np.finfo(x.dtype).max
    big_pos, big_neg = big if posinf is None else posinf, -big if neginf is None else neginf
    return np.where(np.isnan(x), nan, np.where(x == np.inf, big_pos, np.where(x == -np.inf, big_neg, x)))


_NON_FINITE = fixed(np.array([1.0, np.nan, np.inf, -np.inf, -2.0]))
_SOME_NAN = fixed(np.array([0.3, np.nan, -1.0, np.nan, 2.0]))

CASES.update({
    "exp2": [({}, normal(4), lambda x: np.exp(x * np.log(2)))],
    "expm1": [({}, small(5), lambda x: np.exp(x) - 1)],
    "log2": [({}, positive(4), lambda x: np.log(x) / np.log(2))],
    "log10": [({}, positive(4), lambda x: np.log(x) / np.log(10))],
    "log1p": [({}, positive(4), lambda x: np.log(1 + x))],
    "arcsin": [({}, uniform(-0.9, 0.9, 5), lambda x: np.arctan(x / np.sqrt(1 - x * x)))],
    "arccos": [({}, uniform(-0.9, 0.9, 5), lambda x: np.pi / 2 - np.arctan(x / np.sqrt(1 - x * x)))],
    "arctan": [({}, normal(5), lambda x: np.arcsin(x / np.sqrt(1 + x * x)))],
    "arcsinh": [({}, normal(5), lambda x: np.log(x + np.sqrt(x * x + 1)))],
    "arccosh": [({}, uniform(1.5, 4.0, 5), lambda x: np.log(x + np.sqrt(x * x - 1)))],
    "arctanh": [({}, uniform(-0.8, 0.8, 5), lambda x: 0.5 * np.log((1 + x) / (1 - x)))],
    "cbrt": [({}, normal(5), lambda x: np.sign(x) * np.abs(x) ** (1 / 3))],
    "sinc": [({}, normal(5), lambda x: np.sin(np.pi * x) / (np.pi * x)),
             ({}, fixed(np.array([0.0, 0.5, -1.5])), lambda x: np.sin(np.pi * x) / (np.pi * x + (x == 0)) + (x == 0))],
    "reciprocal": [({}, positive(4), lambda x: 1 / x), ({}, ints(1, 4, 4), lambda x: 1 // x)],
    "sign": [({}, normal(5), lambda x: np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0))),
             ({}, ints(-3, 3, 5), lambda x: (x > 0).astype(np.int64) - (x < 0))],
    "floor": [({}, normal(5), lambda x: x - np.mod(x, 1))],
    "ceil": [({}, normal(5), lambda x: -np.floor(-x))],
    "trunc": [({}, normal(5), lambda x: np.where(x < 0, np.ceil(x), np.floor(x)))],
    "round": [({}, normal(5), lambda x: np.rint(x)), ({"decimals": 2}, normal(5), lambda x: np.rint(x * 100) / 100),
              ({"decimals": -1}, ints(-100, 100, 5), lambda x: (np.rint(x / 10) * 10).astype(np.int64))],
    "nan_to_num": [({}, _NON_FINITE, _finite),
                   ({"nan": 1.5, "posinf": 9.0, "neginf": -9.0}, _NON_FINITE, lambda x: _finite(x, 1.5, 9.0, -9.0))],
    "power": [({}, pair(positive(4), normal(4)), lambda x: np.exp(x[1] * np.log(x[0]))),
              ({}, pair(positive(2, 1), normal(3)), lambda x: np.exp(x[1] * np.log(x[0]))),
              ({}, pair(ints(0, 4, 3), ints(0, 3, 3)), _int_power)],
    "fmax": [({}, pair(normal(5), _SOME_NAN), lambda x: np.where(np.isnan(x[1]) | (x[0] > x[1]), x[0], x[1]))],
    "fmin": [({}, pair(_SOME_NAN, normal(2, 5)), lambda x: np.where(np.isnan(x[1]) | (x[0] < x[1]), x[0], x[1])),
             ({}, pair(ints(0, 3, 4), ints(0, 3, 4)), lambda x: np.where(x[0] < x[1], x[0], x[1]))],
    "mod": [({}, pair(normal(5), positive(5)), lambda x: x[0] - np.floor(x[0] / x[1]) * x[1]),
            ({}, pair(normal(2, 3), fixed(np.array([-1.5, 0.7, 2.0]))), lambda x: x[0] - np.floor(x[0] / x[1]) * x[1]),
            ({}, pair(ints(-5, 5, 4), ints(1, 4, 4)), lambda x: np.array([int(a) % int(b) for a, b in zip(*x)]))],
    "fmod": [({}, pair(normal(5), positive(5)), lambda x: x[0] - np.trunc(x[0] / x[1]) * x[1]),
             ({}, pair(ints(-5, 5, 4), ints(1, 4, 4)), lambda x: np.sign(x[0]) * (np.abs(x[0]) % x[1]))],
    "floor_divide": [({}, pair(normal(4), positive(4)), lambda x: np.floor(x[0] / x[1])),
                     ({}, pair(ints(-5, 5, 4), ints(1, 4, 4)), lambda x: np.array([int(a) // int(b) for a, b in zip(*x)]))],
    "hypot": [({}, pair(normal(4), normal(2, 4)), lambda x: np.sqrt(x[0] ** 2 + x[1] ** 2)),
              ({}, pair(fixed(np.zeros(2)), fixed(np.zeros(2))), lambda x: x[0] * 0)],
    "arctan2": [({}, pair(normal(4), normal(4)), lambda x: np.angle(x[1] + 1j * x[0]))],
    "logaddexp": [({}, pair(normal(3), normal(2, 3)), lambda x: np.log(np.exp(x[0]) + np.exp(x[1])))],
    "logaddexp2": [({}, pair(normal(3), normal(3)), lambda x: np.log2(2 ** x[0] + 2 ** x[1]))],
    "clip": [({}, triple(normal(5), fixed(np.array(-0.5)), _HALF), _clipped),
             ({}, triple(normal(2, 3), uniform(-1.0, -0.2, 3), uniform(0.2, 1.0, 2, 1)), _clipped),
             ({}, triple(ints(-5, 5, 4), fixed(np.array(-2)), fixed(np.array(2))), _clipped)],
})
CASES["abs"].append(({}, ints(-3, 3, 4), lambda x: np.where(x < 0, -x, x)))
CASES["pow"].append(({"p": 3.0}, ints(-3, 3, 4), lambda x: x * x * x))
CASES["pow"].append(({"p": 0.0}, fixed(np.zeros(2)), lambda x: x * 0 + 1))  # x⁰′ = 0 also at 0 (JAX)
