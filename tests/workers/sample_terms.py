"""Test terms for the workers suite, built point-free (no front end): wide, data-parallel, deep, tree.

Each builder returns ``(term, x)``; sizes are small so the suite stays fast, and the Executor under test
uses a low fusion threshold so the terms really split.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import catterms as ct
from catterms.terms import Term

RNG = np.random.default_rng(7)


def layer(W: np.ndarray) -> Term:
    """``h ↦ tanh(h @ W)`` with ``W`` a constant."""
    return ct.compose(ct.prim("tanh"), ct.prim("matmul"), ct.fork(ct.identity, ct.const(W)))


def loss(X: np.ndarray) -> Term:
    """``W ↦ mean(tanh(X @ W)²)`` with data ``X`` a constant."""
    return ct.compose(ct.prim("mean"), ct.prim("pow", p=2.0), ct.prim("tanh"), ct.prim("matmul"),
                      ct.fork(ct.const(X), ct.identity))


def wide(K: int, batch: int = 8, width: int = 5) -> tuple[Term, Any]:
    """An ensemble: the sum of K independent losses, member k reading its own weights."""
    term = ct.compose(ct.jamn(K), ct.fork(*(ct.compose(loss(RNG.standard_normal((batch, width))), ct.proj(k, K))
                                            for k in range(K))))
    return term, tuple(RNG.standard_normal((width, 3)) for _ in range(K))


def data_parallel(K: int, batch: int = 8, width: int = 5) -> tuple[Term, Any]:
    """One loss over K data shards, summed: every branch reads the same weights."""
    term = ct.compose(ct.jamn(K), ct.fork(*(loss(RNG.standard_normal((batch, width))) for _ in range(K))))
    return term, RNG.standard_normal((width, 3))


def deep(L: int, batch: int = 6, width: int = 4) -> tuple[Term, Any]:
    """A chain of L layers and a loss: no parallelism at all."""
    layers = [layer(RNG.standard_normal((width, width)) / 2) for _ in range(L)]
    return ct.compose(ct.prim("sum"), ct.prim("pow", p=2.0), *reversed(layers)), RNG.standard_normal((batch, width))


def tree(depth: int, batch: int = 4, width: int = 4) -> tuple[Term, Any]:
    """A balanced binary tree: layers at the leaves, ``tanh ∘ add`` at the inner nodes (non-linear, so
    the backward pass needs the forward values), a sum at the root."""

    def node(d: int) -> Term:
        if d == 0:
            return layer(RNG.standard_normal((width, width)) / 2)
        return ct.compose(ct.prim("tanh"), ct.prim("add"), ct.fork(node(d - 1), node(d - 1)))

    return ct.compose(ct.prim("sum"), node(depth)), RNG.standard_normal((batch, width))


def mixed(K: int = 3, n: int = 32, picks: int = 8) -> tuple[Term, Any]:
    """Floats, integers and booleans together: K branches, each gathering its own traced indices from a
    masked, transformed vector (the integer and boolean inputs have no tangent: None in, None out)."""
    import catterms.numpy as cnp

    def f(x: Any, idx: Any, mask: Any) -> Any:
        return sum(cnp.sum(cnp.where(mask, cnp.tanh(x * (k + 1.0)), x)[idx[k]] ** 2) for k in range(K))

    x = (RNG.standard_normal(n), RNG.integers(0, n, (K, picks)), RNG.standard_normal(n) > 0)
    return ct.compile(f, *x), x


def forked_scan(steps: int = 5, batch: int = 16, width: int = 8, reverse: bool = False,
                save: bool = False) -> tuple[Term, Any]:
    """A ``scan`` whose body forks into two heavy branches, each carrying its own state:
    ``(i, h₁, h₂, x) ↦ (tanh(h₁ @ W₁ + x), tanh(h₂ @ W₂ + x), ys: the first again)``, both states starting
    from the input's ``h₀``; input ``(h₀, xs)``."""
    def branch(W: np.ndarray, carry: int) -> Term:
        product = ct.compose(ct.prim("matmul"), ct.fork(ct.proj(carry, 4), ct.const(W)))
        return ct.compose(ct.prim("tanh"), ct.prim("add"), ct.fork(product, ct.proj(3, 4)))

    W1, W2 = (RNG.standard_normal((width, width)) / np.sqrt(width) for _ in range(2))
    body = ct.compose(ct.fork(ct.proj(0, 2), ct.proj(1, 2), ct.proj(0, 2)), ct.fork(branch(W1, 1), branch(W2, 2)))
    scan = ct.prim("scan", body=body, nconst=0, ncarry=2, length=steps, reverse=reverse, save=save)
    term = ct.compose(scan, ct.fork(ct.const(np.int64(0)), ct.proj(0, 2), ct.proj(0, 2), ct.proj(1, 2)))
    return term, (RNG.standard_normal((batch, width)), RNG.standard_normal((steps, batch, width)))


FAMILIES = {"wide": lambda: wide(4), "data_parallel": lambda: data_parallel(3), "deep": lambda: deep(4),
            "tree": lambda: tree(3), "mixed": lambda: mixed()}


def like(t: Any, rng: np.random.Generator) -> Any:
    """A random tangent of type ``t`` (None for its integer and boolean parts, which have none)."""
    if isinstance(t, tuple):
        return tuple(like(c, rng) for c in t)
    return rng.standard_normal(t.shape).astype(t.dtype) if t.differentiable else None


def assert_close(a: Any, b: Any, rtol: float = 1e-12) -> None:
    """Same structure, shapes and dtypes; values equal to ``rtol`` (float32 leaves: 1e-5)."""
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b)
        for u, v in zip(a, b):
            assert_close(u, v, rtol)
        return
    if b is None:  # the tangent of an integer or boolean part
        assert a is None
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    tol = max(rtol, 1e-5) if b.dtype == np.float32 else rtol
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, float(np.max(np.abs(b), initial=0.0))))
