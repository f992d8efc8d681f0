"""Scale: long chains, deep nesting and 100,000-node terms decode, check, evaluate and differentiate.

Nothing may hit Python's recursion limit: the fold is iterative, closures only run at generation time
(with :func:`catterms.category.headroom`), and generated code is one flat function.
"""

from __future__ import annotations

import time

import numpy as np

import catterms as ct
from catterms.category import folded, postorder

P = ct.prim


def test_chain_of_ten_thousand_primitives() -> None:
    chain = ct.compose(*[P("sin") if i % 2 else ct.scale(1.01) for i in range(10_000)])
    x = np.linspace(0.0, 1.0, 4)
    expected = x.copy()
    for i in range(10_000):
        expected = np.sin(expected) if i % 2 == 0 else expected * 1.01
    decoded = ct.loads(ct.dumps(chain))
    np.testing.assert_allclose(ct.evaluate(decoded, x), expected, rtol=1e-12)
    _, g = ct.value_and_grad(ct.compose(P("sum"), decoded), x)
    assert g.shape == (4,) and np.all(np.isfinite(g))


def test_nesting_far_deeper_than_the_recursion_limit() -> None:
    """f₀ = id, f_{k+1} = add ∘ (f_k △ sin): 4,900 nested forks and compositions (the wire limit is 10,000)."""
    f = ct.identity
    for _ in range(4_900):
        f = ct.compose(P("add"), ct.fork(f, P("sin")))
    assert f.depth > 9_800  # Python's default recursion limit is 1,000
    f = ct.loads(ct.dumps(f))
    x = np.array([0.1, 0.2])
    np.testing.assert_allclose(ct.evaluate(f, x), x + 4_900 * np.sin(x), rtol=1e-12)
    np.testing.assert_allclose(ct.grad(ct.compose(P("sum"), f), x), 1 + 4_900 * np.cos(x), rtol=1e-12)


def test_nesting_beyond_the_wire_limit_through_the_python_api() -> None:
    """30,000 nested forks (depth 60,001), built in Python where no wire limit applies: type inference,
    evaluation, the gradient and the rendering neither recurse in C (a crash) nor go quadratic."""
    f = P("sin")
    for _ in range(30_000):
        f = ct.compose(P("add"), ct.fork(f, ct.identity))
    assert f.depth == 60_001
    x = np.array([0.1, 0.2])
    assert ct.infer(f, ct.Array((2,))) == ct.Array((2,))
    np.testing.assert_allclose(ct.evaluate(f, x), np.sin(x) + 30_000 * x, rtol=1e-12)
    np.testing.assert_allclose(ct.grad(ct.compose(P("sum"), f), x), np.cos(x) + 30_000, rtol=1e-12)
    text = ct.pretty(f)
    assert text.startswith("add ∘ (add ∘ (") and text.count("△ id") == 30_000


def _wide(k: int) -> ct.Term:
    """A k-way fork of distinct 9-node chains: about 10·k distinct nodes."""
    def branch(i: int) -> ct.Term:
        steps = [P(f) for f in ("sin", "cos", "tanh", "exp")]
        return ct.compose(P("sum"), *[ct.compose(f, ct.scale(1.0 + (i + j) / k)) for j, f in reversed(list(enumerate(steps)))])

    return ct.compose(ct.jamn(k), ct.fork(*[branch(i) for i in range(k)]))


def test_hundred_thousand_node_term() -> None:
    term = _wide(10_000)
    assert len(list(term.nodes())) > 100_000
    decoded = ct.loads(ct.dumps(term))
    assert decoded == term
    x = np.linspace(-1.0, 1.0, 3)
    y, g = ct.value_and_grad(decoded, x)
    k = 10_000
    v = np.broadcast_to(x, (k, 3))
    for j, f in enumerate((np.sin, np.cos, np.tanh, np.exp)):
        v = f(v * (1.0 + (np.arange(k)[:, None] + j) / k))
    np.testing.assert_allclose(y, v.sum(), rtol=1e-10)
    assert g.shape == (3,) and np.all(np.isfinite(g))


def test_decoding_and_checking_take_linear_time() -> None:
    def seconds(k: int) -> float:
        term = _wide(k)
        data = ct.dumps(term)
        best = float("inf")
        for _ in range(3):
            for cache in (ct.typecheck.typing, folded, postorder):
                cache.cache_clear()  # an equal term was checked before: check this one again
            t0 = time.perf_counter()
            ct.infer(ct.loads(data), ct.Array((3,)))
            best = min(best, time.perf_counter() - t0)
        return best

    small, large = seconds(1_000), seconds(8_000)
    # 8× the nodes: linear is ~8×; a quadratic algorithm would be ~64×. Generous for a noisy machine.
    assert large < 25 * small
