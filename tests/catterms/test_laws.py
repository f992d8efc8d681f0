"""Laws, on random well-typed terms: category laws, functoriality of every interpreter, the Dual laws.

Composition is built with raw ``compose`` nodes here (the builder flattens and drops identities, which
would make the laws hold by construction rather than by meaning).
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import catterms as ct
from catterms.ad import FORWARD, REVERSE
from catterms.category import Category, interpret, on_demand
from catterms.cost import serial
from catterms.typecheck import cost
from catterms.evaluate import EVAL
from catterms.linear import ADDITIVE, DUAL
from catterms.pretty import pretty
from catterms.terms import Term
from catterms.types import leaves, type_of
from catterms.vectors import materialize

from strategies import term_and_input, terms_on

LAWS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def raw(*fs: Term) -> Term:
    """``fₙ ∘ … ∘ f₁`` as one unflattened node (``fs`` in application order)."""
    return Term("compose", (), fs)


def close(a: Any, b: Any, dtype: Any = np.float64) -> bool:
    if isinstance(a, tuple):
        return len(a) == len(b) and all(close(x, y, dtype) for x, y in zip(a, b))
    tol = 1e-4 if np.dtype(getattr(np.asarray(a), "dtype", dtype)) == np.float32 else 1e-9
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=tol, atol=tol, equal_nan=True)


def random_like(value: Any, rng: np.random.Generator) -> Any:
    if isinstance(value, tuple):
        return tuple(random_like(v, rng) for v in value)
    return rng.standard_normal(np.shape(value)).astype(np.asarray(value).dtype)


def inner(a: Any, b: Any) -> float:
    if isinstance(a, tuple):
        return sum(inner(x, y) for x, y in zip(a, b))
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


@st.composite
def composable(draw: Any) -> tuple[Term, Term, Term, Any]:
    """Three composable terms ``f``, ``g``, ``h`` and an input of ``f``'s domain."""
    f, x = draw(term_and_input(fuel=6))
    b = ct.infer(f, type_of(x))
    g = draw(terms_on(b, fuel=6))
    h = draw(terms_on(ct.infer(g, b), fuel=6))
    return f, g, h, x


@LAWS
@given(term_and_input())
def test_identity_laws(case: tuple[Term, Any]) -> None:
    f, x = case
    y = ct.evaluate(f, x)
    assert close(ct.evaluate(raw(ct.identity, f), x), y)
    assert close(ct.evaluate(raw(f, ct.identity), x), y)


@LAWS
@given(composable())
def test_associativity(case: tuple[Term, Term, Term, Any]) -> None:
    f, g, h, x = case
    assert close(ct.evaluate(raw(raw(f, g), h), x), ct.evaluate(raw(f, raw(g, h)), x))


@LAWS
@given(composable())
def test_every_interpreter_is_a_functor(case: tuple[Term, Term, Term, Any]) -> None:
    """⟦g ∘ f⟧ = ⟦g⟧ ∘ ⟦f⟧ for evaluation, types, cost, rendering, forward and reverse mode."""
    f, g, _, x = case
    gf = raw(f, g)
    dom = type_of(x)
    fx = ct.evaluate(f, x)
    assert close(ct.evaluate(gf, x), ct.evaluate(g, fx))
    assert ct.infer(gf, dom) == ct.infer(g, ct.infer(f, dom))
    assert cost(gf, dom) == serial(cost(f, dom), cost(g, type_of(fx)))
    rendered = {pretty(gf)}
    assert rendered <= {f"{pretty(g)} ∘ {pretty(f)}", f"({pretty(g)}) ∘ {pretty(f)}", f"{pretty(g)} ∘ ({pretty(f)})",
                        f"({pretty(g)}) ∘ ({pretty(f)})"}

    rng = np.random.default_rng(0)
    t = random_like(x, rng)
    _, ft = ct.jvp(f, x, t)
    assert close(ct.jvp(gf, x, t)[1], ct.jvp(g, fx, ft)[1])
    c = random_like(ct.evaluate(gf, x), rng)
    _, gc = ct.vjp(g, fx, c)
    assert close(ct.vjp(gf, x, c)[1], ct.vjp(f, x, gc)[1])


@LAWS
@given(term_and_input())
def test_adjoint_identity(case: tuple[Term, Any]) -> None:
    """Reverse mode is the transpose of forward mode: ⟨J·t, c⟩ = ⟨t, Jᵀ·c⟩."""
    f, x = case
    rng = np.random.default_rng(1)
    t = random_like(x, rng)
    y, jt = ct.jvp(f, x, t)
    c = random_like(y, rng)
    _, jtc = ct.vjp(f, x, c)
    lhs, rhs = inner(jt, c), inner(t, jtc)
    f32 = any(a.dtype == "float32" for a in leaves(type_of(x)) + leaves(type_of(y)))
    assert np.isclose(lhs, rhs, rtol=1e-3 if f32 else 1e-9, atol=1e-3 if f32 else 1e-9)


@LAWS
@given(term_and_input(fuel=8))
def test_jvp_matches_finite_differences(case: tuple[Term, Any]) -> None:
    f, x = case
    # finite differences in float32 are too coarse to test anything; float32 is covered by the adjoint laws
    assume(all(a.dtype == "float64" for a in leaves(type_of(x)) + leaves(ct.infer(f, type_of(x)))))
    rng = np.random.default_rng(2)
    t = random_like(x, rng)
    h = 1e-6
    plus, minus = ct.evaluate(f, _axpy(x, t, h)), ct.evaluate(f, _axpy(x, t, -h))
    fd = _flat(_axpy(plus, minus, -1.0)) / (2 * h)
    jt = _flat(ct.jvp(f, x, t)[1])
    tol = 1e-5
    # max is not differentiable at ties, which broadcasting makes common: finite differences straddle them
    if not any(n.op == "prim" and n.data[0] == "max" for n in f.nodes()):
        assert np.allclose(jt, fd, rtol=tol, atol=tol)


def _axpy(x: Any, t: Any, h: float) -> Any:
    return tuple(_axpy(a, b, h) for a, b in zip(x, t)) if isinstance(x, tuple) else np.asarray(x) + h * np.asarray(t)


def _flat(v: Any) -> np.ndarray:
    return np.concatenate([_flat(c) for c in v]) if isinstance(v, tuple) else np.asarray(v, float).ravel()


@LAWS
@given(term_and_input(fuel=8))
def test_forward_and_reverse_jacobians_agree(case: tuple[Term, Any]) -> None:
    f, x = case
    f32 = any(a.dtype == "float32" for a in leaves(type_of(x)) + leaves(ct.infer(f, type_of(x))))
    fwd, rev = _flat(ct.jacobian(f, x, "fwd")), _flat(ct.jacobian(f, x, "rev"))
    assert np.allclose(fwd, rev, rtol=1e-4 if f32 else 1e-10, atol=1e-4 if f32 else 1e-12)


@LAWS
@given(term_and_input())
def test_staged_code_equals_direct_interpretation(case: tuple[Term, Any]) -> None:
    """Generated code computes what the interpreters compute when run on arrays directly."""
    f, x = case
    x = ct.types.as_value(x)
    assert close(ct.evaluate(f, x), interpret(f, EVAL)(x))
    rng = np.random.default_rng(3)
    t = random_like(x, rng)
    y, d = interpret(f, FORWARD)(x)
    cod = ct.infer(f, type_of(x))
    assert close(ct.jvp(f, x, t)[1], materialize(d(t), cod))
    c = random_like(y, rng)
    _, d = interpret(f, REVERSE)(x)
    assert close(ct.vjp(f, x, c)[1], materialize(d(c), type_of(x)))


def test_dual_flips_composition_and_swaps_structure() -> None:
    """Dual g ∘ Dual f = Dual (f ∘ g); exl ↔ inl, dup ↔ jam, △ ↔ ▽ (paper §13, Cor. 5.1)."""
    double = ADDITIVE.linear(ct.prims.TABLE["scale"], {"s": 2.0}, (3,))
    neg = ADDITIVE.linear(ct.prims.TABLE["neg"], {}, (3,))
    v = np.arange(3.0)
    assert np.array_equal(DUAL.compose([double, neg])(v), ADDITIVE.compose([neg, double])(v))
    assert DUAL.proj(0, 2)(v)[0] is v and DUAL.proj(0, 2)(v)[1] is ct.vectors.ZERO
    assert np.array_equal(DUAL.dup(2)((v, 2 * v)), 3 * v)
    assert DUAL.jam(2)(v) == (v, v)
    forked = DUAL.fork([double, neg])((v, v))  # a fork's dual is a join: sums the branches
    assert np.array_equal(forked, 2 * v - v)
    joined = DUAL.join([double, neg])(v)  # a join's dual is a fork
    assert np.array_equal(joined[0], 2 * v) and np.array_equal(joined[1], -v)


def test_a_linear_primitive_on_a_tuple_of_zero_tangents_gives_zero() -> None:
    """``(exl △ exl) ∘ inr`` makes a tuple tangent whose parts are all zero without being ``ZERO``
    itself; ``add`` of it is zero, in both modes and in the direct interpretation."""
    term = ct.compose(ct.prim("sin"), ct.prim("add"), ct.fork(ct.exl, ct.exl), ct.inr)
    assert ct.jvp(term, 0.5, 1.0) == (0.0, 0.0)
    assert ct.vjp(term, 0.5, 1.0) == (0.0, 0.0)
    _, lin = interpret(term, FORWARD)(np.asarray(0.5))
    assert materialize(lin(np.asarray(1.0)), ct.Array(())) == 0.0


def test_types_hash_once_and_pickle_without_their_hash() -> None:
    a = ct.Array((3, 4))
    b = pickle.loads(pickle.dumps(a))
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != ct.Array((4, 3)) and a != ct.Array((3, 4), "float32")
    try:
        a.shape = (1,)  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("Array is mutable")


@pytest.mark.parametrize("name", ["op", "data", "args", "value", "depth", "size", "_hash"])
def test_terms_are_immutable(name: str) -> None:
    """A term is a cache key everywhere: changing a node in place would leave its hash, and every cache
    holding it, stale."""
    t = ct.compose(ct.prim("sin"), ct.prim("exp"))
    before = (hash(t), ct.pretty(t))
    with pytest.raises(AttributeError, match="immutable"):
        setattr(t, name, getattr(t, name))
    with pytest.raises(AttributeError, match="immutable"):
        delattr(t, name)
    assert (hash(t), ct.pretty(t)) == before


def test_equal_terms_built_apart_share_one_walk_and_mean_the_same() -> None:
    def build(c: float) -> Term:
        return ct.compose(ct.jamn(3), ct.fork(*(ct.compose(ct.prim("sin"), ct.scale(c + k)) for k in range(3))))

    x = np.linspace(0.0, 1.0, 5)
    first, again, other = build(1.0), build(1.0), build(2.0)
    assert first == again and first is not again
    np.testing.assert_array_equal(ct.evaluate(first, x), ct.evaluate(again, x))
    assert not np.allclose(ct.evaluate(first, x), ct.evaluate(other, x))


def test_on_demand_interprets_only_what_is_asked_for() -> None:
    made: list[str] = []

    class Names(Category[Any]):
        def prim(self, rule: Any, params: dict[str, Any]) -> Any:
            made.append(rule.name)
            return rule.name

        def compose(self, fs: Any) -> Any:
            made.append("compose")
            return fs

        def cross(self, fs: Any) -> Any:
            made.append("cross")
            return fs

    shared = ct.compose(ct.prim("sin"), ct.prim("exp"))
    term = ct.cross(shared, ct.prim("cos"), shared)
    parts = on_demand(term, Names())
    assert made == ["cross"] and len(parts) == 3
    first = parts[0]
    assert made == ["cross", "compose"] and parts[2] is first  # a shared node: interpreted once
    assert list(first) == ["exp", "sin"] and made == ["cross", "compose", "exp", "sin"]


@st.composite
def two_on_one_domain(draw: Any) -> tuple[Term, Term, Any]:
    """Two terms on one domain, and an input of it."""
    f, x = draw(term_and_input(fuel=6))
    return f, draw(terms_on(type_of(x), fuel=6)), x


@LAWS
@given(two_on_one_domain())
def test_fork_and_join_agree_with_their_derived_forms(case: tuple[Term, Term, Any]) -> None:
    """Every interpretation that gives ``fork`` and ``join`` directly (evaluation, types and cost, forward
    and reverse mode, and under them the additive maps and their Dual) agrees with the derived forms the
    Category protocol promises: ``f △ g = (f × g) ∘ dup`` and ``f ▽ f = jam ∘ (f × f)``. (Rendering prints
    △ and ▽ on purpose; the planner's demand has its own test in tests/workers.)"""
    f, g, x = case
    rng = np.random.default_rng(0)
    dom = type_of(x)
    pairs = [(ct.fork(f, g), raw(ct.dup, ct.cross(f, g)), x, dom),
             (ct.join(f, f), raw(ct.cross(f, f), ct.jam), (x, x), (dom, dom))]
    for direct, derived, at, ty in pairs:
        try:
            y = ct.evaluate(direct, at)
        except ct.CattermsError:
            assume(False)
        assert close(ct.evaluate(derived, at), y)
        assert ct.infer(direct, ty) == ct.infer(derived, ty)
        assert cost(direct, ty).work == cost(derived, ty).work
        t, c = random_like(at, rng), random_like(y, rng)
        assert close(ct.jvp(direct, at, t)[1], ct.jvp(derived, at, t)[1])
        assert close(ct.vjp(direct, at, c)[1], ct.vjp(derived, at, c)[1])
