"""Named examples: the paper's, and a few realistic programs for tests, benchmarks and the demo.

``sqr``, ``magSqr`` and ``cosSinProd`` are the paper's §5 examples, compiled from Python; their
point-free renderings are the paper's own (``ct.pretty(cosSinProd) == '(cos △ sin) ∘ mul'``).

The builders return an :class:`Example`, ``(term, example_input, reference)``: the compiled term, an input
of its domain, and the same function run by plain numpy. Each program is written once, against a
namespace ``xp`` that is :mod:`catterms.numpy` for the term and :mod:`numpy` for the reference, so the
two cannot drift apart. Data sets are constants of the term (closed over), as in the benchmarks' anchors.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from . import numpy as cnp
from .frontend import compile
from .terms import Term
from .types import Array

sqr = compile(lambda x: x * x, Array(()))
magSqr = compile(lambda a, b: a * a + b * b, Array(()), Array(()))
cosSinProd = compile(lambda x, y: (cnp.cos(x * y), cnp.sin(x * y)), Array(()), Array(()))


class Example(NamedTuple):
    term: Term
    example_input: Any
    reference: Callable[[Any], Any]


def _rosenbrock(x: Any, xp: Any) -> Any:
    return xp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock(n: int, dtype: str = "float64", seed: int = 0) -> Example:
    """Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)² on a vector of ``n`` (≥ 2) elements."""
    x = np.random.default_rng(seed).uniform(-2, 2, n).astype(dtype)
    return Example(compile(lambda x: _rosenbrock(x, cnp), Array((n,), dtype)), x, lambda x: _rosenbrock(x, np))


def _mlp(params: tuple, X: np.ndarray, y: np.ndarray, xp: Any) -> Any:
    """Mean squared error of a 2-layer tanh MLP; the residual is used twice, so it is shared."""
    W1, b1, W2, b2 = params
    r = xp.tanh(X @ W1 + b1) @ W2 + b2 - y
    return xp.mean(r * r)


def _member(rng: np.random.Generator, batch: int, width: int, features: int, dtype: str) -> tuple:
    """One model's data ``(X, y)`` and initial parameters ``(W1, b1, W2, b2)``."""
    X = rng.standard_normal((batch, features)).astype(dtype)
    y = rng.standard_normal((batch, 1)).astype(dtype)
    params = (
        (rng.standard_normal((features, width)) / np.sqrt(features)).astype(dtype),
        (0.1 * rng.standard_normal(width)).astype(dtype),
        (rng.standard_normal((width, 1)) / np.sqrt(width)).astype(dtype),
        (0.1 * rng.standard_normal(1)).astype(dtype),
    )
    return (X, y), params


def _specs(params: tuple) -> tuple:
    return tuple(Array(p.shape, p.dtype) for p in params)


def mlp_loss(batch: int = 256, width: int = 64, features: int = 32, dtype: str = "float64", seed: int = 0) -> Example:
    """The loss of a 2-layer tanh MLP as a function of its weights ``(W1, b1, W2, b2)`` (a 4-tuple);
    the data ``X`` (``batch × features``) and ``y`` (``batch × 1``) are constants of the term."""
    (X, y), params = _member(np.random.default_rng(seed), batch, width, features, dtype)
    term = compile(lambda W1, b1, W2, b2: _mlp((W1, b1, W2, b2), X, y, cnp), *_specs(params))
    return Example(term, params, lambda p: _mlp(p, X, y, np))


def ensemble_loss(K: int, batch: int = 64, width: int = 32, features: int = 16, dtype: str = "float64",
                  seed: int = 0) -> Example:
    """The sum of K independent MLP losses, member k with its own parameters and data set.

    The input is the K-tuple of the members' parameter 4-tuples (the bare 4-tuple when K = 1). The term
    is ``jam[K] ∘ (loss₁ △ … △ loss_K)`` (``add`` for K = 2): K branches that share nothing but the
    input, which is where a parallel evaluator finds its work.
    """
    rng = np.random.default_rng(seed)
    members = [_member(rng, batch, width, features, dtype) for _ in range(K)]

    def total(ps: tuple, xp: Any) -> Any:
        return sum(_mlp(p, X, y, xp) for p, ((X, y), _) in zip(ps, members))

    term = compile(lambda *ps: total(ps, cnp), *(_specs(params) for _, params in members))
    example = tuple(params for _, params in members)
    if K == 1:
        return Example(term, example[0], lambda p: total((p,), np))
    return Example(term, example, lambda ps: total(ps, np))
