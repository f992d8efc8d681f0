"""Term size: a compiled program of n operations has O(n) term nodes (issue 11, point 5).

The programs are unrolled recurrences, where the sharing analysis used to go quadratic: with the loss
summed over the steps, every state is shared (by the next step and by its term of the sum) and bound at
the result, and the sum kept all of them alive through every level. Oracles: the growth of the node
count (constant per step), plain numpy for values, central finite differences for gradients, and the
structure of the term (the running sum keeps its association; K independent losses stay a K-way fork).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import pytest

import catterms as ct
import catterms.numpy as cnp
from catterms.examples import lstm, recurrence
from catterms.frontend.scopes import analyse
from catterms.frontend.trace import trace
from catterms.terms import Term

from oracles import finite_difference_grad, leaves_of

RNG_SEED = 1234
D = 4  # the state's width


PROGRAMS: dict[str, tuple[Callable[[int], Callable[..., Any]], Callable[[int], tuple]]] = {
    "summed": (lambda T: recurrence(T, True), lambda T: (ct.Array((D,)), ct.Array((T, D)))),
    "final": (lambda T: recurrence(T, False), lambda T: (ct.Array((D,)), ct.Array((T, D)))),
    "lstm": (lambda T: lstm(T), lambda T: ((ct.Array((D, D)),) * 4, ct.Array((T, D)))),
    "lstm summed": (lambda T: lstm(T, True), lambda T: ((ct.Array((D, D)),) * 4, ct.Array((T, D)))),
}


def compiled(name: str, steps: int) -> Term:
    make, specs = PROGRAMS[name]
    return ct.compile(make(steps), *specs(steps))


def nodes(term: Term) -> int:
    return sum(1 for _ in term.nodes())


def example(specs: tuple, rng: np.random.Generator) -> Any:
    def one(spec: Any) -> Any:
        return tuple(one(s) for s in spec) if isinstance(spec, tuple) else rng.uniform(-0.8, 0.8, spec.shape)

    return tuple(one(s) for s in specs)


# --- size: constant per step -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_nodes_per_step_are_constant(name: str) -> None:
    n100, n200, n400 = (nodes(compiled(name, T)) for T in (100, 200, 400))
    first, second = n200 - n100, n400 - n200
    assert abs(second - 2 * first) <= 0.1 * 2 * first, (n100, n200, n400)  # 200 more steps cost twice 100 more
    assert n400 < 150 * 400


def test_two_thousand_steps_compile_quickly() -> None:
    t0 = time.perf_counter()
    term = compiled("summed", 2_000)
    elapsed = time.perf_counter() - t0
    assert nodes(term) < 30 * 2_000
    assert elapsed < 15, f"{elapsed:.1f} s to compile 2,000 steps"  # about 1 s on a small, shared machine


def test_the_running_sum_keeps_its_association() -> None:
    """A floated ``add`` link is not absorbed into one n-ary sum: at each level only the total is live."""
    term = compiled("summed", 50)
    jams = [t.data[0] for t in term.nodes() if t.op == "jam"]
    assert max(jams, default=2) <= 3
    adds = [t for t in term.nodes() if t.op == "prim" and t.data[0] == "add"]
    assert len(adds) >= 2 * 50 - 3  # each step's h·w + x, and each step's link of the running sum


def test_floating_happens_only_where_a_scope_has_levels() -> None:
    """The recurrence floats its running total; a program whose scopes have one level floats nothing."""
    f = recurrence(20, True)
    assert analyse(trace(f, (ct.Array((D,)), ct.Array((20, D)))).root).floated
    one_level = trace(lambda x: cnp.sin(x) * x + cnp.sin(x), (ct.Array(()),))
    assert not analyse(one_level.root).floated
    assert ct.pretty(ct.compile(lambda x: cnp.sin(x) * x + cnp.sin(x), ct.Array(()))) == \
        "add ∘ (mul ∘ (exr △ exl) △ exr) ∘ (id △ sin)"


def test_independent_losses_ready_at_the_end_stay_a_k_way_fork() -> None:
    """Two levels at the root, and K losses that all read the last one: one ``jam[K]`` of K branches."""
    k, rng = 5, np.random.default_rng(RNG_SEED)
    Ws = [rng.standard_normal(3) for _ in range(k)]

    def f(x: Any, xp: Any) -> Any:
        a = xp.tanh(x)
        b = a * x + a  # reads a: the second level
        return sum(xp.sum(b * W + a) for W in Ws)

    term = ct.compile(lambda x: f(x, cnp), ct.Array((3,)))
    assert term.op == "compose"
    *_, branches, jam = term.args
    assert jam.op == "jam" and jam.data == (k,)
    assert branches.op == "fork" and len(branches.args) == k
    x = rng.standard_normal(3)
    assert np.allclose(ct.evaluate(term, x), f(x, np), rtol=1e-12)


# --- values and gradients unchanged --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.parametrize("steps", [1, 2, 7])
def test_recurrences_evaluate_and_differentiate_like_numpy(name: str, steps: int) -> None:
    make, specs = PROGRAMS[name]
    f = make(steps)
    term = ct.compile(f, *specs(steps))
    x = example(specs(steps), np.random.default_rng(RNG_SEED + steps))
    value, grad = ct.value_and_grad(term, x)
    assert np.allclose(value, f(*x), rtol=1e-12, atol=1e-12)
    assert np.allclose(ct.evaluate(term, x), f(*x), rtol=1e-12, atol=1e-12)
    for g, want in zip(leaves_of(grad), finite_difference_grad(lambda p: float(f(*p)), x)):
        assert np.allclose(g, want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["summed", "lstm summed"])
def test_long_recurrences_differentiate_like_numpy(name: str) -> None:
    """Many levels, many floated values: the gradient with respect to the weights, by central differences."""
    steps = 60
    make, specs = PROGRAMS[name]
    f = make(steps)
    term = ct.compile(f, *specs(steps))
    x = example(specs(steps), np.random.default_rng(RNG_SEED))
    value, (gw, gxs) = ct.value_and_grad(term, x)
    assert np.allclose(value, f(*x), rtol=1e-12)
    want = finite_difference_grad(lambda w: float(f(w, x[1])), x[0])
    for g, w in zip(leaves_of(gw), want):
        assert np.allclose(g, w, rtol=1e-5, atol=1e-7)
    # and one input step, the first (it reaches every later state)
    first = finite_difference_grad(lambda x0: float(f(x[0], np.concatenate([x0[None], x[1][1:]]))), x[1][0])[0]
    assert np.allclose(gxs[0], first, rtol=1e-5, atol=1e-7)


OPS: list[Callable[..., Any]] = [
    lambda xp, a: xp.sin(a),
    lambda xp, a: xp.tanh(a) * 1.5,
    lambda xp, a: a[::-1] - 0.25,
    lambda xp, a, b: (a + b) * 0.6,
    lambda xp, a, b: xp.tanh(a * b),
    lambda xp, a, b: xp.maximum(a, b) - a,
    lambda xp, a, b, c: (a + b + c) * 0.4,
    lambda xp, a: xp.tanh(xp.sum(a)) * a,
    lambda xp, a, b: a - b,
]


def random_program(seed: int) -> Callable[..., Any]:
    """A random straight-line program on three vectors that reuses recent values often, with a loss that
    sums several of them: as a Python ``sum``, as a running total, or two of them."""
    rng = np.random.default_rng(seed)
    steps = []
    n = int(rng.integers(5, 40))
    for i in range(n):
        op = int(rng.integers(len(OPS)))
        arity = OPS[op].__code__.co_argcount - 1
        back = int(rng.integers(1, 8))
        steps.append((op, [int(rng.integers(max(0, i + 3 - back), i + 3)) for _ in range(arity)]))
    outputs = sorted({int(k) for k in rng.integers(0, n + 3, size=int(rng.integers(1, 6)))})
    how = int(rng.integers(3))

    def program(xp: Any, x: Any, y: Any, z: Any) -> Any:
        values = [x, y, z]
        for op, args in steps:
            values.append(OPS[op](xp, *(values[a] for a in args)))
        picked = [values[k] for k in outputs]
        if how == 0:
            return sum(xp.sum(p) for p in picked)
        if how == 1:
            total = 0.0
            for p in picked:
                total = total + xp.sum(p * p)
            return total
        return xp.sum(picked[-1]) + xp.sum(picked[0])

    return program


def test_shared_value_heavy_random_programs() -> None:
    spec, rng, floated = ct.Array((3,)), np.random.default_rng(RNG_SEED), 0
    for seed in range(120):
        program = random_program(seed)
        fn = lambda x, y, z, program=program: program(cnp, x, y, z)  # noqa: E731
        floated += len(analyse(trace(fn, (spec, spec, spec)).root).floated)
        term = ct.compile(fn, spec, spec, spec)
        x = tuple(rng.uniform(-1, 1, 3) for _ in range(3))
        assert np.allclose(ct.evaluate(term, x), program(np, *x), rtol=1e-12, atol=1e-12), seed
        if seed % 4 == 0:
            grads = ct.grad(term, x)
            want = finite_difference_grad(lambda p, program=program: float(program(np, *p)), x)
            for g, w in zip(grads, want):
                assert np.allclose(g, w, rtol=1e-5, atol=1e-6), seed
    assert floated > 20  # the programs exercise float-in


# --- derivative terms: constant nodes per step (long-lived residuals parked) -----------------------------


DERIVATIVES = ["value_and_grad_term", "grad_term", "vjp_term", "jvp_term"]


def derivative_nodes(name: str, kind: str, steps: int) -> int:
    return nodes(getattr(ct, kind)(compiled(name, steps), PROGRAMS[name][1](steps)))


@pytest.mark.parametrize("kind", DERIVATIVES)
@pytest.mark.parametrize("name", ["final", "summed"])
def test_derivative_terms_have_constant_nodes_per_step(name: str, kind: str) -> None:
    """The reverse pass needs the residuals in the opposite order to the one they are made in; parked in a
    cons-list, each is pushed and popped at a constant cost (it used to be re-carried through every level:
    quadratic). Forward mode's tangent pass reads them in the order they were made: the list is reversed once."""
    n100, n200, n400 = (derivative_nodes(name, kind, T) for T in (100, 200, 400))
    first, second = n200 - n100, n400 - n200
    assert abs(second - 2 * first) <= 0.1 * 2 * first, (n100, n200, n400)
    assert n400 < 120 * 400


def test_lstm_forward_mode_term_has_constant_nodes_per_step() -> None:
    n10, n20, n40 = (derivative_nodes("lstm", "jvp_term", T) for T in (10, 20, 40))
    assert abs((n40 - n20) - 2 * (n20 - n10)) <= 0.1 * 2 * (n20 - n10), (n10, n20, n40)


@pytest.mark.parametrize("kind", ["value_and_grad_term", "vjp_term"])
def test_lstm_reverse_mode_terms_have_constant_nodes_per_step(kind: str) -> None:
    n10, n20, n40 = (derivative_nodes("lstm", kind, T) for T in (10, 20, 40))
    assert abs((n40 - n20) - 2 * (n20 - n10)) <= 0.1 * 2 * (n20 - n10), (n10, n20, n40)


def test_hvp_of_four_hundred_steps_is_quick() -> None:
    """Forward mode over the gradient term. (Its environment nests a cons-list as deep as the residuals
    parked, ~400 here, and the lazy tangents recurse through it, deeper than ``headroom`` allows for a
    term of small depth when called under pytest's frames: the limit is raised, as for jvp above.)"""
    term = compiled("final", 400)
    x = example(PROGRAMS["final"][1](400), np.random.default_rng(RNG_SEED))
    v = example(PROGRAMS["final"][1](400), np.random.default_rng(RNG_SEED + 1))
    t0 = time.perf_counter()
    hv = ct.hvp(term, x, v)
    elapsed = time.perf_counter() - t0
    assert elapsed < 20, f"{elapsed:.1f} s"  # about 2.5 s on a small, shared machine
    eps = 1e-6  # against central differences of the gradient along v
    plus = ct.grad(term, tuple(a + eps * b for a, b in zip(x, v)))
    minus = ct.grad(term, tuple(a - eps * b for a, b in zip(x, v)))
    for h, p, m in zip(leaves_of(hv), leaves_of(plus), leaves_of(minus)):
        assert np.allclose(h, (p - m) / (2 * eps), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.parametrize("steps", [7, 30])
def test_derivative_terms_evaluate_like_the_derivatives(name: str, steps: int) -> None:
    make, specs = PROGRAMS[name]
    term, dom = ct.compile(make(steps), *specs(steps)), specs(steps)
    rng = np.random.default_rng(RNG_SEED + steps)
    x, dx = example(dom, rng), example(dom, rng)
    value, grad = ct.value_and_grad(term, x)
    got_value, got_grad = ct.evaluate(ct.value_and_grad_term(term, dom), x)
    assert abs(got_value - value) <= 1e-10 * max(1.0, abs(value))
    for g, w in zip(leaves_of(got_grad), leaves_of(grad)):
        assert np.allclose(g, w, rtol=1e-10, atol=1e-12)
    for g, w in zip(leaves_of(ct.evaluate(ct.grad_term(term, dom), x)), leaves_of(grad)):
        assert np.allclose(g, w, rtol=1e-10, atol=1e-12)
    y, dy = ct.jvp(term, x, dx)
    got_y, got_dy = ct.evaluate(ct.jvp_term(term, dom), (x, dx))
    assert np.allclose(got_y, y, rtol=1e-10) and np.allclose(got_dy, dy, rtol=1e-10, atol=1e-12)
    y, ct_x = ct.vjp(term, x, np.float64(0.7))
    got_y, got_ct = ct.evaluate(ct.vjp_term(term, dom), (x, np.float64(0.7)))
    assert np.allclose(got_y, y, rtol=1e-10)
    for g, w in zip(leaves_of(got_ct), leaves_of(ct_x)):
        assert np.allclose(g, w, rtol=1e-10, atol=1e-12)


def test_random_programs_derivative_terms_evaluate_like_the_derivatives() -> None:
    spec, rng = ct.Array((3,)), np.random.default_rng(RNG_SEED)
    for seed in range(40):
        program = random_program(seed)
        term = ct.compile(lambda x, y, z, program=program: program(cnp, x, y, z), spec, spec, spec)
        x = tuple(rng.uniform(-1, 1, 3) for _ in range(3))
        dom = (spec, spec, spec)
        value, grad = ct.value_and_grad(term, x)
        got_value, got_grad = ct.evaluate(ct.value_and_grad_term(term, dom), x)
        assert abs(got_value - value) <= 1e-10 * max(1.0, abs(value)), seed
        for g, w in zip(got_grad, grad):
            assert np.allclose(g, w, rtol=1e-10, atol=1e-12), seed
