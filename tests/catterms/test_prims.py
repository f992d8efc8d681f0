"""Table-driven checks of every public primitive against oracles.

The test iterates the primitive table itself: a primitive added without an entry in ``CASES``
(:mod:`.prim_cases`, one module per family) fails ``test_every_public_primitive_has_cases``. Oracles: an independent numpy formula for the value, central
finite differences for the JVP, the adjoint identity ⟨J·t, c⟩ = ⟨t, Jᵀ·c⟩ for the VJP, and forward
Jacobian = reverse Jacobian.
"""

from __future__ import annotations

import zlib
from typing import Any, Callable

import numpy as np
import pytest

import catterms as ct
from catterms.prims import TABLE, TRANSCENDENTAL
from catterms.category import fold
from catterms.typecheck import TYPES
from catterms.types import leaves, type_of

from prim_cases import CASES

PUBLIC = sorted(name for name, rule in TABLE.items() if rule.public)
PARAMS = [(name, i) for name in PUBLIC for i in range(len(CASES.get(name, [])))]


def test_every_public_primitive_has_cases() -> None:
    assert [n for n in PUBLIC if not CASES.get(n)] == []


def _case(name: str, i: int) -> tuple[ct.Term, Any, Callable]:
    params, make, ref = CASES[name][i]
    return ct.prim(name, **params), make(np.random.default_rng(zlib.crc32(f"{name}{i}".encode()))), ref


def _random_like(value: Any, rng: np.random.Generator) -> Any:
    """A random tangent (or cotangent) for ``value``: ``None`` for its integer and boolean parts."""
    if isinstance(value, tuple):
        return tuple(_random_like(v, rng) for v in value)
    value = np.asarray(value)
    return rng.standard_normal(value.shape).astype(value.dtype) if value.dtype.kind == "f" else None


def _dot(a: Any, b: Any) -> float:
    if isinstance(a, tuple):
        return sum(_dot(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return 0.0
    return float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))


def _axpy(x: Any, t: Any, h: float) -> Any:
    if isinstance(x, tuple):
        return tuple(_axpy(a, b, h) for a, b in zip(x, t))
    return x if t is None else x + h * t


def _differences(term: ct.Term, x: Any, t: Any, h: float = 1e-6) -> Any:
    """Central differences of ``term`` at ``x`` along ``t``, on the float parts of the output."""
    up, down = ct.evaluate(term, _axpy(x, t, h)), ct.evaluate(term, _axpy(x, t, -h))

    def diff(a: Any, b: Any) -> Any:
        if isinstance(a, tuple):
            return tuple(diff(p, q) for p, q in zip(a, b))
        a = np.asarray(a)
        return (a - np.asarray(b)) / (2 * h) if a.dtype.kind == "f" else None

    return diff(up, down)


def _close(a: Any, b: Any, **tol: float) -> None:
    if isinstance(a, tuple):
        for p, q in zip(a, b):
            _close(p, q, **tol)
    elif a is None or b is None:
        assert a is None and b is None
    else:
        np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), **tol)


def _has_float(value: Any) -> bool:
    if isinstance(value, tuple):
        return any(_has_float(v) for v in value)
    return np.asarray(value).dtype.kind == "f"


def _single(*values: Any) -> bool:
    """Whether float32 appears among ``values`` (a conversion's output): tolerances loosen to its precision."""
    def dtypes(v: Any) -> list:
        return [d for c in v for d in dtypes(c)] if isinstance(v, tuple) else [np.asarray(v).dtype]
    return any(d == np.float32 for v in values for d in dtypes(v))


@pytest.mark.parametrize("name,i", PARAMS)
def test_value_matches_numpy(name: str, i: int) -> None:
    term, x, ref = _case(name, i)
    y = ct.evaluate(term, x)
    _close(y, ref(x), rtol=1e-12, atol=1e-12)
    assert type_of(y) == ct.infer(term, type_of(x))


@pytest.mark.parametrize("name,i", PARAMS)
def test_jvp_matches_central_differences(name: str, i: int) -> None:
    term, x, _ = _case(name, i)
    rng = np.random.default_rng(1)
    t = _random_like(x, rng)
    y, dy = ct.jvp(term, x, t)
    if not _has_float(x):  # no tangent in: the derivative is zero (or absent, for an integer result)
        assert all(d is None or not np.any(d) for d in _leaves(dy))
        return
    if _single(x, y):
        _close(dy, _differences(term, x, t, h=1e-3), rtol=1e-3, atol=1e-3)
    else:
        _close(dy, _differences(term, x, t), rtol=1e-6, atol=1e-7)
    _close(y, ct.evaluate(term, x), rtol=0, atol=0)


@pytest.mark.parametrize("name,i", PARAMS)
def test_vjp_satisfies_adjoint_identity(name: str, i: int) -> None:
    term, x, _ = _case(name, i)
    rng = np.random.default_rng(2)
    t = _random_like(x, rng)
    y, jt = ct.jvp(term, x, t)
    c = _random_like(y, rng)
    _, jtc = ct.vjp(term, x, c)
    rtol, atol = (1e-5, 1e-6) if _single(x, y) else (1e-10, 1e-12)
    assert np.isclose(_dot(jt, c), _dot(t, jtc), rtol=rtol, atol=atol)
    assert _shape_of(jtc) == _shape_of(_random_like(x, rng))


def _shape_of(v: Any) -> Any:
    """A tangent's structure: shapes and dtypes, ``None`` where there is no tangent."""
    if isinstance(v, tuple):
        return tuple(_shape_of(c) for c in v)
    return None if v is None else (np.shape(v), np.asarray(v).dtype)


@pytest.mark.parametrize("name,i", PARAMS)
def test_forward_jacobian_equals_reverse_jacobian(name: str, i: int) -> None:
    term, x, _ = _case(name, i)
    if not (_has_float(x) and _has_float(ct.evaluate(term, x))):
        return
    fwd, rev = ct.jacobian(term, x, "fwd"), ct.jacobian(term, x, "rev")
    np.testing.assert_allclose(_flat(fwd), _flat(rev), rtol=1e-12, atol=1e-14)  # exact even in float32


def _flat(j: Any) -> np.ndarray:
    if isinstance(j, tuple):
        return np.concatenate([_flat(p) for p in j]) if j else np.zeros(0)
    return np.zeros(0) if j is None else np.asarray(j).ravel()


@pytest.mark.parametrize("name,i", PARAMS)
def test_float32_stays_float32(name: str, i: int) -> None:
    term, x, _ = _case(name, i)

    def single(v: Any) -> Any:
        if isinstance(v, tuple):
            return tuple(single(c) for c in v)
        return np.asarray(v, np.float32) if np.asarray(v).dtype == np.float64 else v

    x32 = single(x)
    out_type = ct.infer(term, type_of(x32))
    if name == "astype" or not _has_float(x) or any(a.dtype not in ("float32", "bool", "int64", "int32")
                                                   for a in leaves(out_type)):
        return  # a conversion's dtype is its parameter; integer-only inputs have no float32 to keep
    y = ct.evaluate(term, x32)
    assert all(np.asarray(v).dtype.name == a.dtype for v, a in zip(_leaves(y), leaves(out_type)))
    _, g = ct.vjp(term, x32, _random_like(y, np.random.default_rng(3)))
    for leaf in _leaves(g):
        assert leaf is None or leaf.dtype == np.float32


def _leaves(v: Any) -> list:
    return [a for c in v for a in _leaves(c)] if isinstance(v, tuple) else [v]


def test_non_smooth_conventions() -> None:
    """abs′(0) = relu′(0) = 0; ties in maximum/minimum and max split the derivative evenly."""
    assert ct.grad(ct.compose(ct.prim("sum"), ct.prim("abs")), np.zeros(2)).tolist() == [0.0, 0.0]
    assert ct.grad(ct.compose(ct.prim("sum"), ct.prim("relu")), np.zeros(2)).tolist() == [0.0, 0.0]
    ga, gb = ct.grad(ct.compose(ct.prim("sum"), ct.prim("maximum")), (np.ones(2), np.ones(2)))
    assert ga.tolist() == gb.tolist() == [0.5, 0.5]
    assert ct.grad(ct.prim("max"), np.array([1.0, 3.0, 3.0])).tolist() == [0.0, 0.5, 0.5]


def test_unknown_primitive_and_bad_params_are_refused() -> None:
    with pytest.raises(ct.WireFormatError, match="unknown primitive 'frobnicate'"):
        ct.prim("frobnicate")
    with pytest.raises(ct.WireFormatError, match="unknown primitive 'scatter'"):
        ct.prim("scatter")
    with pytest.raises(ct.TermTypeError, match="sum has no parameter 'axes'"):
        ct.prim("sum", axes=0)
    with pytest.raises(ct.TermTypeError, match="bad p="):
        ct.prim("pow", p="two")


def test_a_failing_primitive_is_named_with_its_path(monkeypatch) -> None:
    import dataclasses

    def boom(x: Any) -> Any:
        raise FloatingPointError("boom")

    monkeypatch.setitem(TABLE, "sin", dataclasses.replace(TABLE["sin"], impl=boom))
    term = ct.compose(ct.prim("sum"), ct.prim("sin"), ct.prim("exp"))
    with pytest.raises(ct.EvaluationError, match=r"primitive sin at compose\[1\] > sin failed: FloatingPointError: boom"):
        ct.evaluate(term, np.ones(3))


def test_costs_keep_blas_flops_and_calls_apart() -> None:
    a = ct.Array((8, 16))
    term = ct.compose(ct.prim("tanh"), ct.prim("matmul"), ct.fork(ct.identity, ct.const(np.ones((16, 4)))))
    c = ct.cost(term, a)
    assert c.flops == 2 * 8 * 4 * 16 and c.calls == 2  # matmul, then tanh on its 8×4 result
    assert c.work == c.flops + TRANSCENDENTAL * 8 * 4 and c.span == c.work
    sums = ct.cost(ct.jamn(3), (a, a, a))
    assert (sums.work, sums.calls, sums.flops) == (2 * a.size, 1, 0.0)  # a sum is a call too


def test_the_critical_path_counts_calls() -> None:
    # a chain of ten calls on 1 element outlasts one call on 1,000 elements: each call costs microseconds
    calls = ct.compose(*[ct.prim("neg")] * 10)
    big = ct.compose(ct.prim("neg"), ct.const(np.ones(1000)))
    c = ct.cost(ct.fork(calls, big), ct.Array((1,)))
    assert c.span == 10 and c.span_calls == 10 and (c.work, c.calls) == (1010, 11)


def test_the_check_remembers_each_type_a_shared_node_meets() -> None:
    f = ct.prim("sin")
    term = ct.cross(f, f)
    folded = fold(term, TYPES)  # not the cached fold: an equal term may have been checked elsewhere
    folded.morphism.check((ct.Array((3,)), ct.Array((5,))))
    typed = folded.of[id(folded.root.args[0])]
    assert typed.first[0] == ct.Array((3,)) and list(typed.more) == [ct.Array((5,))]
    assert typed.computes
    swap = fold(ct.fork(ct.exr, ct.exl), TYPES)
    swap.morphism.check((ct.Array((3,)), ct.Array((5,))))
    assert not swap.morphism.computes  # plumbing: only rearranges
    assert typed.check(ct.Array((5,)))[1].work == 5 * TRANSCENDENTAL


def test_a_huge_order_costs_no_more_than_a_small_one() -> None:
    """polygamma's n! is a float, as scipy's (an exact n! of a hostile n from the wire would never finish)."""
    import scipy.special as sc

    term = ct.compose(ct.prim("sum"), ct.prim("polygamma", n=10 ** 12))
    np.testing.assert_array_equal(ct.evaluate(term, np.ones(2)), np.sum(sc.polygamma(10 ** 12, np.ones(2))))
    ct.grad(term, np.ones(2))
