"""Named examples: the paper's, and a few realistic programs for tests, benchmarks and the demo.

``sqr``, ``magSqr`` and ``cosSinProd`` are the paper's §5 examples, compiled from Python; their
point-free renderings are the paper's own (``ct.pretty(cosSinProd) == '(cos △ sin) ∘ mul'``).

The builders return an :class:`Example`, ``(term, example_input, reference)``: the compiled term, an input
of its domain, and the same function run by plain numpy. Each program is written once, against a
namespace ``xp`` that is :mod:`catterms.numpy` for the term and :mod:`numpy` for the reference, so the
two cannot drift apart. Data sets are constants of the term (closed over), as in the benchmarks' anchors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import numpy as cnp
from .frontend import compile
from .loops import scan as _scan
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


def recurrence(steps: int, summed: bool, xp: Any = np) -> Callable[[Any, Any], Any]:
    """``h ← tanh(h·w + xₜ)`` unrolled over ``steps`` rows of ``xs`` (``h`` starts at ``xs[0]``), for the array
    module ``xp`` (plain numpy is traced through numpy's dispatch; jax.numpy for jax); the loss is the sum
    over the steps of ``sum(h)``, or ``sum`` of the last ``h``: the program of the compile-scaling benchmark."""

    def f(w: Any, xs: Any) -> Any:
        h, tot = xs[0], 0.0
        for t in range(steps):
            h = xp.tanh(h * w + xs[t])
            if summed:
                tot = tot + xp.sum(h)
        return tot if summed else xp.sum(h)

    return f


def recurrence_loop(summed: bool, scan: Any = None, xp: Any = np) -> Callable[[Any, Any], Any]:
    """:func:`recurrence` as one loop over all the rows of ``xs``: ``scan`` is ``ct.scan`` (the default), or
    ``jax.lax.scan`` with ``xp`` jax.numpy."""

    def f(w: Any, xs: Any) -> Any:
        def step(h: Any, x: Any) -> Any:
            h = xp.tanh(h * w + x)
            return h, xp.sum(h)

        h, ys = (scan or _scan)(step, xs[0], xs)
        return xp.sum(ys) if summed else xp.sum(h)

    return f


def _lstm_cell(p: Any, xp: Any) -> Callable[[Any, Any, Any], tuple[Any, Any]]:
    """One step of :func:`lstm`'s cell with weights ``p``: ``(h, c, x) ↦ (h′, c′)``."""
    Wi, Wg, Wo, U = p

    def sigmoid(z: Any) -> Any:
        return 1 / (1 + xp.exp(-z))

    def cell(h: Any, c: Any, x: Any) -> tuple[Any, Any]:
        z = h @ U + x
        i, g, o = sigmoid(z @ Wi), xp.tanh(z @ Wg), sigmoid(z @ Wo)
        c = c * (1 - i) + i * g
        return o * xp.tanh(c), c

    return cell


def lstm(steps: int, summed: bool = False, xp: Any = np) -> Callable[[Any, Any], Any]:
    """An LSTM-like cell unrolled over ``steps`` rows of ``xs``: four weight matrices ``(Wi, Wg, Wo, U)`` read
    at every step, the state ``h`` and cell ``c`` carried; the loss is ``sum(h²)`` of the last step, or summed
    over the steps. An input reused at every step is what made its gradient's term quadratic (issue 11)."""

    def f(p: Any, xs: Any) -> Any:
        cell = _lstm_cell(p, xp)
        h, c, tot = xs[0], xs[0] * 0.5, 0.0
        for t in range(steps):
            h, c = cell(h, c, xs[t])
            if summed:
                tot = tot + xp.sum(h * h)
        return tot if summed else xp.sum(h * h)

    return f


def lstm_loop(summed: bool = False, scan: Any = None, xp: Any = np) -> Callable[[Any, Any], Any]:
    """:func:`lstm` as one loop over the rows of ``xs`` (``scan`` as in :func:`recurrence_loop`)."""

    def f(p: Any, xs: Any) -> Any:
        cell = _lstm_cell(p, xp)

        def step(carry: Any, x: Any) -> Any:
            h, c = cell(carry[0], carry[1], x)
            return (h, c), xp.sum(h * h)

        (h, _), ys = (scan or _scan)(step, (xs[0], xs[0] * 0.5), xs)
        return xp.sum(ys) if summed else xp.sum(h * h)

    return f


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


# --- objectives that need the wider numpy surface: gathers, integer labels, factorizations -----------------
#
# Each is written once against ``xp`` (an array module) and ``lse`` (its logsumexp over an axis), so the
# benchmarks run the very same program under numpy, catterms, autograd and jax.

Program = Callable[[Any, Callable[..., Any]], Callable[..., Any]]


class Objective(NamedTuple):
    """An :class:`Example` together with its ``program(xp, lse)``, for anchors in other AD systems."""

    term: Term
    example_input: Any
    reference: Callable[[Any], Any]
    program: Program


def _objective(program: Program, x: Any) -> Objective:
    from scipy.special import logsumexp

    specs = tuple(Array(np.shape(a), np.asarray(a).dtype) for a in x)
    term = compile(program(cnp, cnp.logsumexp), *specs)
    ref = program(np, logsumexp)
    return Objective(term, x, lambda p: ref(*p), program)


def gmm_objective(n: int = 1000, d: int = 10, k: int = 25, seed: int = 0) -> Objective:
    """The Gaussian-mixture negative log-likelihood of ADBench/GradBench (with its Wishart prior), as a
    function of ``(alphas, means, icf)``: each component's inverse-covariance factor is a lower-triangular
    matrix gathered from the packed ``icf`` rows by a ``d × d`` integer index (``row[:, tril_index]``)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    gamma, m = 1.0, 0
    packed = d * (d + 1) // 2
    # index into [log-diagonal (d) | strictly lower part (packed - d), row by row | a zero] of each row
    tril = np.full((d, d), packed, dtype=np.int64)
    tril[np.diag_indices(d)] = np.arange(d)
    rows, cols = np.tril_indices(d, -1)
    tril[rows, cols] = d + np.arange(rows.size)
    const = -n * d * 0.5 * np.log(2 * np.pi) - k * (
        (d + m + 1) * d * (np.log(gamma) - 0.5 * np.log(2)) - _log_multigamma(0.5 * (d + m + 1), d))

    def program(xp: Any, lse: Callable[..., Any]) -> Callable[..., Any]:
        def nll(alphas: Any, means: Any, icf: Any) -> Any:
            log_diag = icf[:, :d]
            factors = xp.concatenate([xp.exp(log_diag), icf[:, d:], xp.zeros((k, 1))], axis=1)[:, tril]
            centered = xp.transpose(x[:, None, :] - means[None, :, :], (1, 2, 0))  # k × d × n
            mahalanobis = xp.sum((factors @ centered) ** 2, axis=1)  # k × n
            inner = (alphas + xp.sum(log_diag, axis=1))[:, None] - 0.5 * mahalanobis
            prior = xp.sum(0.5 * gamma ** 2 * (xp.sum(xp.exp(2 * log_diag), axis=1)
                                                + xp.sum(icf[:, d:] ** 2, axis=1)) - m * xp.sum(log_diag, axis=1))
            return -(const + xp.sum(lse(inner, axis=0)) - n * lse(alphas, axis=0) - prior)

        return nll

    params = (rng.standard_normal(k), rng.standard_normal((k, d)), 0.1 * rng.standard_normal((k, packed)))
    return _objective(program, params)


def _log_multigamma(a: float, p: int) -> float:
    from scipy.special import multigammaln

    return float(multigammaln(a, p))


def softmax_cross_entropy(batch: int = 512, features: int = 256, classes: int = 100, seed: int = 0) -> Objective:
    """Mean softmax cross-entropy of a linear classifier ``(W, b)`` on integer labels, the label's logit
    picked with ``take_along_axis``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, features))
    labels = rng.integers(0, classes, batch)

    def program(xp: Any, lse: Callable[..., Any]) -> Callable[..., Any]:
        def loss(W: Any, b: Any) -> Any:
            logits = X @ W + b
            picked = xp.take_along_axis(logits, labels[:, None], axis=1)[:, 0]
            return xp.mean(lse(logits, axis=1) - picked)

        return loss

    params = (rng.standard_normal((features, classes)) / np.sqrt(features), np.zeros(classes))
    return _objective(program, params)


def gaussian_loglik(n: int = 2000, d: int = 20, seed: int = 0) -> Objective:
    """The log-likelihood of data under ``N(μ, A Aᵀ + I)``, as a function of ``(μ, A)``, through a
    Cholesky factor and a linear solve."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n, d))
    eye = np.eye(d)

    def program(xp: Any, lse: Callable[..., Any]) -> Callable[..., Any]:
        def loglik(mu: Any, A: Any) -> Any:
            L = xp.linalg.cholesky(A @ A.T + eye)
            z = xp.linalg.solve(L, (data - mu).T)
            log_det = xp.sum(xp.log(xp.diagonal(L, 0, -1, -2)))
            return -0.5 * xp.sum(z ** 2) - n * log_det - 0.5 * n * d * np.log(2 * np.pi)

        return loglik

    params = (0.1 * rng.standard_normal(d), rng.standard_normal((d, d)) / np.sqrt(d))
    return _objective(program, params)
