"""Cases for :mod:`catterms.prims.elementwise`."""

from __future__ import annotations

import numpy as np

from .gen import normal, pair, positive, small

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
