"""Numerical oracles shared by the catterms tests: central differences over (nested tuples of) arrays."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def leaves_of(x: Any) -> list[np.ndarray]:
    return [a for c in x for a in leaves_of(c)] if isinstance(x, tuple) else [x]


def rebuild(x: Any, new: list[np.ndarray]) -> Any:
    it = iter(new)

    def go(v: Any) -> Any:
        return tuple(go(c) for c in v) if isinstance(v, tuple) else next(it)

    return go(x)


def finite_difference_grad(f: Callable[[Any], float], x: Any, eps: float = 1e-6) -> list[np.ndarray]:
    """Central differences of a scalar function of a (nested tuple of) arrays, leaf by leaf."""
    base = [np.array(a, dtype=np.float64) for a in leaves_of(x)]
    grads = []
    for li, leaf in enumerate(base):
        g = np.zeros_like(leaf)
        for k in range(leaf.size):
            plus = [a.copy() for a in base]
            minus = [a.copy() for a in base]
            plus[li].flat[k] += eps
            minus[li].flat[k] -= eps
            g.flat[k] = (f(rebuild(x, plus)) - f(rebuild(x, minus))) / (2 * eps)
        grads.append(g)
    return grads


def central_differences(f: Callable[[Any], Any], x: Any, eps: float = 1e-6) -> np.ndarray:
    """The Jacobian of an array function of one array (or scalar) by central differences, shaped
    ``f(x).shape + x.shape``."""
    x = np.array(x, dtype=np.float64)
    cols = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = eps
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    return np.moveaxis(np.array(cols).reshape(x.shape + np.shape(cols[0])), tuple(range(x.ndim)),
                       tuple(range(-x.ndim, 0)) if x.ndim else ())
