"""Indexing against numpy: static indices of every form, gathers with traced (repeated) indices, and
``x.at[idx]`` updates with repeated indices — values against numpy's own indexing and ``ufunc.at``,
derivatives against central differences and the adjoint identity — and the refusals that name the idiom."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import catterms as ct
import catterms.numpy as cnp
from catterms.frontend.tracer import lifted
from catterms.wire import dumps, loads

UFUNCS = {"add": np.add, "multiply": np.multiply, "min": np.minimum, "max": np.maximum}


def _numpy_update(x: np.ndarray, idx: Any, v: np.ndarray, how: str) -> np.ndarray:
    out = x.copy()
    if how == "set":
        out[idx] = v  # repeated indices: the last write stays
    else:
        UFUNCS[how].at(out, idx, v)
    return out


def _check_derivatives(term: ct.Term, x: tuple, rng: np.random.Generator) -> None:
    """JVP against central differences and VJP by the adjoint identity, on the float arguments."""
    t = tuple(rng.standard_normal(a.shape) if a.dtype.kind == "f" else None for a in x)
    y, dy = ct.jvp(term, x, t)
    h = 1e-6
    step = lambda s: tuple(a if d is None else a + s * d for a, d in zip(x, t))  # noqa: E731
    np.testing.assert_allclose(dy, (ct.evaluate(term, step(h)) - ct.evaluate(term, step(-h))) / (2 * h),
                               rtol=1e-6, atol=1e-7)
    c = rng.standard_normal(np.shape(y))
    _, back = ct.vjp(term, x, c)
    assert np.isclose(np.sum(dy * c), sum(np.sum(a * b) for a, b in zip(t, back) if a is not None))
    assert all(b is None for a, b in zip(x, back) if a.dtype.kind != "f")  # indices have no cotangent


indices = st.lists(st.integers(-4, 3), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(indices, st.booleans(), st.integers(0, 2**32 - 1))
def test_gathers_with_repeated_indices_match_numpy(rows: list[int], traced: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, idx = rng.standard_normal((3, 4)), np.array(rows).reshape(-1, 1)
    if traced:
        term = ct.compile(lambda x, i: cnp.sin(x[:, i]), ct.Array((3, 4)), ct.Array(idx.shape, "int64"))
        point: tuple = (x, idx)
    else:
        term = ct.compile(lambda x: cnp.sin(x[:, idx]), ct.Array((3, 4)))
        point = (x,)
    value = ct.evaluate(term, point if traced else x)
    np.testing.assert_allclose(value, np.sin(x[:, idx]), rtol=1e-15)
    c = rng.standard_normal(value.shape)
    _, back = ct.vjp(term, point if traced else x, c)
    want = np.zeros_like(x)
    np.add.at(want, (slice(None), idx), np.cos(x[:, idx]) * c)  # repeated indices accumulate
    np.testing.assert_allclose(back[0] if traced else back, want, rtol=1e-12, atol=1e-14)
    if traced:
        _check_derivatives(term, point, rng)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(sorted(["set", *UFUNCS])), indices, st.booleans(), st.booleans(), st.integers(0, 2**32 - 1))
def test_updates_with_repeated_indices_match_numpy(how: str, rows: list[int], traced: bool, scalar: bool,
                                                   seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, idx = rng.standard_normal((4, 2)), np.array(rows)
    v = rng.standard_normal(() if scalar else (len(rows), 2))
    if traced:
        term = ct.compile(lambda x, v, i: getattr(x.at[i], how)(v), ct.Array((4, 2)), ct.Array(v.shape),
                          ct.Array(idx.shape, "int64"))
        point: tuple = (x, v, idx)
    else:
        term = ct.compile(lambda x, v: getattr(x.at[idx], how)(v), ct.Array((4, 2)), ct.Array(v.shape))
        point = (x, v)
    np.testing.assert_allclose(ct.evaluate(term, point), _numpy_update(x, idx, v, how), rtol=1e-15)
    _check_derivatives(term, point, rng)
    fwd, rev = ct.jacobian(term, point, "fwd"), ct.jacobian(term, point, "rev")
    for a, b in zip(fwd, rev):
        assert (a is None and b is None) or np.allclose(a, b, rtol=1e-12, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.booleans(), min_size=12, max_size=12), st.sampled_from(["whole", "leading", "trailing"]))
def test_constant_boolean_masks_follow_numpy(bits: list[bool], where: str) -> None:
    mask = np.array(bits).reshape(3, 4)
    idx = {"whole": mask, "leading": (mask[:, 0], None, slice(1, None)), "trailing": (Ellipsis, mask[0])}[where]
    x = np.arange(12.0).reshape(3, 4) / 7
    term = ct.compile(lambda x: x[idx] * 2.0, ct.Array((3, 4)))
    np.testing.assert_array_equal(ct.evaluate(term, x), x[idx] * 2.0)
    g = ct.grad(ct.compile(lambda x: cnp.sum(x[idx]), ct.Array((3, 4))), x)
    want = np.zeros_like(x)
    want[idx] = 1.0
    np.testing.assert_array_equal(g, want)


STATIC = [
    (np.array([[0, -1], [2, 2]]), (3, 4)),  # a 2-d integer array, negative and repeated
    ((np.array([0, 2]), np.array([[1], [3]])), (3, 4)),  # two arrays broadcast together
    ((slice(None), None, [1, 1]), (2, 3)),
    ((np.array([1, 0]), slice(None), np.array([2, 2])), (2, 3, 4)),  # separated arrays: their axis goes first
    ((Ellipsis, np.array([[True, False, True], [False, True, True]])), (2, 2, 3)),  # a mask over two axes
    (np.array(True), (3,)),  # a 0-d mask adds an axis, as None does
]


@pytest.mark.parametrize("idx,shape", STATIC, ids=range(len(STATIC)))
def test_static_indices_match_numpy_with_derivatives(idx: Any, shape: tuple) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    term = ct.compile(lambda x: x[idx], ct.Array(shape))
    assert [n.data[0] for n in term.nodes() if n.op == "prim"] == ["index"]
    np.testing.assert_array_equal(ct.evaluate(term, x), x[idx])
    c = rng.standard_normal(x[idx].shape)
    want = np.zeros_like(x)
    np.add.at(want, idx, c)
    np.testing.assert_allclose(ct.vjp(term, x, c)[1], want, rtol=1e-15)
    assert loads(dumps(term)) == term


def test_gaussian_mixture_gather_with_a_2d_index() -> None:
    """``row[:, tril]``: each row of a packed matrix gathered into a square one, constant or traced index."""
    tril = np.array([[0, 3, 3], [2, 1, 3], [2, 2, 0]])
    rng = np.random.default_rng(1)
    icf = rng.standard_normal((2, 4))
    const = ct.compile(lambda a: cnp.sum(a[:, tril] ** 2), ct.Array((2, 4)))
    traced = ct.compile(lambda a, t: cnp.sum(a[:, t] ** 2), ct.Array((2, 4)), ct.Array((3, 3), "int64"))
    want = np.zeros_like(icf)
    np.add.at(want, (slice(None), tril), 2 * icf[:, tril])
    np.testing.assert_allclose(ct.grad(const, icf), want, rtol=1e-14)
    np.testing.assert_allclose(ct.grad(traced, (icf, tril))[0], want, rtol=1e-14)
    assert "gather" in {n.data[0] for n in traced.nodes() if n.op == "prim"}
    assert loads(dumps(traced)) == traced


def test_a_constant_takes_updates_of_traced_values() -> None:
    term = ct.compile(lambda v, i: lifted(np.zeros(5)).at[i].add(v), ct.Array((2,)), ct.Array((2,), "int64"))
    np.testing.assert_array_equal(ct.evaluate(term, (np.array([1.0, 2.0]), np.array([3, 3]))), [0, 0, 0, 3, 0])
    _, (gv, gi) = ct.vjp(term, (np.array([1.0, 2.0]), np.array([3, 3])), np.arange(5.0))
    assert gv.tolist() == [3.0, 3.0] and gi is None
    assert loads(dumps(term)) == term


def test_set_gives_the_derivative_to_the_last_write_and_extremes_share_ties() -> None:
    x, v = np.array([1.0, 5.0]), np.array([2.0, 3.0])
    term = ct.compile(lambda x, v: cnp.sum(x.at[[0, 0]].set(v)), ct.Array((2,)), ct.Array((2,)))
    gx, gv = ct.grad(term, (x, v))
    assert gx.tolist() == [0.0, 1.0] and gv.tolist() == [0.0, 1.0]
    term = ct.compile(lambda x, v: cnp.sum(x.at[[0, 0]].max(v)), ct.Array((2,)), ct.Array((2,)))
    gx, gv = ct.grad(term, (x, np.array([1.0, 1.0])))  # x[0] and both updates tie at 1: a third each
    np.testing.assert_allclose(gx, [1 / 3, 1.0])
    np.testing.assert_allclose(gv, [1 / 3, 1 / 3])
    term = ct.compile(lambda x, v: cnp.sum(x.at[[0, 0, 1]].multiply(v)), ct.Array((2,)), ct.Array((3,)))
    gx, gv = ct.grad(term, (x, np.array([0.0, 4.0, 2.0])))  # a zero factor: the others' product, exactly
    assert gx.tolist() == [0.0, 2.0] and gv.tolist() == [4.0, 0.0, 5.0]


def test_float32_updates_stay_float32_and_values_take_the_arrays_dtype() -> None:
    term = ct.compile(lambda x, v: x.at[1:].add(v), ct.Array((3,), "float32"), ct.Array((2,)))
    x, v = np.ones(3, np.float32), np.array([0.5, 0.25])
    assert ct.evaluate(term, (x, v)).dtype == np.float32
    _, (gx, gv) = ct.vjp(term, (x, v), np.ones(3, np.float32))
    assert gx.dtype == np.float32 and gv.dtype == np.float64
    ints = ct.compile(lambda i: i.at[0].set(2.7), ct.Array((2,), "int64"))
    assert ct.evaluate(ints, np.array([5, 6])).tolist() == [2, 6]  # numpy's assignment truncates


def test_traced_indices_out_of_range_raise_at_run_time() -> None:
    term = ct.compile(lambda x, i: x[i], ct.Array((3,)), ct.Array((2,), "int64"))
    assert ct.evaluate(term, (np.arange(3.0), np.array([-3, 2]))).tolist() == [0.0, 2.0]
    with pytest.raises(ct.EvaluationError, match="gather.*out of bounds"):
        ct.evaluate(term, (np.arange(3.0), np.array([0, 3])))


VEC, INT, BOOL = ct.Array((3,)), ct.Array((2,), "int64"), ct.Array((3,), "bool")

REFUSALS: list[tuple[str, Callable[..., Any], tuple, type, str]] = [
    ("traced mask", lambda x, m: x[m], (VEC, BOOL), ct.TraceError, "cnp.where"),
    ("traced mask update", lambda x, m: x.at[m].set(0.0), (VEC, BOOL), ct.TraceError, "cnp.where"),
    ("traced float index", lambda x, y: x[y], (VEC, VEC), ct.TraceError, "cnp.astype"),
    ("traced slice", lambda x, i: x[i[0]:], (VEC, INT), ct.TraceError, "np.arange"),
    ("list of traced floats", lambda x, y: x[[y[0], y[1]]], (VEC, VEC), ct.TraceError, "cnp.astype"),
    ("static out of range", lambda x: x[[0, 3]], (VEC,), ct.TermTypeError, "out of bounds"),
    ("static int out of range", lambda x: x[-4], (VEC,), ct.TermTypeError, "out of bounds"),
    ("mask of the wrong shape", lambda x: x[np.array([True, False])], (VEC,), ct.TermTypeError, "boolean"),
    ("too many indices", lambda x, i: x[i, 0], (VEC, INT), ct.TermTypeError, "too many"),
    ("update shape", lambda x, v: x.at[:2].set(v), (VEC, VEC), ct.TermTypeError, "do not broadcast"),
    ("take mode", lambda x, i: cnp.take(x, i, mode="clip"), (VEC, INT), ct.TraceError, "mode"),
    ("take_along_axis rank", lambda x, i: cnp.take_along_axis(x, i[:, None], 0), (VEC, INT), ct.TermTypeError,
     "rank"),
    ("put_along_axis in place", lambda x, i: cnp.put_along_axis(x, i, 0.0, 0), (VEC, INT), ct.TraceError,
     "inplace=False"),
]


@pytest.mark.parametrize("fn,specs,error,message", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refusals_name_the_idiom(fn: Callable[..., Any], specs: tuple, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        ct.compile(fn, *specs)


def test_a_constant_array_gathers_by_traced_indices_with_take() -> None:
    W = np.arange(6.0).reshape(3, 2)
    term = ct.compile(lambda i: cnp.take(W, i, axis=0), ct.Array((2,), "int64"))
    np.testing.assert_array_equal(ct.evaluate(term, np.array([2, -3])), W[[2, -3]])


def test_a_list_of_traced_indices_is_an_index_array() -> None:
    x = np.arange(5.0)
    term = ct.compile(lambda v, i, j: v[[i, j, i]], x, 1, 3)
    assert ct.evaluate(term, (x, 1, 3)).tolist() == [1.0, 3.0, 1.0]
    g, gi, gj = ct.vjp(term, (x, 1, 3), np.ones(3))[1]
    assert g.tolist() == [0.0, 2.0, 0.0, 1.0, 0.0] and gi is None and gj is None
