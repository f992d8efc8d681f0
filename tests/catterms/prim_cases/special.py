"""Cases for :mod:`catterms.prims.special`: references from the standard library's ``math``, identities, or
other scipy functions (``jv`` through ``jve``, ``yn`` through ``yv``, ``gammainc`` through ``gdtr``)."""

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


_NEGATIVE = fixed(np.array([-0.5, -1.5, -2.3, 0.7, 3.2]))  # both signs of Γ, away from its poles
_HALVES = (0.5, 1.0, 2.5)  # an array of orders, broadcast along x's last axis (x > 0: real orders)


def _betaln(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return sc.gammaln(a) + sc.gammaln(b) - sc.gammaln(a + b)


def _stdtr(df: float) -> object:
    """Student's t distribution function through the incomplete beta function (t > 0)."""
    return lambda t: 1 - 0.5 * (1 - sc.betaincc(df / 2, 0.5, df / (df + t * t)))


CASES = {
    "j0": [({}, normal(5), lambda x: sc.jve(0, x))],
    "j1": [({}, normal(5), lambda x: sc.jve(1, x))],
    "y0": [({}, positive(5), lambda x: sc.yv(0, x))],
    "y1": [({}, positive(5), lambda x: sc.yv(1, x))],
    "i0": [({}, normal(5), np.i0)],
    "i1": [({}, normal(5), lambda x: sc.ive(1, x) * np.exp(np.abs(x)))],
    "iv": [({"v": 1.5}, positive(4), lambda x: sc.ive(1.5, x) * np.exp(np.abs(x))),
           ({"v": _HALVES}, positive(2, 3), lambda x: sc.ive(np.array(_HALVES), x) * np.exp(x))],
    "ive": [({"v": 0.5}, positive(4), lambda x: sc.iv(0.5, x) * np.exp(-x)),  # a real order needs x > 0
            ({"v": 2.0}, normal(4), lambda x: sc.iv(2.0, x) * np.exp(-np.abs(x))),
            ({"v": _HALVES}, positive(2, 3), lambda x: sc.iv(np.array(_HALVES), x) * np.exp(-x))],
    "jv": [({"v": 2.5}, positive(4), lambda x: sc.jve(2.5, x)),
           ({"v": (0, 1, 3)}, normal(2, 3), lambda x: sc.jve(np.array([0, 1, 3]), x))],
    "yn": [({"n": 2}, positive(4), lambda x: sc.yv(2, x)), ({"n": (0, 1, 3)}, positive(3), lambda x: sc.yv([0, 1, 3], x))],
    "gammainc": [({"a": 2.5}, positive(4), lambda x: sc.gdtr(1.0, 2.5, x)),
                 ({"a": (1.0, 3.0)}, positive(3, 2), lambda x: sc.gdtr(1.0, np.array([1.0, 3.0]), x))],
    "gammaincc": [({"a": 0.7}, positive(4), lambda x: sc.gdtrc(1.0, 0.7, x))],
    "betainc": [({"a": 2.0, "b": 3.5}, uniform(0.05, 0.95, 4), lambda x: 1 - sc.betaincc(2.0, 3.5, x)),
                ({"a": (0.5, 1.0, 4.0), "b": 2.0}, uniform(0.05, 0.95, 2, 3),
                 lambda x: 1 - sc.betaincc(np.array([0.5, 1.0, 4.0]), 2.0, x))],
    "stdtr": [({"df": 3.0}, positive(4), _stdtr(3.0))],
    "gamma": [({}, _NEGATIVE, lambda x: sc.gammasgn(x) * np.exp(_lgamma(x)))],
    "rgamma": [({}, _NEGATIVE, lambda x: sc.gammasgn(x) * np.exp(-_lgamma(x)))],
    "gammasgn": [({}, _NEGATIVE, lambda x: np.sign(sc.gamma(x)))],
    "erfcinv": [({}, uniform(0.1, 1.9, 5), lambda x: sc.erfinv(1 - x))],
    "ndtr": [({}, normal(5), lambda x: 0.5 * sc.erfc(-x / np.sqrt(2)))],
    "log_ndtr": [({}, normal(5), lambda x: np.log(0.5 * sc.erfc(-x / np.sqrt(2))))],
    "ndtri": [({}, uniform(0.05, 0.95, 5), lambda x: np.sqrt(2) * sc.erfinv(2 * x - 1))],
    "beta": [({}, pair(positive(4), positive(4)), lambda x: np.exp(_betaln(*x)))],
    "betaln": [({}, pair(positive(4), positive(2, 4)), lambda x: _betaln(*x))],

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
