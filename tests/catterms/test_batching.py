"""Batched tangents (:mod:`catterms.batching`): a Jacobian in one pass, checked against one pass per basis
vector.

Oracles: the Jacobian column by column from ``ct.jvp`` and row by row from ``ct.vjp`` (written here, not
the library's), for every public primitive's cases and for random terms; the batched modes against the
unbatched ones on random (not basis) tangents; the Hessian against finite differences of ``ct.grad``.
The generic per-row fallback must not be what the common primitives take.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import catterms as ct
import catterms.numpy as cnp
from catterms import api, batching
from catterms.compiler import program
from catterms.prims import TABLE
from catterms.types import as_value, leaves, type_of

from prim_cases import CASES
from strategies import term_and_input

PUBLIC = sorted(name for name, rule in TABLE.items() if rule.public)
PARAMS = [(name, i) for name in PUBLIC for i in range(len(CASES.get(name, [])))]

#: The callables whose batched form is the generic loop, on purpose: a Sylvester solve per matrix.
LOOPED_ON_PURPOSE = {"catterms.prims.decomp._sylvester",
                     # a loop's derivative is a loop: a batch of tangents runs it once per row
                     "catterms.control._scan_jvp", "catterms.control._scan_vjp",
                     "catterms.control._cond_jvp", "catterms.control._cond_vjp",
                     "catterms.control._while_jvp", "catterms.control._while_vjp"}


# --- the oracle: one pass per basis vector, dense -----------------------------------------------------------


def _float_leaves(value: Any) -> list[np.ndarray]:
    if isinstance(value, tuple):
        return [a for v in value for a in _float_leaves(v)]
    a = np.asarray(value)
    return [a] if a.dtype.kind == "f" else []


def _flat(value: Any) -> np.ndarray:
    parts = [a.ravel().astype(np.float64) for a in _float_leaves(value)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _unit(like: Any, k: int) -> Any:
    """The k-th basis vector of ``like``'s float parts (``None`` for the others)."""
    def build(v: Any) -> Any:
        nonlocal k
        if isinstance(v, tuple):
            return tuple(build(c) for c in v)
        a = np.asarray(v)
        if a.dtype.kind != "f":
            return None
        e = np.zeros(a.shape, a.dtype)
        if 0 <= k < a.size:
            e.flat[k] = 1
        k -= a.size
        return e

    return build(like)


def loop_jacobian(f: Any, x: Any, mode: str) -> np.ndarray:
    """The dense Jacobian (float outputs × float inputs), one ``ct.jvp`` per input element (``fwd``) or
    one ``ct.vjp`` per output element (``rev``)."""
    y = ct.evaluate(f, x)
    n_in, n_out = _flat(x).size, _flat(y).size
    if mode == "fwd":
        cols = [_flat(ct.jvp(f, x, _unit(x, k))[1]) for k in range(n_in)]
        return np.stack(cols, axis=1) if cols else np.zeros((n_out, 0))
    rows = [_flat(ct.vjp(f, x, _unit(y, k))[1]) for k in range(n_out)]
    return np.stack(rows) if rows else np.zeros((0, n_in))


def dense(jac: Any, x: Any, y: Any) -> np.ndarray:
    """``ct.jacobian``'s nested blocks as one matrix, checking that exactly the blocks of an integer or
    boolean side are ``None`` and that the others have shape ``out.shape + in.shape``."""
    xs, ys = leaves(type_of(as_value(x))), leaves(type_of(as_value(y)))
    out_blocks = [jac] if len(ys) == 1 and not isinstance(y, tuple) else _nested(jac, y)
    rows = []
    for o, blocks in zip(ys, out_blocks):
        in_blocks = [blocks] if len(xs) == 1 and not isinstance(x, tuple) else _nested(blocks, x)
        row = []
        for i, b in zip(xs, in_blocks):
            if not (o.differentiable and i.differentiable):
                assert b is None
                continue
            assert b.shape == o.shape + i.shape
            row.append(np.asarray(b, np.float64).reshape(o.size, i.size))
        if o.differentiable:
            rows.append(np.concatenate(row, axis=1) if row else np.zeros((o.size, 0)))
    n_in = sum(i.size for i in xs if i.differentiable)
    return np.concatenate(rows) if rows else np.zeros((0, n_in))


def _nested(blocks: Any, like: Any) -> list[Any]:
    """The leaves of ``blocks`` following the tuple structure of ``like``."""
    if isinstance(like, tuple):
        return [b for part, c in zip(blocks, like) for b in _nested(part, c)]
    return [blocks]


def _single(*values: Any) -> bool:
    return any(a.dtype == np.float32 for v in values for a in _float_leaves(v))


def _case(name: str, i: int) -> tuple[ct.Term, Any]:
    params, make, _ = CASES[name][i]
    return ct.prim(name, **params), make(np.random.default_rng(zlib.crc32(f"{name}{i}".encode())))


def _differentiable(name: str, i: int) -> tuple[ct.Term, Any, Any, dict] | None:
    """A primitive's case with its output and the tolerance of its precision, or None when its input or
    output has no float part (no Jacobian to compare)."""
    term, x = _case(name, i)
    y = ct.evaluate(term, x)
    if not (_float_leaves(x) and _float_leaves(y)):
        return None
    return term, x, y, dict(rtol=1e-5, atol=1e-6) if _single(x, y) else dict(rtol=1e-10, atol=1e-12)


def _looped(term: ct.Term, x: Any) -> set[str]:
    dom = type_of(as_value(x))
    out = set()
    for mode in ("jvp_batch", "vjp_batch"):
        try:
            out |= set(program(term, dom, mode).__catterms_looped__)
        except ct.TermTypeError:  # no float part on that side
            pass
    return out


# --- every primitive -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,i", PARAMS)
def test_batched_jacobians_match_one_pass_per_basis_vector(name: str, i: int) -> None:
    case = _differentiable(name, i)
    if case is None:
        return
    term, x, y, tol = case
    fwd, rev = loop_jacobian(term, x, "fwd"), loop_jacobian(term, x, "rev")
    np.testing.assert_allclose(dense(ct.jacobian(term, x, "fwd"), x, y), fwd, **tol)
    np.testing.assert_allclose(dense(ct.jacobian(term, x, "rev"), x, y), rev, **tol)
    assert _looped(term, x) <= LOOPED_ON_PURPOSE


def test_the_common_primitives_have_batched_forms() -> None:
    """Elementwise maps, reductions, matrix products, indexing and the structural maps never loop."""
    rng = np.random.default_rng(0)
    a, m, v = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(4)
    cases = [
        (lambda x: cnp.sum(cnp.sin(x) * cnp.exp(x) / (1 + x ** 2), axis=0), a),
        (lambda x: cnp.tanh(x) - cnp.maximum(x, 0.1) + cnp.sqrt(cnp.abs(x) + 1), a),
        (lambda x: (cnp.mean(x, axis=1), cnp.max(x, axis=0), cnp.prod(x), cnp.logsumexp(x, axis=1)), a),
        (lambda x, w: cnp.tanh(x @ w) @ w.T, (a, m)),
        (lambda x, w: (x @ w[:, 0], w[:, 1] @ w, x[0] @ x[1], cnp.einsum("ij,jk->ik", x, w)), (a, m)),
        (lambda x: (x[1:, ::2], x[:, [0, 2, 2]], x[[0, 2], 1:][None], x[..., 0],
                    x[:, np.array([True, False, True, True])]), a),
        (lambda x, k: (x[k], x[:, k] * 2.0, x[k, 1:]), (a, np.array([2, 0, 2]))),
        (lambda x: (x[[0, 1], :, [1, 2]], x[0, :, [1, 0]]), rng.standard_normal((3, 2, 4))),
        (lambda x: (x.reshape(4, 3), x.T, cnp.broadcast_to(x[0], (2, 4)), cnp.concatenate([x, x * 2]),
                    cnp.stack([x, -x], axis=1), cnp.cumsum(x, axis=1), cnp.pad(x, ((1, 0), (0, 2)))), a),
        (lambda x: cnp.outer(x, x) + x[:, None] * x, v),
        (lambda x: cnp.sort(x) * cnp.cumprod(x), v),
    ]
    for fn, x in cases:
        term = ct.compile(fn, *type_of(x)) if isinstance(x, tuple) else ct.compile(fn, type_of(x))
        assert _looped(term, x) == set(), fn
        y = ct.evaluate(term, x)
        np.testing.assert_allclose(dense(ct.jacobian(term, x, "fwd"), x, y), loop_jacobian(term, x, "fwd"),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dense(ct.jacobian(term, x, "rev"), x, y), loop_jacobian(term, x, "rev"),
                                   rtol=1e-10, atol=1e-12)


MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)),
                 ((3,), (5, 3, 2)), ((5, 2, 3), (3,)), ((4, 1, 2, 3), (1, 3, 3, 1))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matrix_products_of_every_shape(sa: tuple, sb: tuple) -> None:
    """1-d operands, stacks, broadcast stacks on either side: forward (the product by each operand) and
    reverse (its transposes) agree with one pass per basis vector, without the loop."""
    rng = np.random.default_rng(len(sa) * 10 + len(sb))
    x = (rng.standard_normal(sa), rng.standard_normal(sb))
    for term in (ct.prim("matmul"), ct.compile(lambda a, b: cnp.sin(a) @ (b * b), *type_of(x))):
        assert _looped(term, x) == set()
        y = ct.evaluate(term, x)
        for m in ("fwd", "rev"):
            np.testing.assert_allclose(dense(ct.jacobian(term, x, m), x, y), loop_jacobian(term, x, m),
                                       rtol=1e-10, atol=1e-12)


# --- random terms ----------------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(term_and_input())
def test_random_terms_fwd_equals_rev_equals_loop(case: tuple) -> None:
    term, x = case
    y = ct.evaluate(term, x)
    if not (_float_leaves(x) and _float_leaves(y)):
        return
    tol = dict(rtol=1e-4, atol=1e-5) if _single(x, y) else dict(rtol=1e-10, atol=1e-12)
    fwd, rev = dense(ct.jacobian(term, x, "fwd"), x, y), dense(ct.jacobian(term, x, "rev"), x, y)
    np.testing.assert_allclose(fwd, rev, **tol)
    np.testing.assert_allclose(fwd, loop_jacobian(term, x, "fwd"), **tol)
    np.testing.assert_allclose(rev, loop_jacobian(term, x, "rev"), **tol)


# --- the batched modes themselves --------------------------------------------------------------------------------


def _mixed(x: tuple) -> Any:
    a, w, k = x
    return cnp.sin(a @ w) * w[0], cnp.sum(a ** 2) + k[0]


def test_batched_modes_on_random_tangents_match_the_unbatched_ones() -> None:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((2, 3)), rng.standard_normal((3, 3)), np.array([1, 2]))
    term = ct.compile(_mixed, type_of(x))
    dom = type_of(x)
    batch = 5
    ts = [(rng.standard_normal((2, 3)), rng.standard_normal((3, 3)), None) for _ in range(batch)]
    y, dys = program(term, dom, "jvp_batch")(x, (np.stack([t[0] for t in ts]), np.stack([t[1] for t in ts]), None))
    for b, t in enumerate(ts):
        y1, dy = ct.jvp(term, x, t)
        np.testing.assert_allclose(dys[0][b], dy[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(dys[1][b], dy[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y[0], y1[0])
    cs = [(rng.standard_normal((2, 3)), rng.standard_normal(())) for _ in range(batch)]
    _, dxs = program(term, dom, "vjp_batch")(x, (np.stack([c[0] for c in cs]), np.stack([c[1] for c in cs])))
    assert dxs[2] is None and dxs[0].shape == (batch, 2, 3) and dxs[1].shape == (batch, 3, 3)
    for b, c in enumerate(cs):
        dx = ct.vjp(term, x, c)[1]
        np.testing.assert_allclose(dxs[0][b], dx[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(dxs[1][b], dx[1], rtol=1e-12, atol=1e-14)


def test_a_tangent_output_independent_of_the_input_is_spread_over_the_batch() -> None:
    term = ct.compile(lambda x: (x * 2.0, cnp.zeros(3) + 1.0), ct.Array((2,)))
    y, dy = program(term, type_of(np.ones(2)), "jvp_batch")(np.ones(2), np.eye(2))
    assert dy[1].shape == (2, 3) and not dy[1].any() and dy[1].flags.writeable
    assert dy[0].tolist() == [[2.0, 0.0], [0.0, 2.0]]


def test_no_float_tangent_is_refused_by_the_batched_modes() -> None:
    term = ct.compile(lambda k: k * 2, ct.Array((2,), "int64"))
    with pytest.raises(ct.TermTypeError, match="no tangent to batch"):
        program(term, type_of(np.array([1, 2])), "jvp_batch")


def test_the_generic_loop_is_correct_where_it_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without their forms, transposes, products and stacking still batch, by the loop."""
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((3, 4)), rng.standard_normal((4, 2)))
    fn = lambda a, w: (cnp.stack([a, a * 2]) @ w[None], a.T @ a[:, :2], cnp.concatenate([a.T, w], axis=1))  # noqa: E731
    term = ct.compile(fn, *type_of(x))
    y = ct.evaluate(term, x)
    want = {m: loop_jacobian(term, x, m) for m in ("fwd", "rev")}
    for name in ("transpose", "stack", "concatenate", "matmul_left", "matmul_right", "matmul_left_t",
                 "matmul_right_t", "split"):
        monkeypatch.delitem(batching.FORMS, TABLE[name].impl)
    program.cache_clear()
    try:
        assert _looped(term, x)
        for m in ("fwd", "rev"):
            np.testing.assert_allclose(dense(ct.jacobian(term, x, m), x, y), want[m], rtol=1e-12, atol=1e-14)
    finally:
        monkeypatch.undo()
        program.cache_clear()


def test_large_jacobians_run_in_several_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(5).standard_normal(7)
    term = ct.compile(lambda v: cnp.cumsum(cnp.sin(v)) * v[::-1], ct.Array((7,)))
    want = ct.jacobian(term, x, "fwd")
    monkeypatch.setattr(api, "BATCH_ELEMENTS", 20)  # a few basis vectors a pass
    for m in ("fwd", "rev"):
        np.testing.assert_allclose(ct.jacobian(term, x, m), want, rtol=1e-12, atol=1e-14)


# --- tuples, integers and booleans ----------------------------------------------------------------------------


def test_tuple_inputs_and_outputs_with_integer_and_boolean_parts_give_none_blocks() -> None:
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(3), np.array([0, 2]), rng.standard_normal((2, 2)), np.array([True, False]))

    def fn(v: Any, idx: Any, m: Any, mask: Any) -> Any:
        return (cnp.sin(v[idx]) @ m, idx * 2, cnp.where(mask, m[0], 0.0) + v[0], v > 0)

    term = ct.compile(fn, *type_of(x))
    y = ct.evaluate(term, x)
    for m in ("fwd", "rev"):
        j = ct.jacobian(term, x, m)
        assert j[1] == (None, None, None, None) and j[3] == (None, None, None, None)
        assert j[0][1] is None and j[0][3] is None and j[2][1] is None
        assert j[0][0].shape == (2, 3) and j[0][2].shape == (2, 2, 2) and j[2][0].shape == (2, 3)
        np.testing.assert_allclose(dense(j, x, y), loop_jacobian(term, x, "fwd"), rtol=1e-12, atol=1e-14)


def test_no_float_input_gives_zero_and_none_blocks() -> None:
    term = ct.compile(lambda k: (k.astype(float) * 2.0, k + 1), ct.Array((2,), "int64"))
    for m in ("fwd", "rev"):
        j = ct.jacobian(term, np.array([1, 2]), m)
        assert j == (None, None)


# --- Hessians -----------------------------------------------------------------------------------------------


def _hessian_by_differences(f: Any, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    cols = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = h
        cols.append(((ct.grad(f, x + e) - ct.grad(f, x - e)) / (2 * h)).ravel())
    return np.stack(cols, axis=1).reshape(x.shape + x.shape)


def test_hessian_matches_differences_of_the_gradient() -> None:
    rng = np.random.default_rng(7)
    w = rng.standard_normal((3, 2))
    fns = [
        (lambda x: cnp.sum(cnp.sin(x) * x ** 2) + cnp.prod(x[:2]), rng.standard_normal(4)),
        (lambda x: cnp.logsumexp(cnp.tanh(x @ w).ravel()) + cnp.sum(x[:, 0] ** 3), rng.standard_normal((2, 3))),
    ]
    for fn, x in fns:
        term = ct.compile(fn, type_of(x))
        hess = ct.hessian(term, x)
        assert hess.shape == x.shape + x.shape
        np.testing.assert_allclose(hess, _hessian_by_differences(term, x), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(hess, np.swapaxes(hess.reshape(x.size, x.size), 0, 1).reshape(hess.shape),
                                   rtol=1e-10, atol=1e-12)
        grad_term = ct.grad_term(term, type_of(x))
        assert _looped(grad_term, x) == set()


def test_hessian_of_a_tuple_input_with_an_integer_part() -> None:
    x = (np.array([0.3, -0.7]), np.array([2]), np.array(1.5))
    term = ct.compile(lambda v, k, s: cnp.sum(cnp.cos(v * s)) * s + k[0] * 1.0, *type_of(x))
    h = ct.hessian(term, x)
    assert h[1] == (None, None, None) and h[0][1] is None and h[2][1] is None
    assert h[0][0].shape == (2, 2) and h[0][2].shape == (2,) and h[2][2].shape == ()
    v, s = x[0], x[2]
    # f = s Σ cos(v s): ∂²/∂v² = -s³ diag(cos(vs)), ∂²/∂v∂s = -2s sin(vs) - s² v cos(vs)
    np.testing.assert_allclose(h[0][0], np.diag(-s ** 3 * np.cos(v * s)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h[0][2], -2 * s * np.sin(v * s) - s ** 2 * v * np.cos(v * s), rtol=1e-12)
    np.testing.assert_allclose(h[2][0], h[0][2], rtol=1e-12)


# --- inside ct.compile: the batched pass recorded once ------------------------------------------------------


def _blocks(jac: Any) -> tuple:
    """A Jacobian's blocks that have a derivative, left to right (a compiled function returns no None)."""
    if isinstance(jac, tuple):
        return tuple(b for part in jac for b in _blocks(part))
    return () if jac is None else (jac,)


@pytest.mark.parametrize("name,i", PARAMS)
def test_jacobians_inside_compile_match_the_concrete_ones(name: str, i: int) -> None:
    case = _differentiable(name, i)
    if case is None:
        return
    term, x, _, tol = case
    for m in ("fwd", "rev"):
        traced = ct.compile(lambda v: _blocks(ct.jacobian(term, v, m)) + (v,), type_of(x))
        for got, want in zip(ct.evaluate(traced, x)[:-1], _blocks(ct.jacobian(term, x, m)), strict=True):
            np.testing.assert_allclose(got, want, **tol)


def test_a_jacobian_inside_compile_does_not_grow_with_its_basis() -> None:
    """One batched pass is recorded, not one pass per basis vector: the term of a 64-column Jacobian is the
    size of a 4-column one's."""
    def nodes(n: int, mode: str) -> int:
        w = np.linspace(-1, 1, 3 * n).reshape(3, n)
        inner = lambda x: cnp.tanh(w @ x) * cnp.sum(x ** 2)  # noqa: E731
        term = ct.compile(lambda x: cnp.sum(ct.jacobian(inner, x, mode) ** 2), ct.Array((n,)))
        x = np.linspace(0.1, 1, n)
        want = np.sum(ct.jacobian(inner, x, mode) ** 2)
        np.testing.assert_allclose(ct.evaluate(term, x), want, rtol=1e-12)
        return term.size

    for mode in ("fwd", "rev"):
        assert nodes(64, mode) <= nodes(4, mode) + 4


def test_a_newton_direction_closing_over_the_outer_parameters() -> None:
    """``ct.hessian`` and ``ct.jacobian`` of an inner objective that reads a traced parameter: batched, and
    differentiated again from outside through the parameter."""
    x0 = np.array([0.3, -0.2, 0.5])

    def direction(w: Any) -> Any:
        inner = lambda y: cnp.sum(cnp.exp(w * y)) + cnp.sum(w * y ** 2)  # noqa: E731
        h, g = ct.hessian(inner, x0), ct.grad(inner, x0)
        return cnp.linalg.solve(h, g) + ct.jacobian(lambda y: cnp.sin(w * y), x0, "fwd") @ g

    def by_hand(w: np.ndarray) -> np.ndarray:
        e = np.exp(w * x0)
        h, g = np.diag(w ** 2 * e + 2 * w), w * e + 2 * w * x0
        return np.linalg.solve(h, g) + np.diag(w * np.cos(w * x0)) @ g

    w = np.array([0.7, 1.1, 0.9])
    term = ct.compile(direction, w)
    np.testing.assert_allclose(ct.evaluate(term, w), by_hand(w), rtol=1e-12)
    eps = 1e-6
    fd = np.stack([(by_hand(w + eps * e) - by_hand(w - eps * e)) / (2 * eps) for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(ct.jacobian(term, w), fd, rtol=1e-6, atol=1e-8)
