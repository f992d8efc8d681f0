"""The Python front end: ``ct.compile`` and ``catterms.numpy``, checked against numpy and finite differences.

Oracles: numpy on the same inputs for values, central finite differences for gradients, the paper's own
renderings for its examples, and the structure of the term itself (its size, its forks, which inputs each
branch reads) for sharing and independence.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest

import catterms as ct
import catterms.numpy as cnp
from catterms import examples
from catterms.terms import Term
from catterms.types import Array, type_of

from oracles import finite_difference_grad, leaves_of

RNG_SEED = 1234


# --- helpers -------------------------------------------------------------------------------------------


def walk(term: Term) -> list[Term]:
    """Every node of the term *tree*, with multiplicity (a shared Python object counts once per use)."""
    out, stack = [], [term]
    while stack:
        t = stack.pop()
        out.append(t)
        stack.extend(t.args)
    return out


def prim_names(term: Term) -> list[str]:
    return [t.data[0] for t in walk(term) if t.op == "prim"]


def random_input(specs: tuple, rng: np.random.Generator, low: float = 0.5, high: float = 2.0) -> Any:
    def one(spec: Any) -> Any:
        if isinstance(spec, tuple):
            return tuple(one(s) for s in spec)
        return rng.uniform(low, high, spec.shape).astype(spec.dtype)

    values = tuple(one(s) for s in specs)
    return values[0] if len(values) == 1 else values


def as_args(x: Any, n: int) -> tuple:
    return (x,) if n == 1 else x


# --- the paper's examples ------------------------------------------------------------------------------


def test_paper_goldens() -> None:
    assert ct.pretty(ct.compile(lambda x: x * x, ct.Array(()))) == "mul ∘ (id △ id)"
    magsqr = ct.compile(lambda a, b: a * a + b * b, ct.Array(()), ct.Array(()))
    assert ct.pretty(magsqr) == "add ∘ (mul ∘ (exl △ exl) △ mul ∘ (exr △ exr))"
    cossinprod = ct.compile(lambda x, y: (cnp.cos(x * y), cnp.sin(x * y)), ct.Array(()), ct.Array(()))
    assert ct.pretty(cossinprod) == "(cos △ sin) ∘ mul"
    assert (examples.sqr, examples.magSqr, examples.cosSinProd) == (ct.compile(lambda x: x * x, ct.Array(())),
                                                                    magsqr, cossinprod)


def test_paper_examples_values_and_derivatives() -> None:
    assert float(ct.evaluate(examples.sqr, 3.0)) == 9.0
    assert float(ct.grad(examples.sqr, 3.0)) == 6.0
    assert float(ct.evaluate(examples.magSqr, (3.0, 4.0))) == 25.0
    assert [float(g) for g in ct.grad(examples.magSqr, (3.0, 4.0))] == [6.0, 8.0]
    (c, s), (dc, ds) = ct.jvp(examples.cosSinProd, (1.0, 2.0), (1.0, 0.0))
    assert np.allclose([c, s], [np.cos(2.0), np.sin(2.0)])
    assert np.allclose([dc, ds], [-2.0 * np.sin(2.0), 2.0 * np.cos(2.0)])


# --- every primitive through catterms.numpy or an operator, against numpy -------------------------------


class Case(NamedTuple):
    prim: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    shapes: tuple


def _unary(name: str, ref: Callable[[Any], Any]) -> Case:
    return Case(name, getattr(cnp, name), ref, ((3, 4),))


VALUE_CASES = [
    *(_unary(n, getattr(np, n)) for n in ("exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sqrt", "abs")),
    _unary("relu", lambda x: np.maximum(x, 0)),
    _unary("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    Case("relu", lambda x: cnp.relu(x - 1.2), lambda x: np.maximum(x - 1.2, 0), ((3, 4),)),
    Case("abs", lambda x: abs(x - 1.2), lambda x: np.abs(x - 1.2), ((5,),)),
    Case("pow", lambda x: x ** 3.0, lambda x: x ** 3.0, ((3, 4),)),
    Case("pow", lambda x: cnp.power(x, 2.5), lambda x: np.power(x, 2.5), ((3, 4),)),
    Case("pow", cnp.square, np.square, ((4,),)),
    Case("scale", lambda x: x * 2.5, lambda x: x * 2.5, ((3, 4),)),
    Case("scale", lambda x: 3 * x, lambda x: 3 * x, ((3, 4),)),
    Case("neg", lambda x: -x, lambda x: -x, ((3, 4),)),
    Case("neg", cnp.negative, np.negative, ((3,),)),
    Case("add", lambda a, b: a + b, lambda a, b: a + b, ((3, 4), (4,))),
    Case("add", cnp.add, np.add, ((3, 1), (4,))),
    Case("add", lambda x: 1.5 + x, lambda x: 1.5 + x, ((3,),)),
    Case("add", lambda x: np.arange(3.0) + x, lambda x: np.arange(3.0) + x, ((3,),)),
    Case("sub", lambda a, b: a - b, lambda a, b: a - b, ((3, 4), (3, 1))),
    Case("sub", lambda x: 2.0 - x, lambda x: 2.0 - x, ((3,),)),
    Case("sub", cnp.subtract, np.subtract, ((2, 3), (3,))),
    Case("mul", lambda a, b: a * b, lambda a, b: a * b, ((3, 4), (4,))),
    Case("mul", lambda x: np.arange(4.0) * x, lambda x: np.arange(4.0) * x, ((3, 4),)),
    Case("mul", cnp.multiply, np.multiply, ((3,), (3,))),
    Case("div", lambda a, b: a / b, lambda a, b: a / b, ((3, 4), (4,))),
    Case("div", lambda x: 1.0 / x, lambda x: 1.0 / x, ((3,),)),
    Case("div", cnp.divide, np.divide, ((3,), ())),
    Case("maximum", cnp.maximum, np.maximum, ((3, 4), (4,))),
    Case("minimum", cnp.minimum, np.minimum, ((3, 4), (3, 4))),
    Case("maximum", lambda x: cnp.maximum(x, 1.0), lambda x: np.maximum(x, 1.0), ((5,),)),
    Case("sum", cnp.sum, np.sum, ((3, 4),)),
    Case("sum", lambda x: cnp.sum(x, axis=1, keepdims=True), lambda x: np.sum(x, axis=1, keepdims=True), ((3, 4),)),
    Case("sum", lambda x: x.sum(axis=(0, 2)), lambda x: x.sum(axis=(0, 2)), ((2, 3, 4),)),
    Case("mean", lambda x: cnp.mean(x, axis=0), lambda x: np.mean(x, axis=0), ((3, 4),)),
    Case("mean", lambda x: x.mean(), lambda x: x.mean(), ((3, 4),)),
    Case("max", lambda x: cnp.max(x, axis=-1), lambda x: np.max(x, axis=-1), ((3, 4),)),
    Case("max", lambda x: x.max(), lambda x: x.max(), ((3, 4),)),
    Case("logsumexp", lambda x: cnp.logsumexp(x, axis=1), lambda x: np.log(np.sum(np.exp(x), axis=1)), ((3, 4),)),
    Case("logsumexp", cnp.logsumexp, lambda x: np.log(np.sum(np.exp(x))), ((5,),)),
    Case("matmul", lambda a, b: a @ b, lambda a, b: a @ b, ((3, 4), (4, 2))),
    Case("matmul", cnp.matmul, np.matmul, ((2, 3, 4), (4,))),
    Case("matmul", cnp.dot, np.dot, ((4,), (4, 3))),
    Case("matmul", lambda x: np.ones((2, 3)) @ x, lambda x: np.ones((2, 3)) @ x, ((3, 4),)),
    Case("mul", cnp.dot, np.dot, ((3,), ())),
    Case("reshape", lambda x: x.reshape(2, 6), lambda x: x.reshape(2, 6), ((3, 4),)),
    Case("reshape", lambda x: cnp.reshape(x, (-1,)), lambda x: np.reshape(x, (-1,)), ((3, 4),)),
    Case("transpose", lambda x: x.T, lambda x: x.T, ((3, 4),)),
    Case("transpose", lambda x: cnp.transpose(x, (1, 0, 2)), lambda x: np.transpose(x, (1, 0, 2)), ((2, 3, 4),)),
    Case("broadcast_to", lambda x: cnp.broadcast_to(x, (2, 3, 4)), lambda x: np.broadcast_to(x, (2, 3, 4)), ((4,),)),
    Case("index", lambda x: x[1:, ::2], lambda x: x[1:, ::2], ((3, 4),)),
    Case("index", lambda x: x[None, 0], lambda x: x[None, 0], ((3, 4),)),
    Case("index", lambda x: x[..., [0, 2]], lambda x: x[..., [0, 2]], ((2, 3, 4),)),
    Case("index", lambda x: x[-1], lambda x: x[-1], ((3, 4),)),
    Case("concatenate", lambda a, b: cnp.concatenate([a, b], axis=1),
         lambda a, b: np.concatenate([a, b], axis=1), ((3, 4), (3, 2))),
    Case("stack", lambda a, b: cnp.stack([a, b, a], axis=1), lambda a, b: np.stack([a, b, a], axis=1),
         ((3, 4), (3, 4))),
]


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c.prim)
def test_values_match_numpy(case: Case) -> None:
    specs = tuple(ct.Array(s) for s in case.shapes)
    term = ct.compile(case.fn, *specs)
    assert case.prim in prim_names(term)
    x = random_input(specs, np.random.default_rng(RNG_SEED))
    got = ct.evaluate(term, x)
    want = case.ref(*as_args(x, len(specs)))
    assert got.shape == np.shape(want)
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12)
    assert ct.infer(term, type_of(x)) == Array(np.shape(want))


def test_catterms_numpy_computes_on_plain_arrays() -> None:
    x = np.linspace(0.5, 2.0, 6).reshape(2, 3)
    assert np.allclose(cnp.sin(x), np.sin(x))
    assert np.allclose(cnp.sum(x, axis=0), x.sum(axis=0))
    assert np.allclose(cnp.logsumexp(x), np.log(np.exp(x).sum()))
    assert np.allclose(cnp.stack([x]), x[None])
    with pytest.raises(ct.TermTypeError, match="matmul"):
        cnp.matmul(x, x)


# --- gradients against finite differences --------------------------------------------------------------


def _shared_program(x: Any, y: Any) -> Any:
    a = cnp.sin(x * y)  # shared by three uses in two scopes
    b = a * a + x  # shared, depends on a: a second level of bindings
    return cnp.sum(b * cnp.tanh(b) + a) + cnp.mean(cnp.exp(-a) * y)


GRAD_PROGRAMS = [
    ("rosenbrock", examples.rosenbrock(6)),
    ("mlp", examples.mlp_loss(batch=5, width=4, features=3)),
    ("ensemble", examples.ensemble_loss(3, batch=4, width=3, features=2)),
    ("shared", examples.Example(ct.compile(_shared_program, ct.Array((3,)), ct.Array((3,))),
                                (np.array([0.3, -0.5, 1.1]), np.array([0.7, 0.2, -0.4])), None)),
]


@pytest.mark.parametrize("name,example", GRAD_PROGRAMS, ids=[p[0] for p in GRAD_PROGRAMS])
def test_gradients_match_finite_differences(name: str, example: examples.Example) -> None:
    term, x = example.term, example.example_input
    value, grad = ct.value_and_grad(term, x)
    if example.reference is not None:
        assert np.allclose(value, example.reference(x), rtol=1e-12)
    want = finite_difference_grad(lambda p: float(ct.evaluate(term, p)), x)
    for g, w in zip(leaves_of(grad), want):
        assert np.allclose(g, w, rtol=1e-5, atol=1e-6)


# --- sharing -------------------------------------------------------------------------------------------


def test_dag_with_two_to_the_twenty_paths_stays_linear() -> None:
    def doubling(x: Any) -> Any:
        for _ in range(20):
            x = x + x
        return x

    term = ct.compile(doubling, ct.Array(()))
    assert term.size < 100
    assert prim_names(term).count("add") == 20
    assert float(ct.evaluate(term, 1.5)) == 1.5 * 2 ** 20
    assert ct.cost(term, ct.Array(())).work == 20  # twenty additions, not 2^20
    assert float(ct.grad(term, 1.5)) == 2 ** 20


def test_value_used_twice_is_computed_once_per_step() -> None:
    def square_chain(x: Any) -> Any:
        for _ in range(20):
            y = cnp.tanh(x) + 0.5
            x = y * y
        return x

    def reference(x: Any) -> Any:
        for _ in range(20):
            y = np.tanh(x) + 0.5
            x = y * y
        return x

    term = ct.compile(square_chain, ct.Array((2,)))
    assert prim_names(term).count("tanh") == 20 and term.size < 400
    x = np.array([0.3, -0.8])
    assert np.allclose(ct.evaluate(term, x), reference(x))
    _, dx = ct.vjp(term, x, np.ones(2))
    want = finite_difference_grad(lambda p: float(np.sum(reference(p))), x)[0]
    assert np.allclose(dx, want, rtol=1e-5)


RANDOM_OPS: list[Callable[..., Any]] = [
    lambda xp, a: xp.sin(a),
    lambda xp, a: xp.tanh(a) * 1.5,
    lambda xp, a: a[::-1] - 0.25,
    lambda xp, a, b: a + b,
    lambda xp, a, b: a * b,
    lambda xp, a, b: xp.maximum(a, b) - a,
    lambda xp, a, b, c: a + b + c,
    lambda xp, a, b: xp.stack([a, b]).sum(axis=0) * 0.5,
]


def random_program(seed: int) -> Callable[..., Any]:
    """A random straight-line program on three vectors that reuses earlier values often (a DAG)."""
    rng = np.random.default_rng(seed)
    steps = []
    for i in range(int(rng.integers(3, 15))):
        op = int(rng.integers(len(RANDOM_OPS)))
        arity = RANDOM_OPS[op].__code__.co_argcount - 1
        steps.append((op, [int(rng.integers(max(0, i + 3 - 4), i + 3)) for _ in range(arity)]))
    outputs = sorted({int(k) for k in rng.integers(0, len(steps) + 3, size=int(rng.integers(1, 4)))})

    def program(xp: Any, x: Any, y: Any, z: Any) -> Any:
        values = [x, y, z]
        for op, args in steps:
            values.append(RANDOM_OPS[op](xp, *(values[a] for a in args)))
        picked = tuple(values[k] for k in outputs)
        return picked[0] if len(picked) == 1 else picked

    return program


def test_random_dags_evaluate_and_differentiate_like_numpy() -> None:
    rng = np.random.default_rng(RNG_SEED)
    spec = ct.Array((3,))
    for seed in range(150):
        program = random_program(seed)
        term = ct.compile(lambda x, y, z: program(cnp, x, y, z), spec, spec, spec)
        x = tuple(rng.uniform(-1, 1, 3) for _ in range(3))
        want = program(np, *x)
        got = ct.evaluate(term, x)
        for g, w in zip(leaves_of(got), leaves_of(want)):
            assert np.allclose(g, w, rtol=1e-12, atol=1e-12), (seed, ct.pretty(term))
        if seed % 10 == 0:  # reverse mode against finite differences on a tenth of them
            ct_sum = ct.compile(lambda x, y, z: sum(cnp.sum(v) for v in leaves_of(program(cnp, x, y, z))),
                                spec, spec, spec)
            grads = ct.grad(ct_sum, x)
            fd = finite_difference_grad(lambda p: float(sum(np.sum(v) for v in leaves_of(program(np, *p)))), x)
            for g, w in zip(grads, fd):
                assert np.allclose(g, w, rtol=1e-5, atol=1e-6), (seed, ct.pretty(ct_sum))


def test_repeated_subexpression_is_one_node() -> None:
    term = examples.rosenbrock(5).term
    slices = [t for t in walk(term) if t.op == "prim" and t.data[0] == "index"]
    assert sorted(ct.pretty(t) for t in slices) == ["index[1:]", "index[:-1]"]


def test_shared_value_is_bound_where_its_uses_meet() -> None:
    # Private to the first output: bound inside it, not at the top.
    assert ct.pretty(ct.compile(lambda x: (cnp.sin(x) * cnp.sin(x), cnp.cos(x)), ct.Array(()))) == \
        "mul ∘ (id △ id) ∘ sin △ cos"
    # Needed together with the input: body ∘ (id △ shared).
    assert ct.pretty(ct.compile(lambda x: cnp.sin(x) * x + cnp.sin(x), ct.Array(()))) == \
        "add ∘ (mul ∘ (exr △ exl) △ exr) ∘ (id △ sin)"
    # Two independent shared values at one point: one fork binds both.
    assert ct.pretty(ct.compile(lambda x: (cnp.sin(x) * cnp.cos(x), cnp.sin(x) + cnp.cos(x)), ct.Array(()))) == \
        "(mul △ add) ∘ (sin △ cos)"


def test_inputs_are_projections_and_tuples_rebuild_to_id() -> None:
    spec = ct.Array((2, 2))
    assert ct.pretty(ct.compile(lambda a, b: a @ b, spec, spec)) == "matmul"
    assert ct.pretty(ct.compile(lambda a, b, c: (a, b, c), spec, spec, spec)) == "id"
    assert ct.pretty(ct.compile(lambda a, b, c: c, spec, spec, spec)) == "ex[2/3]"
    assert ct.pretty(ct.compile(lambda a, b: (b, a), spec, spec)) == "exr △ exl"
    assert ct.pretty(ct.compile(lambda p, q: p[1] * q, (spec, spec), spec)) == "mul ∘ (exr ∘ exl △ exr)"


# --- independent sums: K-way forks ---------------------------------------------------------------------


def _prims_by_identity(term: Term) -> set[int]:
    return {id(t) for t in term.nodes() if t.op == "prim"}


def _members_read(branch: Term, k: int) -> set[int]:
    """Which members' parameters a branch reads: the first projection out of the K-tuple input."""
    return {t.data[0] for t in branch.nodes() if t.op == "proj" and t.data[1] == k}


def _assert_k_way_fork(term: Term, k: int) -> tuple[Term, ...]:
    assert term.op == "compose" and len(term.args) == 2
    branches, jam = term.args
    assert jam.op == "jam" and jam.data == (k,)
    assert branches.op == "fork" and len(branches.args) == k
    for i, branch in enumerate(branches.args):
        assert _members_read(branch, k) == {i}
    prims = [_prims_by_identity(b) for b in branches.args]
    for i in range(k):
        for j in range(i + 1, k):
            assert not prims[i] & prims[j], f"branches {i} and {j} share a computation"
    return branches.args


def test_sum_of_independent_losses_is_a_k_way_fork() -> None:
    example = examples.ensemble_loss(8, batch=6, width=4, features=3)
    branches = _assert_k_way_fork(example.term, 8)
    for branch in branches:  # each member's residual is used twice and shared inside its own branch
        assert "mul ∘ (id △ id)" in ct.pretty(branch)
    cost = ct.cost(example.term, type_of(example.example_input))
    assert cost.work / cost.span > 7.5  # the final sum is the only serial part
    assert np.allclose(ct.evaluate(example.term, example.example_input), example.reference(example.example_input))


def test_value_private_to_a_branch_is_bound_inside_it() -> None:
    k, rng = 8, np.random.default_rng(RNG_SEED)
    data = [rng.standard_normal((5, 3)) for _ in range(k)]

    def loss(params: tuple, X: Any, xp: Any) -> Any:
        W1, W2 = params
        h = xp.tanh(X @ W1)  # used by both terms of this member's loss, together with W2
        return xp.mean(h * h) + xp.sum(h @ W2)

    spec = (ct.Array((3, 4)), ct.Array((4,)))
    term = ct.compile(lambda *ps: sum(loss(p, X, cnp) for p, X in zip(ps, data)), *[spec] * k)
    branches = _assert_k_way_fork(term, k)
    for branch in branches:
        assert prim_names(branch).count("tanh") == 1
        assert branch.op == "compose" and branch.args[0].op == "fork"  # the binder that makes h, first
    ps = random_input((spec,) * k, rng)
    assert np.allclose(ct.evaluate(term, ps), sum(loss(p, X, np) for p, X in zip(ps, data)))


def test_sums_flatten_with_broadcasting_and_respect_dtypes() -> None:
    specs = (ct.Array((3, 4)), ct.Array((4,)), ct.Array(()))
    term = ct.compile(lambda a, b, c: a + b + c, *specs)
    assert ct.pretty(term) == "jam[3] ∘ (ex[0/3] △ broadcast_to[shape=(3, 4)] ∘ ex[1/3] △ " \
                              "broadcast_to[shape=(3, 4)] ∘ ex[2/3])"
    x = random_input(specs, np.random.default_rng(RNG_SEED))
    assert np.allclose(ct.evaluate(term, x), x[0] + x[1] + x[2])
    mixed = (ct.Array((3,), "float32"), ct.Array((3,)), ct.Array((3,)))
    term = ct.compile(lambda a, b, c: a + b + c, *mixed)
    x = random_input(mixed, np.random.default_rng(RNG_SEED))
    assert "jam" not in ct.pretty(term)
    assert np.allclose(ct.evaluate(term, x), x[0] + x[1] + x[2])
    assert ct.pretty(ct.compile(lambda xs: sum(xs), (ct.Array(()),) * 3)) == "jam[3]"


# --- constants and dtypes ------------------------------------------------------------------------------


def test_closure_constants_become_const_nodes() -> None:
    W = np.array([1.0, -2.0, 3.0])
    idx = np.array([2, 0, 1])
    term = ct.compile(lambda x: x * W + idx + cnp.exp(W) * 2.0, ct.Array((3,)))
    consts = [t.value for t in term.nodes() if t.op == "const"]
    assert any(np.array_equal(c, W) for c in consts)
    assert any(np.array_equal(c, idx.astype(float)) for c in consts)
    assert any(np.allclose(c, np.exp(W) * 2.0) for c in consts)  # folded: no exp in the term
    assert "exp" not in prim_names(term)
    x = np.array([0.5, 1.5, -1.0])
    assert np.allclose(ct.evaluate(term, x), x * W + idx + np.exp(W) * 2.0)
    assert ct.pretty(ct.compile(lambda x: 2.0, ct.Array(()))) == "const 2.0"


def test_float32_programs_stay_float32() -> None:
    W = np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2)

    def f(x: Any) -> Any:
        return cnp.sum(cnp.tanh(x @ W) ** 2 * 0.5 + 1 - 3 / (x[:, :2] + 4.0)) / 2

    x = np.random.default_rng(RNG_SEED).standard_normal((4, 3)).astype(np.float32)
    for spec in (ct.Array((4, 3), "float32"), x):
        term = ct.compile(f, spec)
        assert ct.infer(term, Array((4, 3), "float32")) == Array((), "float32")
        assert all(t.value.dtype == np.float32 for t in term.nodes() if t.op == "const")
        value, grad = ct.value_and_grad(term, x)
        assert value.dtype == np.float32 and grad.dtype == np.float32
        assert np.allclose(value, f(x), rtol=1e-5)


@pytest.mark.parametrize("term", [examples.sqr, examples.magSqr, examples.cosSinProd, examples.rosenbrock(4).term,
                                  examples.ensemble_loss(2, batch=3, width=2, features=2).term],
                         ids=["sqr", "magSqr", "cosSinProd", "rosenbrock", "ensemble"])
def test_compiled_terms_survive_the_wire(term: Term) -> None:
    assert ct.loads(ct.dumps(term)) == term


def test_output_structures() -> None:
    term = ct.compile(lambda x, y: ((x, y * 2.0), x + y), ct.Array(()), ct.Array(()))
    (a, b), c = ct.evaluate(term, (1.0, 3.0))
    assert (float(a), float(b), float(c)) == (1.0, 6.0, 4.0)
    assert ct.pretty(ct.compile(lambda x: (x, x), ct.Array(()))) == "id △ id"
    assert ct.pretty(ct.compile(lambda x: (cnp.sin(x), cnp.sin(x) * 2.0), ct.Array(()))) == "(id △ scale 2.0) ∘ sin"


def test_static_facts_are_available_while_tracing() -> None:
    def f(x: Any) -> Any:
        assert (x.shape, x.ndim, x.size, x.dtype, len(x)) == ((3, 2), 2, 6, np.float32, 3)
        assert (np.shape(x), np.ndim(x)) == ((3, 2), 2)
        return cnp.stack([row * i for i, row in enumerate(x)])  # iteration unrolls over the static length

    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert np.array_equal(ct.evaluate(ct.compile(f, x), x), x * np.arange(3, dtype=np.float32)[:, None])


# --- what cannot be traced -----------------------------------------------------------------------------


SCALAR, VECTOR = ct.Array(()), ct.Array((3,))

TRACE_ERRORS = [
    ("if", lambda x: x if x > 0 else -x, SCALAR, "data-dependent"),
    ("while", lambda x: x if bool(x) else x, SCALAR, "data-dependent"),
    ("and", lambda x: x and x, SCALAR, "data-dependent"),
    ("if equal", lambda x: x if x == 0 else -x, SCALAR, "cnp.where"),
    ("builtin max", lambda x: max(x, 0.0), SCALAR, "cnp.maximum"),
    ("float", lambda x: float(x), SCALAR, "no value at compile time"),
    ("int", lambda x: int(x), SCALAR, "no value at compile time"),
    ("len of 0-d", lambda x: len(x), SCALAR, "0-d"),
    ("iterate 0-d", lambda x: list(x), SCALAR, "0-d"),
    ("range", lambda x: [x for _ in range(x)], SCALAR, "loop bounds must be static"),
    ("traced index", lambda x: x[x], VECTOR, "static"),
    ("traced slice", lambda x: x[: x[0]], VECTOR, "static"),
    ("assignment", lambda x: x.__setitem__(0, 1.0), VECTOR, "immutable"),
    ("np.fft.fft", lambda x: np.fft.fft(x), VECTOR, "numpy.fft.fft is not supported"),
    ("np.unique", lambda x: np.unique(x), VECTOR, "numpy.unique is not supported"),
    ("np.sin(out=)", lambda x: np.sin(x, out=np.zeros(3)), VECTOR, "immutable"),
    ("np.sum(where=)", lambda x: np.sum(x, where=x > 0), VECTOR, "numpy.sum on traced arrays takes"),
    ("np.add.outer", lambda x: np.add.outer(x, x), VECTOR, "numpy.add.outer is not supported"),
    ("x.sort()", lambda x: x.sort(), VECTOR, "cnp.sort"),
    ("x.nonzero()", lambda x: x.nonzero(), VECTOR, "cnp.where"),
    ("x.frobnicate", lambda x: x.frobnicate, VECTOR, "no attribute 'frobnicate'"),
    ("bitwise on floats", lambda x: x & x, VECTOR, "boolean arrays only"),
    ("np.asarray", lambda x: np.asarray(x), VECTOR, "catterms.numpy"),
    ("returns list", lambda x: [x, x], VECTOR, "tuple"),
    ("returns None", lambda x: None, VECTOR, "None"),
    ("returns 1-tuple", lambda x: (x,), VECTOR, "at least two"),
]


@pytest.mark.parametrize("fn,spec,message", [e[1:] for e in TRACE_ERRORS], ids=[e[0] for e in TRACE_ERRORS])
def test_untraceable_code_raises_trace_error(fn: Callable[..., Any], spec: Array, message: str) -> None:
    with pytest.raises(ct.TraceError, match=message):
        ct.compile(fn, spec)


def test_tracers_do_not_cross_compiles() -> None:
    with pytest.raises(ct.TraceError, match="enclosing ct.compile"):
        ct.compile(lambda x: ct.compile(lambda y: y + x, SCALAR), SCALAR)
    with pytest.raises(ct.TraceError, match="enclosing ct.compile"):
        ct.compile(lambda x: ct.compile(lambda y: x, SCALAR), SCALAR)
    inner: list[ct.Term] = []  # a function that reads nothing of the enclosing trace compiles inside it
    ct.compile(lambda x: inner.append(ct.compile(lambda y: y * 2, SCALAR)) or x, SCALAR)
    assert inner == [ct.compile(lambda y: y * 2, SCALAR)]
    leaked: list[Any] = []
    ct.compile(lambda x: leaked.append(x) or x, SCALAR)
    with pytest.raises(ct.TraceError, match="escaped"):
        cnp.sin(leaked[0])


def test_bad_specs_and_arity() -> None:
    with pytest.raises(ct.TraceError, match="spec"):
        ct.compile(lambda x: x, "f64[3]")
    with pytest.raises(ct.TraceError, match="one spec per argument"):
        ct.compile(lambda x: x)
    with pytest.raises(ct.TraceError, match="2 argument"):
        ct.compile(lambda x: x, SCALAR, SCALAR)
    with pytest.raises(ct.TermTypeError, match="dtype"):
        ct.compile(lambda x: x, ct.Array((2,), "complex128"))


SHAPE_ERRORS = [
    ("add", lambda a, b: a + b, ((3,), (4,))),
    ("matmul", lambda a, b: a @ b, ((3, 4), (3, 4))),
    ("reshape", lambda a, b: a.reshape(5), ((3,), (4,))),
    ("index", lambda a, b: a[3], ((3,), (4,))),
    ("concatenate", lambda a, b: cnp.concatenate([a, b[None]]), ((3,), (4,))),
    ("sum", lambda a, b: cnp.sum(a, axis=2), ((3,), (4,))),
    ("broadcast_to", lambda a, b: cnp.broadcast_to(a, (4,)), ((3,), (4,))),
]


@pytest.mark.parametrize("op,fn,shapes", SHAPE_ERRORS, ids=[e[0] for e in SHAPE_ERRORS])
def test_shape_errors_surface_at_compile_time(op: str, fn: Callable[..., Any], shapes: tuple) -> None:
    with pytest.raises(ct.TermTypeError, match=op):
        ct.compile(fn, *(ct.Array(s) for s in shapes))


# --- scale ---------------------------------------------------------------------------------------------


def test_ten_thousand_sequential_operations() -> None:
    steps = 10_000

    def program(x: Any, y: Any, xp: Any) -> Any:
        for i in range(steps // 4):
            x = xp.tanh(x) * 0.9
            x = x * y + x * 0.5  # x shared by two uses
        return x

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # compiling must not recurse on the program, whatever earlier tests raised it to
    try:
        term = ct.compile(lambda x, y: program(x, y, cnp), ct.Array((2,)), ct.Array((2,)))
    finally:
        sys.setrecursionlimit(max(limit, sys.getrecursionlimit()))
    assert term.depth > 1000
    assert prim_names(term).count("tanh") == steps // 4
    x, y = np.array([0.4, -0.3]), np.array([0.6, 0.5])
    assert np.allclose(ct.evaluate(term, (x, y)), program(x, y, np))


def test_a_complex_square_root_is_refused_when_it_runs() -> None:
    import catterms.scipy.linalg as csl

    a = np.diag([-1.0, 1.0])
    with pytest.raises(ct.EvaluationError, match="negative real eigenvalue"):
        ct.evaluate(ct.compile(csl.sqrtm, a), a)


def test_catterms_numpy_folds_constants_of_every_arity() -> None:
    assert cnp.convolve(np.ones(2), np.ones(2)).tolist() == [1.0, 2.0, 1.0]
    assert cnp.maximum(np.array([1.0]), np.array([2.0])).tolist() == [2.0]
    assert cnp.where(np.array([True, False]), 1.0, 2.0).tolist() == [1.0, 2.0]
