"""Table-driven checks of every public primitive against oracles.

The test iterates the primitive table itself: a primitive added without an entry in ``CASES`` fails
``test_every_public_primitive_has_cases``. Oracles: an independent numpy formula for the value, central
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
from catterms.types import type_of

RNG = np.random.default_rng(0)


def normal(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.standard_normal(shape)


def positive(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: np.abs(rng.standard_normal(shape)) + 0.5


def small(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.uniform(-1.0, 1.0, shape)


def pair(a: Callable, b: Callable) -> Callable:
    return lambda rng: (a(rng), b(rng))


def triple(a: Callable, b: Callable, c: Callable) -> Callable:
    return lambda rng: (a(rng), b(rng), c(rng))


def lse(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


# name -> list of (params, input maker, independent numpy reference)
CASES: dict[str, list[tuple[dict, Callable, Callable]]] = {
    "exp": [({}, normal(3, 4), lambda x: np.e ** x)],
    "log": [({}, positive(5), lambda x: np.log2(x) / np.log2(np.e))],
    "sin": [({}, normal(2, 3), lambda x: np.cos(x - np.pi / 2))],
    "cos": [({}, normal(4), lambda x: np.sin(x + np.pi / 2))],
    "tan": [({}, small(4), lambda x: np.sin(x) / np.cos(x))],
    "tanh": [({}, normal(3, 2), lambda x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1))],
    "sinh": [({}, normal(3), lambda x: (np.exp(x) - np.exp(-x)) / 2)],
    "cosh": [({}, normal(3), lambda x: (np.exp(x) + np.exp(-x)) / 2)],
    "sqrt": [({}, positive(6), lambda x: x ** 0.5)],
    "abs": [({}, normal(6), lambda x: np.where(x < 0, -x, x))],
    "relu": [({}, normal(6), lambda x: np.where(x > 0, x, 0.0))],
    "sigmoid": [({}, normal(6), lambda x: 1 / (1 + np.exp(-x)))],
    "pow": [({"p": 3.0}, normal(4), lambda x: x * x * x), ({"p": 2.0}, normal(2, 2), lambda x: x * x),
            ({"p": -0.5}, positive(3), lambda x: 1 / np.sqrt(x))],
    "scale": [({"s": 2.5}, normal(3), lambda x: x + 1.5 * x)],
    "neg": [({}, normal(3), lambda x: 0 - x)],
    "mul": [({}, pair(normal(3), normal(3)), lambda x: x[0] * x[1]),
            ({}, pair(normal(2, 3), normal(3)), lambda x: x[0] * x[1][None, :])],
    "div": [({}, pair(normal(3), positive(3)), lambda x: x[0] * (1 / x[1])),
            ({}, pair(normal(2, 1), positive(3)), lambda x: x[0] / x[1])],
    "maximum": [({}, pair(normal(5), normal(5)), lambda x: np.where(x[0] > x[1], x[0], x[1]))],
    "minimum": [({}, pair(normal(2, 3), normal(1, 3)), lambda x: np.where(x[0] < x[1], x[0], x[1]))],
    "add": [({}, pair(normal(3), normal(3)), lambda x: x[0] + x[1]),
            ({}, pair(normal(4, 1), normal(3)), lambda x: x[0] + x[1])],
    "sub": [({}, pair(normal(3), normal(3)), lambda x: x[0] - x[1]),
            ({}, pair(normal(), normal(2, 2)), lambda x: x[0] - x[1])],
    "reshape": [({"shape": (3, -1)}, normal(2, 3), lambda x: x.reshape(3, 2))],
    "transpose": [({}, normal(2, 3, 4), lambda x: np.einsum("ijk->kji", x)),
                  ({"axes": (1, 0, 2)}, normal(2, 3, 4), lambda x: np.swapaxes(x, 0, 1))],
    "broadcast_to": [({"shape": (2, 3)}, normal(3), lambda x: np.stack([x, x]))],
    "index": [({"idx": slice(1, None)}, normal(5), lambda x: x[1:]),
              ({"idx": (1, slice(None, None, -1))}, normal(3, 4), lambda x: x[1][::-1]),
              ({"idx": (Ellipsis, None, 0)}, normal(2, 3), lambda x: x[:, 0][:, None]),
              ({"idx": [0, 2, 0]}, normal(4), lambda x: np.array([x[0], x[2], x[0]]))],
    "concatenate": [({"axis": 1}, pair(normal(2, 3), normal(2, 1)), lambda x: np.hstack(x)),
                    ({}, triple(normal(1), normal(2), normal(3)), lambda x: np.hstack(x))],
    "stack": [({"axis": 1}, pair(normal(2, 3), normal(2, 3)), lambda x: np.dstack(x)[:, :, :].transpose(0, 2, 1))],
    "sum": [({}, normal(3, 4), lambda x: x.ravel().sum()),
            ({"axis": 0}, normal(3, 4), lambda x: x[0] + x[1] + x[2]),
            ({"axis": (0, 2), "keepdims": True}, normal(2, 3, 2), lambda x: np.add.reduce(np.add.reduce(x, 2, keepdims=True), 0, keepdims=True))],
    "mean": [({"axis": 1}, normal(3, 4), lambda x: x.sum(1) / 4), ({}, normal(5), lambda x: x.sum() / 5)],
    "max": [({"axis": 1}, normal(3, 4), lambda x: np.sort(x, axis=1)[:, -1]), ({}, normal(7), lambda x: np.sort(x)[-1])],
    "logsumexp": [({"axis": -1}, normal(3, 4), lambda x: lse(x, -1, False)),
                  ({"keepdims": True}, normal(5), lambda x: lse(x, None, True))],
    "matmul": [({}, pair(normal(3, 4), normal(4, 2)), lambda x: np.einsum("ij,jk->ik", *x)),
               ({}, pair(normal(4), normal(4, 2)), lambda x: np.einsum("j,jk->k", *x)),
               ({}, pair(normal(3, 4), normal(4)), lambda x: np.einsum("ij,j->i", *x)),
               ({}, pair(normal(4), normal(4)), lambda x: np.einsum("j,j->", *x)),
               ({}, pair(normal(2, 3, 4), normal(4, 5)), lambda x: np.einsum("bij,jk->bik", *x))],
}

PUBLIC = sorted(name for name, rule in TABLE.items() if rule.public)
PARAMS = [(name, i) for name in PUBLIC for i in range(len(CASES.get(name, [])))]


def test_every_public_primitive_has_cases() -> None:
    assert [n for n in PUBLIC if not CASES.get(n)] == []


def _case(name: str, i: int) -> tuple[ct.Term, Any, Callable]:
    params, make, ref = CASES[name][i]
    return ct.prim(name, **params), make(np.random.default_rng(zlib.crc32(f"{name}{i}".encode()))), ref


def _random_like(value: Any, rng: np.random.Generator) -> Any:
    if isinstance(value, tuple):
        return tuple(_random_like(v, rng) for v in value)
    return rng.standard_normal(np.shape(value))


def _dot(a: Any, b: Any) -> float:
    if isinstance(a, tuple):
        return sum(_dot(x, y) for x, y in zip(a, b))
    return float(np.sum(np.asarray(a) * np.asarray(b)))


def _axpy(x: Any, t: Any, h: float) -> Any:
    if isinstance(x, tuple):
        return tuple(_axpy(a, b, h) for a, b in zip(x, t))
    return x + h * t


@pytest.mark.parametrize("name,i", PARAMS)
def test_value_matches_numpy(name: str, i: int) -> None:
    term, x, ref = _case(name, i)
    y = ct.evaluate(term, x)
    np.testing.assert_allclose(y, ref(x), rtol=1e-12, atol=1e-12)
    assert type_of(np.asarray(y)) == ct.infer(term, type_of(x))


@pytest.mark.parametrize("name,i", PARAMS)
def test_jvp_matches_central_differences(name: str, i: int) -> None:
    term, x, _ = _case(name, i)
    rng = np.random.default_rng(1)
    t = _random_like(x, rng)
    y, dy = ct.jvp(term, x, t)
    h = 1e-6
    fd = (np.asarray(ct.evaluate(term, _axpy(x, t, h))) - np.asarray(ct.evaluate(term, _axpy(x, t, -h)))) / (2 * h)
    np.testing.assert_allclose(dy, fd, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(y, ct.evaluate(term, x), rtol=0, atol=0)


@pytest.mark.parametrize("name,i", PARAMS)
def test_vjp_satisfies_adjoint_identity(name: str, i: int) -> None:
    term, x, _ = _case(name, i)
    rng = np.random.default_rng(2)
    t = _random_like(x, rng)
    y, jt = ct.jvp(term, x, t)
    c = _random_like(y, rng)
    _, jtc = ct.vjp(term, x, c)
    assert np.isclose(_dot(jt, c), _dot(t, jtc), rtol=1e-10, atol=1e-12)
    assert type_of(jtc) == type_of(x)


@pytest.mark.parametrize("name,i", PARAMS)
def test_forward_jacobian_equals_reverse_jacobian(name: str, i: int) -> None:
    term, x, _ = _case(name, i)
    fwd, rev = ct.jacobian(term, x, "fwd"), ct.jacobian(term, x, "rev")
    np.testing.assert_allclose(_flat(fwd), _flat(rev), rtol=1e-12, atol=1e-14)


def _flat(j: Any) -> np.ndarray:
    if isinstance(j, tuple):
        return np.concatenate([_flat(p) for p in j]) if j else np.zeros(0)
    return np.asarray(j).ravel()


@pytest.mark.parametrize("name,i", PARAMS)
def test_float32_stays_float32(name: str, i: int) -> None:
    term, x, _ = _case(name, i)
    x32 = tuple(np.asarray(v, np.float32) for v in x) if isinstance(x, tuple) else np.asarray(x, np.float32)
    y = np.asarray(ct.evaluate(term, x32))
    assert y.dtype == np.float32
    out_type = ct.infer(term, type_of(x32))
    _, g = ct.vjp(term, x32, np.ones(out_type.shape, np.float32))
    for leaf in (g if isinstance(g, tuple) else (g,)):
        assert leaf.dtype == np.float32


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
