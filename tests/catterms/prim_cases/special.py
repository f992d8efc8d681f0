"""Cases for :mod:`catterms.prims.special`: references from the standard library's ``math`` or identities."""

from __future__ import annotations

import math

import numpy as np
import scipy.special as sc

from .gen import fixed, normal, pair, positive, uniform


def _lgamma(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.lgamma, otypes=[x.dtype])(x)


def _shifted_polygamma(n: int) -> object:
    """ψ⁽ⁿ⁾ by the recurrence ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x + 1) − (−1)ⁿ n!/xⁿ⁺¹: scipy at another point."""
    return lambda x: sc.polygamma(n, x + 1) - (-1) ** n * math.factorial(n) / x ** (n + 1)


CASES = {
    "erf": [({}, normal(5), lambda x: np.vectorize(math.erf)(x))],
    "erfc": [({}, normal(5), lambda x: np.vectorize(math.erfc)(x))],
    "erfinv": [({}, uniform(-0.9, 0.9, 5), lambda x: sc.ndtri((x + 1) / 2) / np.sqrt(2))],
    "gammaln": [({}, positive(5), _lgamma), ({}, fixed(np.array([-0.5, -1.5, -2.3])), _lgamma)],
    "logit": [({}, uniform(0.05, 0.95, 5), lambda x: np.log(x) - np.log1p(-x))],
    "xlogy": [({}, pair(normal(4), positive(4)), lambda x: x[0] * np.log(x[1]))],
    "xlog1py": [({}, pair(normal(4), positive(2, 4)), lambda x: x[0] * np.log(1 + x[1]))],
    "polygamma": [({"n": 0}, positive(4), _shifted_polygamma(0)), ({"n": 1}, positive(4), _shifted_polygamma(1)),
                  ({"n": 3}, positive(3), _shifted_polygamma(3))],
    "weighted_logsumexp": [
        ({}, pair(normal(3, 4), positive(3, 4)), lambda x: np.log(np.sum(x[1] * np.exp(x[0])))),
        ({"axis": 1, "keepdims": True}, pair(normal(2, 3), positive(3)),
         lambda x: np.log(np.sum(x[1] * np.exp(x[0]), axis=1, keepdims=True))),
        ({"axis": 0}, pair(normal(4), positive(3, 4)), lambda x: np.log(np.sum(x[1] * np.exp(x[0]), axis=0))),
        ({"axis": 0}, pair(normal(4, 2), fixed(np.array([[2.0], [-0.1], [1.0], [0.5]]))),
         lambda x: np.log(np.sum(x[1] * np.exp(x[0]), axis=0))),
    ],
}
