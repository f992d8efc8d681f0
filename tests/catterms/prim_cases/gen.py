"""Input makers for the table-driven cases: each takes a numpy Generator and returns an input value."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

Maker = Callable[[np.random.Generator], Any]


def normal(*shape: int) -> Maker:
    return lambda rng: rng.standard_normal(shape)


def positive(*shape: int) -> Maker:
    """Bounded away from 0: ``|N(0, 1)| + 0.5``."""
    return lambda rng: np.abs(rng.standard_normal(shape)) + 0.5


def small(*shape: int) -> Maker:
    """Uniform in (-1, 1)."""
    return lambda rng: rng.uniform(-1.0, 1.0, shape)


def uniform(low: float, high: float, *shape: int) -> Maker:
    return lambda rng: rng.uniform(low, high, shape)


def ints(low: int, high: int, *shape: int) -> Maker:
    """int64 in [low, high): a traced integer input (indices, counts)."""
    return lambda rng: rng.integers(low, high, shape)


def bools(*shape: int) -> Maker:
    return lambda rng: rng.standard_normal(shape) > 0


def fixed(value: Any) -> Maker:
    """Always ``value`` (e.g. a matrix with a known spectrum)."""
    return lambda rng: value


def spd(n: int, batch: tuple[int, ...] = ()) -> Maker:
    """A symmetric positive definite matrix (a stack of them with ``batch``), well conditioned."""
    def make(rng: np.random.Generator) -> np.ndarray:
        a = rng.standard_normal(batch + (n, n))
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    return make


def pair(a: Maker, b: Maker) -> Maker:
    return lambda rng: (a(rng), b(rng))


def triple(a: Maker, b: Maker, c: Maker) -> Maker:
    return lambda rng: (a(rng), b(rng), c(rng))


def tuple_of(*makers: Maker) -> Maker:
    return lambda rng: tuple(m(rng) for m in makers)
