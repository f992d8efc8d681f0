"""Hypothesis where shapes matter: numpy's broadcasting in binary functions and ``where``, and ``einsum``
with random subscripts — values against numpy, derivatives by the adjoint identity, cotangents shaped like
the inputs (the transposes sum broadcast axes back)."""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import catterms as ct

BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "arctan2", "hypot", "logaddexp", "fmax",
          "power", "mod"]


def _positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


def _inner(a: Any, b: Any) -> float:
    pairs = zip(a, b) if isinstance(a, tuple) else [(a, b)]
    return float(sum(np.sum(np.asarray(p) * np.asarray(q)) for p, q in pairs))


def _adjoint(term: ct.Term, x: Any, rng: np.random.Generator) -> None:
    t = tuple(rng.standard_normal(np.shape(v)) for v in x) if isinstance(x, tuple) else rng.standard_normal(np.shape(x))
    y, jt = ct.jvp(term, x, t)
    c = rng.standard_normal(np.shape(y))
    _, back = ct.vjp(term, x, c)
    assert np.isclose(_inner(jt, c), _inner(t, back), rtol=1e-9, atol=1e-9)
    shapes = [np.shape(v) for v in (x if isinstance(x, tuple) else (x,))]
    assert [np.shape(v) for v in (back if isinstance(back, tuple) else (back,))] == shapes


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(BINARY), hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       st.integers(0, 2 ** 16))
def test_binary_functions_broadcast_as_numpy(name: str, shapes: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = (_positive(rng, s) for s in shapes.input_shapes)
    term = ct.compile(lambda u, v: getattr(np, name)(u, v), a, b)
    got = ct.evaluate(term, (a, b))
    want = getattr(np, name)(a, b)
    assert got.shape == want.shape == shapes.result_shape
    np.testing.assert_allclose(got, want, rtol=1e-12)
    _adjoint(term, (a, b), rng)


@settings(max_examples=30, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), st.integers(0, 2 ** 16))
def test_where_broadcasts_all_three(shapes: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    c_shape, a_shape, b_shape = shapes.input_shapes
    mask = rng.standard_normal(c_shape) > 0
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    term = ct.compile(lambda m, u, v: np.where(m, u, v), mask, a, b)
    np.testing.assert_array_equal(ct.evaluate(term, (mask, a, b)), np.where(mask, a, b))
    t = (None, rng.standard_normal(a_shape), rng.standard_normal(b_shape))
    y, jt = ct.jvp(term, (mask, a, b), t)
    c = rng.standard_normal(np.shape(y))
    _, (none, ga, gb) = ct.vjp(term, (mask, a, b), c)
    assert none is None and ga.shape == a_shape and gb.shape == b_shape
    assert np.isclose(_inner(jt, c), _inner(t[1:], (ga, gb)), rtol=1e-9, atol=1e-9)


@st.composite
def einsum_problems(draw: Any) -> tuple[str, tuple[np.ndarray, ...]]:
    """Random explicit subscripts over up to 5 labels for 1–3 operands, and operands of those sizes."""
    labels = draw(st.lists(st.sampled_from(string.ascii_lowercase[:6]), min_size=1, max_size=5, unique=True))
    sizes = {c: draw(st.integers(1, 3)) for c in labels}
    count = draw(st.integers(1, 3))
    terms = [draw(st.lists(st.sampled_from(labels), min_size=0, max_size=3, unique=True)) for _ in range(count)]
    used = sorted({c for t in terms for c in t})
    out = draw(st.lists(st.sampled_from(used), unique=True)) if used else []
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    operands = tuple(rng.standard_normal(tuple(sizes[c] for c in t)) for t in terms)
    return ",".join("".join(t) for t in terms) + "->" + "".join(out), operands


@settings(max_examples=50, deadline=None)
@given(einsum_problems())
def test_einsum_with_random_subscripts(problem: tuple[str, tuple[np.ndarray, ...]]) -> None:
    subscripts, operands = problem
    term = ct.compile(lambda *xs: np.einsum(subscripts, *xs), *operands)
    x = operands if len(operands) > 1 else operands[0]
    np.testing.assert_allclose(ct.evaluate(term, x), np.einsum(subscripts, *operands), rtol=1e-10, atol=1e-12)
    _adjoint(term, x, np.random.default_rng(len(subscripts)))
