"""Loops as combinators (catterms/loops.py, catterms/control.py): ``ct.scan`` and ``ct.fori_loop``
against plain Python loops, their derivatives (both modes, derivative terms, second order) against the
unrolled program and finite differences, the wire, costs and errors."""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np
import pytest

import catterms as ct
import catterms.numpy as cnp
from catterms.compiler import program
from catterms.types import type_of

from oracles import central_differences

RNG = np.random.default_rng(11)
W = RNG.standard_normal(4) * 0.5
XS = RNG.standard_normal((9, 4))


def recurrence(w: Any, xs: Any) -> Any:
    """``h = tanh(h·w + x)``, the loss summed over the steps, as a scan."""
    h, ys = ct.scan(lambda h, x: (cnp.tanh(h * w + x), cnp.sum(h ** 2)), cnp.zeros(4), xs)
    return cnp.sum(h) + cnp.sum(ys)


def unrolled(w: Any, xs: Any) -> Any:
    h, tot = cnp.zeros(4), 0.0
    for x in xs:
        tot = tot + cnp.sum(h ** 2)
        h = cnp.tanh(h * w + x)
    return cnp.sum(h) + tot


def _scans(term: ct.Term) -> int:
    return sum(1 for n in term.nodes(bodies=True) if n.op == "prim" and n.data[0] == "scan")


def test_scan_values_match_a_python_loop_with_tuples_lists_and_mixed_dtypes() -> None:
    def body(carry: Any, x: Any) -> Any:
        (h, count), flags = carry
        a, b = x
        h = h * 0.9 + a * b
        return ((h, count + 1), cnp.logical_or(flags, a > 0)), [cnp.sum(h), count * 2]

    init = ((np.zeros(3), np.int64(0)), np.zeros(3, bool))
    xs = (RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3)))
    (h, count), flags = init
    want = []
    for a, b in zip(*xs):
        h = h * 0.9 + a * b
        want.append([np.sum(h), count * 2])
        count, flags = count + 1, flags | (a > 0)
    def compiled(a: Any, b: Any) -> Any:  # a compiled function returns tuples, not lists
        last, ys = ct.scan(body, init, (a, b))
        return last, tuple(ys)

    for run in (lambda: ct.scan(body, init, xs), lambda: ct.evaluate(compiled, xs)):
        ((h2, c2), f2), ys = run()
        np.testing.assert_allclose(h2, h, rtol=1e-13)
        assert int(c2) == 5 and np.array_equal(f2, flags)
        np.testing.assert_allclose(ys[0], [w[0] for w in want], rtol=1e-13)
        np.testing.assert_array_equal(ys[1], [w[1] for w in want])


def test_reverse_scan_and_fori_loop_with_a_traced_index() -> None:
    xs = np.arange(6.0)
    c, ys = ct.scan(lambda c, x: (c * 2 + x, c), 0.0, xs, reverse=True)
    acc, want = 0.0, []
    for x in xs[::-1]:
        want.append(acc)
        acc = acc * 2 + x
    assert c == pytest.approx(acc) and np.allclose(ys, want[::-1])

    def f(a: Any) -> Any:
        return ct.fori_loop(2, 7, lambda i, h: h * a + cnp.take(XS, i, axis=0), cnp.zeros(4))

    h = np.zeros(4)
    for i in range(2, 7):
        h = h * 0.7 + XS[i]
    np.testing.assert_allclose(ct.evaluate(f, 0.7), h, rtol=1e-13)
    np.testing.assert_allclose(ct.jacobian(f, 0.7), central_differences(lambda a: ct.evaluate(f, a), 0.7),
                               rtol=1e-6)
    assert ct.fori_loop(0, 4, lambda i, s: s + i, 0) == 6 and ct.fori_loop(3, 1, lambda i, s: s + i, 5) == 5


def test_the_loop_is_one_node_whatever_the_step_count() -> None:
    small = ct.compile(recurrence, W, XS)
    large = ct.compile(recurrence, W, np.zeros((5000, 4)))
    assert small.size == large.size and _scans(small) == 1
    grad = ct.grad_term(small, type_of((W, XS)))
    assert _scans(grad) >= 2  # the derivative of a loop is a loop: the forward pass and the reverse one
    assert grad.size < 3 * small.size + 60


def test_gradients_match_the_unrolled_program_and_finite_differences() -> None:
    x = (W, XS)
    g, gu = ct.grad(recurrence, x), ct.grad(unrolled, x)
    for a, b in zip(g, gu):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(g[0], central_differences(lambda w: ct.evaluate(recurrence, (w, XS)), W), rtol=1e-6)
    v = (RNG.standard_normal(4), RNG.standard_normal(XS.shape))
    np.testing.assert_allclose(ct.jvp(recurrence, x, v)[1], ct.jvp(unrolled, x, v)[1], rtol=1e-12)
    gt = ct.grad_term(ct.compile(recurrence, W, XS), type_of(x))
    for a, b in zip(ct.evaluate(gt, x), gu):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_second_order_through_a_loop() -> None:
    def f(w: Any) -> Any:
        return recurrence(w, XS)

    def g(w: Any) -> Any:
        return unrolled(w, XS)

    np.testing.assert_allclose(ct.hessian(f, W), ct.hessian(g, W), rtol=1e-10, atol=1e-12)
    v = RNG.standard_normal(4)
    np.testing.assert_allclose(ct.hvp(f, W, v), ct.hessian(g, W) @ v, rtol=1e-10, atol=1e-12)


def test_the_loop_back_of_a_gradient_reads_no_zero_cotangent_of_the_saved_carries() -> None:
    # the carries a loop saves for its derivative get a zero cotangent unless a second derivative reads them
    # (above): the loop back then runs without one, not adding a row of a zero array at every step
    source = program(ct.compile(recurrence, W, XS), type_of((W, XS)), "grad").__catterms_source__  # type: ignore[attr-defined]
    assert "zeros" not in source and "save=False, point=" in source


def test_nested_loops_and_a_body_closing_over_the_outer_values() -> None:
    def f(w: Any, xs: Any) -> Any:
        def outer(h: Any, x: Any) -> Any:
            inner, _ = ct.scan(lambda g, k: (cnp.sin(g * w + k * x), None), h, cnp.arange(3.0))
            return inner, cnp.sum(inner * w)

        h, ys = ct.scan(outer, cnp.zeros(4) + 0.1, xs)
        return cnp.sum(ys) + cnp.sum(h ** 2)

    def g(w: Any, xs: Any) -> Any:
        h, tot = np.zeros(4) + 0.1, 0.0
        for x in xs:
            for k in range(3):
                h = cnp.sin(h * w + k * x)
            tot = tot + cnp.sum(h * w)
        return tot + cnp.sum(h ** 2)

    x = (W, XS[:4])
    np.testing.assert_allclose(ct.evaluate(f, x), ct.evaluate(g, x), rtol=1e-13)
    for a, b in zip(ct.grad(f, x), ct.grad(g, x)):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)
    # a gradient inside the loop's body, of a function reading the body's carry
    def newton(w: Any) -> Any:
        h, _ = ct.scan(lambda h, x: (h - 0.1 * ct.grad(lambda v: cnp.sum((v - x) ** 2 * w), h), None),
                       cnp.zeros(4), XS[:3])
        return cnp.sum(h)

    def newton_by_hand(w: np.ndarray) -> float:
        h = np.zeros(4)
        for x in XS[:3]:
            h = h - 0.1 * 2 * (h - x) * w
        return float(np.sum(h))

    assert ct.evaluate(newton, W) == pytest.approx(newton_by_hand(W), rel=1e-13)
    np.testing.assert_allclose(ct.grad(newton, W), central_differences(newton_by_hand, W), rtol=1e-6)


def test_loops_travel_on_the_wire_and_version_1_still_decodes() -> None:
    term = ct.compile(recurrence, W, XS)
    grad = ct.grad_term(term, type_of((W, XS)))
    for t in (term, grad):
        back = ct.loads(ct.dumps(t))
        assert back == t
        got, want = ct.evaluate(back, (W, XS)), ct.evaluate(t, (W, XS))
        for a, b in zip(got, want) if isinstance(want, tuple) else [(got, want)]:
            np.testing.assert_array_equal(a, b)
    old = msgpack.unpackb(ct.dumps(ct.compile(lambda x: cnp.sin(x) * 2, ct.Array((3,)))), raw=False)
    old["version"] = 1
    assert ct.loads(msgpack.packb(old, use_bin_type=True)) == ct.compile(lambda x: cnp.sin(x) * 2, ct.Array((3,)))
    looped = msgpack.unpackb(ct.dumps(term), raw=False)
    looped["version"] = 1  # version 1 has no term parameters
    with pytest.raises(ct.WireFormatError, match="prim scan"):
        ct.loads(msgpack.packb(looped, use_bin_type=True))
    looped["version"] = 2
    scan = next(n for n in looped["nodes"] if n[0] == "prim" and n[2] == "scan")
    scan[3]["body"] = {"term": len(looped["nodes"]) + 5}
    with pytest.raises(ct.WireFormatError, match="earlier node"):
        ct.loads(msgpack.packb(looped, use_bin_type=True))


def test_a_loop_costs_its_steps_times_its_body() -> None:
    few, many = (ct.cost(ct.compile(recurrence, W, np.zeros((n, 4))), type_of((W, np.zeros((n, 4)))))
                 for n in (10, 10_000))
    assert many.work / few.work == pytest.approx(1000, rel=0.01)
    assert many.calls > 1000 * 3


def test_bad_bodies_and_lengths_get_clear_errors() -> None:
    with pytest.raises(ct.TermTypeError, match=r"return the carry as it takes it, f64\[4\], but returns f64\[\]"):
        ct.scan(lambda h, x: (cnp.sum(h), x), np.zeros(4), XS)
    with pytest.raises(ct.TermTypeError, match=r"i64\[\], but returns f64\[\]"):
        ct.fori_loop(0, 3, lambda i, c: c * 0.5, 1)
    with pytest.raises(ct.TermTypeError, match="different leading axes"):
        ct.scan(lambda c, x: (c, None), 0.0, (np.zeros(3), np.zeros(4)))
    with pytest.raises(ct.TermTypeError, match="length"):
        ct.scan(lambda c, x: (c, None), 0.0)
    with pytest.raises(ct.TermTypeError, match="static bounds"):
        ct.compile(lambda n: ct.fori_loop(0, n, lambda i, c: c, 0.0), np.int64(3))
    with pytest.raises(ct.TraceError, match="pair"):
        ct.scan(lambda c, x: c, 0.0, XS)


# --- cond ------------------------------------------------------------------------------------------------


def piecewise(x: Any, w: Any) -> Any:
    return ct.cond(cnp.sum(x) > 0, lambda a: cnp.sin(a) * w, lambda a: a ** 2 + w, x)


@pytest.mark.parametrize("x", [np.array([0.5, 0.3]), np.array([-0.5, -0.3])], ids=["true", "false"])
def test_cond_takes_one_branch_and_differentiates_it(x: np.ndarray) -> None:
    w = np.array([1.5, -2.0])
    want = np.sin(x) * w if x.sum() > 0 else x ** 2 + w
    np.testing.assert_allclose(ct.evaluate(piecewise, (x, w)), want, rtol=1e-14)
    jac = ct.jacobian(piecewise, (x, w))
    np.testing.assert_allclose(jac[0], central_differences(lambda a: ct.evaluate(piecewise, (a, w)), x), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(jac[1], central_differences(lambda b: ct.evaluate(piecewise, (x, b)), w), rtol=1e-6,
                               atol=1e-9)
    term = ct.compile(piecewise, x, w)
    assert ct.loads(ct.dumps(term)) == term
    gt = ct.grad_term(ct.compile(lambda x, w: cnp.sum(piecewise(x, w)), x, w), type_of((x, w)))
    for a, b in zip(ct.evaluate(gt, (x, w)), ct.grad(lambda x, w: cnp.sum(piecewise(x, w)), (x, w))):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_cond_without_operands_closing_over_traced_values_and_inside_a_loop() -> None:
    def f(a: Any) -> Any:
        def body(h: Any, x: Any) -> Any:
            h = ct.cond(x > 0, lambda: h * a, lambda: h + a)  # no operands: both branches read the carry and a
            return h, None

        return ct.scan(body, 1.0, np.array([1.0, -1.0, 2.0, -3.0]))[0]

    def by_hand(a: float) -> float:
        h = 1.0
        for x in (1.0, -1.0, 2.0, -3.0):
            h = h * a if x > 0 else h + a
        return h

    assert ct.evaluate(f, 0.7) == pytest.approx(by_hand(0.7), rel=1e-14)
    assert ct.grad(f, 0.7) == pytest.approx((by_hand(0.7 + 1e-6) - by_hand(0.7 - 1e-6)) / 2e-6, rel=1e-6)
    assert ct.cond(np.bool_(False), lambda: 1.0, lambda: 2.0) == 2.0


def test_cond_errors_name_the_branches_and_the_predicate() -> None:
    with pytest.raises(ct.TermTypeError, match=r"true branch returns f64\[2\] and the false branch f64\[\]"):
        ct.cond(True, lambda a: a * 2, lambda a: cnp.sum(a), np.ones(2))
    with pytest.raises(ct.TermTypeError, match="boolean scalar"):
        ct.cond(np.array([True, False]), lambda a: a, lambda a: a, np.ones(2))
    with pytest.raises(ct.TraceError, match="ct.cond"):  # Python control flow on a traced value says what to write
        ct.compile(lambda x: x if x > 0 else -x, 1.0)


# --- while_loop ---------------------------------------------------------------------------------------------


def newton_sqrt(a: Any, max_steps: int | None = None) -> Any:
    """√a by Newton's iteration, to a data-dependent number of steps, counting them."""
    x, _ = ct.while_loop(lambda c: cnp.abs(c[0] * c[0] - a) > 1e-12,
                         lambda c: ((c[0] + a / c[0]) / 2, c[1] + 1), (a, 0), max_steps=max_steps)
    return x


def test_while_loop_values_and_forward_mode_need_no_bound() -> None:
    for a in (2.0, 9.0, 0.3):
        assert ct.evaluate(newton_sqrt, a) == pytest.approx(np.sqrt(a), rel=1e-12)
        assert ct.jvp(newton_sqrt, a, 1.0)[1] == pytest.approx(0.5 / np.sqrt(a), rel=1e-9)
    steps = ct.while_loop(lambda c: c[0] < 100, lambda c: (c[0] * 2, c[1] + 1), (1, 0))
    assert steps == (128, 7)


def test_while_loop_reverse_mode_and_second_order_with_max_steps() -> None:
    assert ct.grad(lambda a: newton_sqrt(a, 60), 2.0) == pytest.approx(0.5 / np.sqrt(2.0), rel=1e-9)
    assert ct.hessian(lambda a: newton_sqrt(a, 60), 2.0) == pytest.approx(-0.25 * 2.0 ** -1.5, rel=1e-7)

    def particle(v0: Any, g: Any) -> Any:
        """A ball thrown up from height 1 until it lands (GradBench's particle, in one dimension)."""
        def step(s: Any) -> Any:
            y, v = s
            return y + v * 0.01, v - g * 0.01

        y, v = ct.while_loop(lambda s: s[0] > 0.0, step, (1.0, v0), max_steps=10_000)
        return v * v + y

    def by_hand(v0: float, g: float) -> float:
        y, v = 1.0, v0
        while y > 0.0:
            y, v = y + v * 0.01, v - g * 0.01
        return v * v + y

    grad = ct.grad(particle, (0.5, 9.8))
    fd = [(by_hand(0.5 + 1e-6, 9.8) - by_hand(0.5 - 1e-6, 9.8)) / 2e-6,
          (by_hand(0.5, 9.8 + 1e-6) - by_hand(0.5, 9.8 - 1e-6)) / 2e-6]
    np.testing.assert_allclose(grad, fd, rtol=1e-5)
    gt = ct.grad_term(ct.compile(particle, 0.5, 9.8), type_of((0.5, 9.8)))
    np.testing.assert_allclose(ct.evaluate(ct.loads(ct.dumps(gt)), (0.5, 9.8)), grad, rtol=1e-12)


def test_while_loop_errors() -> None:
    with pytest.raises(ct.TermTypeError, match="reverse mode through ct.while_loop needs max_steps"):
        ct.grad(newton_sqrt, 2.0)
    with pytest.raises(ct.EvaluationError, match="ran max_steps=2 steps and its condition still holds"):
        ct.evaluate(lambda a: newton_sqrt(a, 2), 2.0)
    with pytest.raises(ct.TermTypeError, match="boolean scalar"):
        ct.while_loop(lambda c: c, lambda c: c * 0.5, 1.0)
    with pytest.raises(ct.TermTypeError, match=r"carry as it takes it, i64\[\], but returns f64\[\]"):
        ct.while_loop(lambda c: c < 10, lambda c: c * 1.5, 1)
