"""Derivatives of derivatives: Hessians, Hessian-vector products, third derivatives, derivatives inside
compiled functions and closures over traced values (no perturbation confusion), and the chain rule for
derivative terms on random terms.

Oracles: central differences of the lower order (the Hessian against differences of the gradient, the
third derivative against differences of the Hessian), the same computation written out by hand, and the
direct API (``ct.jvp``/``ct.vjp``, compiled without a term in between).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catterms as ct
import catterms.numpy as cnp
from catterms.types import type_of

from strategies import term_and_input, terms_on
from test_laws import close, random_like

H = 1e-5


def differences(f: Callable[[np.ndarray], Any], x: np.ndarray) -> np.ndarray:
    """Central differences of an array-valued ``f`` along each basis direction: shape ``f(x).shape + x.shape``."""
    cols = [(np.asarray(f(x + H * e)) - np.asarray(f(x - H * e))) / (2 * H) for e in np.eye(x.size).reshape((-1,) + x.shape)]
    return np.moveaxis(np.array(cols), 0, -1).reshape(np.shape(f(x)) + x.shape)


def f(x: Any) -> Any:
    return cnp.sum(cnp.sin(x) * x ** 2) + cnp.log(cnp.sum(cnp.exp(x)))


X = np.array([0.3, -0.7, 1.1, 0.4])


def test_hessian_and_hvp_against_differences_of_the_gradient() -> None:
    hess = ct.hessian(f, X)
    np.testing.assert_allclose(hess, differences(lambda x: ct.grad(f, x), X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hess, hess.T, atol=1e-12)
    v = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(ct.hvp(f, X, v), hess @ v, rtol=1e-12, atol=1e-12)
    term = ct.compile(f, ct.Array((4,)))
    np.testing.assert_allclose(ct.hessian(term, X), hess, rtol=1e-12)  # a term and its function agree


def test_third_derivative_against_differences_of_the_hessian() -> None:
    third = ct.jacobian(lambda x: ct.hessian(f, x), X, mode="fwd")
    np.testing.assert_allclose(third, differences(lambda x: ct.hessian(f, x), X), rtol=1e-5, atol=1e-7)
    # the same through derivative terms alone: the Jacobian of the gradient term's Jacobian term
    g = ct.grad_term(ct.compile(f, ct.Array((4,))), ct.Array((4,)))
    hv = ct.jvp_term(g, ct.Array((4,)))
    e = np.eye(4)[2]
    third_e = ct.jacobian(lambda x: ct.evaluate(hv, (x, e))[1], X)
    np.testing.assert_allclose(third_e, third[:, 2, :], rtol=1e-10, atol=1e-12)


def test_derivative_terms_are_terms() -> None:
    term = ct.compile(f, ct.Array((4,)))
    for d, x in ((ct.grad_term(term, ct.Array((4,))), X), (ct.value_and_grad_term(term, X), X),
                 (ct.jvp_term(term, X), (X, X)), (ct.vjp_term(term, X), (X, np.array(2.0)))):
        assert ct.loads(ct.dumps(d)) == d
        assert isinstance(ct.pretty(d), str) and ct.infer(d, type_of(x)) is not None
    np.testing.assert_allclose(ct.evaluate(ct.grad_term(term, X), X), ct.grad(term, X), rtol=1e-13)
    y, g = ct.evaluate(ct.value_and_grad_term(term, X), X)
    y0, g0 = ct.value_and_grad(term, X)
    np.testing.assert_allclose((y, *g), (y0, *g0), rtol=1e-13)
    with pytest.raises(ct.TermTypeError, match="scalar"):
        ct.grad_term(ct.compile(cnp.sin, ct.Array((4,))), X)
    with pytest.raises(TypeError, match="Term"):
        ct.jvp_term(f, X)


def test_grad_inside_a_compiled_function_and_again_from_outside() -> None:
    def penalty(w: Any) -> Any:  # a gradient penalty: the inner objective reads the outer parameters
        g = ct.grad(lambda v: cnp.sum(cnp.tanh(v * w) ** 2), w)
        return cnp.sum(g ** 2) + cnp.sum(w ** 2)

    def written_out(w: np.ndarray) -> float:
        t = np.tanh(w * w)
        g = 2 * t * (1 - t ** 2) * w  # ∂/∂v of Σ tanh(v·w)² at v = w, by hand
        return float(np.sum(g ** 2) + np.sum(w ** 2))

    term = ct.compile(penalty, ct.Array((4,)))
    np.testing.assert_allclose(ct.evaluate(term, X), written_out(X), rtol=1e-13)
    np.testing.assert_allclose(ct.grad(term, X), differences(written_out, X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ct.grad(penalty, X), ct.grad(term, X), rtol=1e-13)


def test_newton_step_inside_a_compiled_function() -> None:
    def newton(x: Any) -> Any:
        return x - cnp.linalg.solve(ct.hessian(f, x), ct.grad(f, x))

    step = ct.compile(newton, ct.Array((4,)))
    expected = X - np.linalg.solve(ct.hessian(f, X), ct.grad(f, X))
    np.testing.assert_allclose(ct.evaluate(step, X), expected, rtol=1e-12)
    np.testing.assert_allclose(ct.jacobian(step, X), differences(lambda x: ct.evaluate(step, x), X), rtol=1e-5,
                               atol=1e-7)


def test_no_perturbation_confusion_at_any_depth() -> None:
    # Siskind & Pearlmutter's example: d/dx [x · d/dy (x + y)] = 1, not 2
    assert ct.grad(lambda x: x * ct.grad(lambda y: x + y, x), 1.0) == pytest.approx(1.0)
    # d/dx d/dy (x·y) = 1 at any point
    assert ct.grad(lambda x: ct.grad(lambda y: x * y, x), 3.0) == pytest.approx(1.0)

    # three levels, each closing over every enclosing one: ∂/∂z (x²y³z⁴) = 4x²y³z³, at z = y that is 4x²y⁶,
    # whose ∂/∂y at y = x is 24x⁷, whose derivative is 168x⁶
    def third(x: Any) -> Any:
        return ct.grad(lambda y: ct.grad(lambda z: x ** 2 * y ** 3 * z ** 4, y), x)

    x = 1.3
    np.testing.assert_allclose(ct.evaluate(third, x), 24 * x ** 7, rtol=1e-13)
    np.testing.assert_allclose(ct.grad(third, x), 168 * x ** 6, rtol=1e-13)


def test_traced_calls_take_tangents_and_tuples() -> None:
    def fn(p: Any) -> Any:
        a, b = p
        return cnp.sum(a * b) + cnp.sum(cnp.sin(a))

    p = (np.array([0.2, 0.5]), np.array([1.5, -0.5]))

    def outer(a: Any, b: Any) -> Any:
        y, (da, db) = ct.vjp(fn, (a, b), 2.0)
        _, t = ct.jvp(fn, (a, b), (np.ones(2), np.zeros(2)))
        return cnp.sum(da) + cnp.sum(db) + t + ct.evaluate(fn, (a, b))

    term = ct.compile(outer, *p)
    a, b = p
    expected = 2 * np.sum(b + np.cos(a)) + 2 * np.sum(a) + np.sum(b + np.cos(a)) + np.sum(a * b) + np.sum(np.sin(a))
    np.testing.assert_allclose(ct.evaluate(term, p), expected, rtol=1e-13)
    assert ct.grad(lambda a, b: cnp.sum(a * b), p)[1] == pytest.approx(a)  # a function of two takes (a, b)
    with pytest.raises(ct.TermTypeError, match="shape"):
        ct.compile(lambda a: ct.jvp(cnp.sin, a, np.ones(3))[1], ct.Array((2,)))
    with pytest.raises(ct.TermTypeError, match="scalar"):
        ct.compile(lambda a: ct.grad(cnp.sin, a), ct.Array((2,)))
    with pytest.raises(TypeError, match="Term or a function"):
        ct.grad(3.0, a)


LAWS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def composable(draw: Any) -> tuple[ct.Term, ct.Term, Any]:
    f, x = draw(term_and_input(fuel=5))
    g = draw(terms_on(ct.infer(f, type_of(x)), fuel=5))
    return f, g, x


@LAWS
@given(composable())
def test_chain_rule_for_derivative_terms(case: tuple[ct.Term, ct.Term, Any]) -> None:
    """``jvp_term(g ∘ f)`` and ``vjp_term(g ∘ f)`` equal the composition of the parts' derivative terms."""
    f, g, x = case
    gf = ct.compose(g, f)
    dom = type_of(x)
    fx = ct.evaluate(f, x)
    rng = np.random.default_rng(0)
    dx = random_like(x, rng)
    _, fdx = ct.evaluate(ct.jvp_term(f, dom), (x, dx))
    y, dy = ct.evaluate(ct.jvp_term(g, type_of(fx)), (fx, fdx))
    y2, dy2 = ct.evaluate(ct.jvp_term(gf, dom), (x, dx))
    assert close(y2, y) and close(dy2, dy)
    c = random_like(y, rng)
    _, gc = ct.evaluate(ct.vjp_term(g, type_of(fx)), (fx, c))
    _, fc = ct.evaluate(ct.vjp_term(f, dom), (x, gc))
    _, fc2 = ct.evaluate(ct.vjp_term(gf, dom), (x, c))
    assert close(fc2, fc)
    assert close(ct.evaluate(ct.vjp_term(gf, dom), (x, c))[1], ct.vjp(gf, x, c)[1])


def test_a_cotangent_summed_from_parts_of_two_dtypes_is_well_typed() -> None:
    """Found by ``test_chain_rule_for_derivative_terms``: on ``(f64, f32)`` the reverse pass of ``f`` sums the
    f32 input's cotangent from two f32 parts and two f64 ones (``x₀ · dy``), out of the order it makes them.
    The front end put that sum in order with its f64 links kept, so one link added the two f32 parts while
    still typed f64, and joined the n-ary sum of the f64 parts: a ``jam`` of f32 and f64. A program that
    writes such a sum out of order by hand compiled to the same ill-typed term."""
    x = (np.array(0.5), np.array(0.25, np.float32))
    m = ct.fork(ct.proj(0, 2), ct.proj(1, 2), ct.prim("mul"))
    f = ct.fork(m, ct.proj(0, 2), m)
    c = random_like(ct.evaluate(f, x), np.random.default_rng(0))
    _, fc = ct.evaluate(ct.vjp_term(f, type_of(x)), (x, c))
    assert type_of(fc) == type_of(x) and close(fc, ct.vjp(f, x, c)[1])

    def by_hand(a: Any, b: Any) -> Any:
        s1, s2 = cnp.sin(b), cnp.cos(b)  # f32, made first
        m1, m2 = cnp.sin(cnp.sin(cnp.sin(a))), cnp.cos(cnp.sin(cnp.sin(a)))  # f64, made last
        return ((m1 + s1) + s2) + m2

    a, b = x
    expected = np.sin(np.sin(np.sin(a))) + np.sin(b) + np.cos(b) + np.cos(np.sin(np.sin(a)))
    np.testing.assert_allclose(ct.evaluate(ct.compile(by_hand, a, b), x), expected, rtol=1e-6)
