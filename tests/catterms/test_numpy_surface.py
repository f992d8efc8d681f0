"""The numpy surface, table-driven: every function of ``catterms.numpy`` (and ``catterms.scipy``) against
numpy's (and scipy's) own function of the same name.

For each case of :mod:`numpy_cases`: the compiled function's value and dtypes equal numpy's; its JVP
matches central differences and its VJP satisfies the adjoint identity on the float arguments; and the
same function written with plain ``np.`` (dispatched through numpy's protocols) compiles to the very same
term. Every public name must have a case.
"""

from __future__ import annotations

import importlib
import zlib
from typing import Any, Callable

import numpy as np
import pytest

import catterms as ct
import catterms.numpy as cnp
from catterms.prims import TABLE
from numpy_cases import CASES, Case


def _lookup(root: Any, path: str) -> Any:
    for part in path.split("."):
        root = getattr(root, part)
    return root


def functions(case: Case) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(ours, the oracle) for a case's path."""
    if case.fn.startswith("scipy."):
        ours = _lookup(importlib.import_module("catterms.scipy"), case.fn[len("scipy."):])
        theirs = None if case.ref else _lookup(importlib.import_module("scipy"), case.fn[len("scipy."):])
        return ours, case.ref or theirs
    return _lookup(cnp, case.fn), case.ref or _lookup(np, case.fn)


def _plain(v: Any) -> Any:
    """numpy's results as catterms values: named tuples and lists as tuples, scalars as 0-d arrays."""
    if isinstance(v, (tuple, list)):
        return tuple(_plain(c) for c in v)
    return np.asarray(v)


def _leaves(v: Any) -> list:
    return [a for c in v for a in _leaves(c)] if isinstance(v, tuple) else [v]


def _draw(case: Case) -> tuple:
    return case.make(np.random.default_rng(zlib.crc32(case.name.encode())))


def _compiled(case: Case, fn: Callable[..., Any], xs: tuple) -> ct.Term:
    return ct.compile(lambda *a: case.apply(fn, a), *xs)


def _point(xs: tuple) -> Any:
    return xs[0] if len(xs) == 1 else xs


def _tangent(x: Any, rng: np.random.Generator) -> Any:
    if isinstance(x, tuple):
        return tuple(_tangent(c, rng) for c in x)
    x = np.asarray(x)
    return rng.standard_normal(x.shape).astype(x.dtype) if x.dtype.kind == "f" else None


def _step(x: Any, t: Any, h: float) -> Any:
    if isinstance(x, tuple):
        return tuple(_step(a, b, h) for a, b in zip(x, t))
    return x if t is None else x + h * t


def _inner(a: Any, b: Any) -> float:
    return float(sum(np.sum(np.asarray(p, np.float64) * np.asarray(q, np.float64))
                     for p, q in zip(_leaves(a), _leaves(b)) if p is not None and q is not None))


def _floating(v: Any) -> bool:
    return any(np.asarray(a).dtype.kind == "f" for a in _leaves(v))


IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value_and_dtype_match_numpy(case: Case) -> None:
    ours, theirs = functions(case)
    xs = _draw(case)
    want = _plain(case.apply(theirs, xs))
    if not xs:  # a constructor: no traced argument, computed at once
        got = _plain(case.apply(ours, xs))
    else:
        got = _plain(ct.evaluate(_compiled(case, ours, xs), _point(xs)))
    assert len(_leaves(got)) == len(_leaves(want))
    for g, w in zip(_leaves(got), _leaves(want)):
        assert g.shape == w.shape and g.dtype == w.dtype, f"{case.name}: {g.dtype}{g.shape} vs numpy's {w.dtype}{w.shape}"
        np.testing.assert_allclose(g, w, rtol=case.rtol, atol=case.rtol)


DIFFERENTIABLE = [c for c in CASES if c.derivatives and c.make is not None]


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=[c.name for c in DIFFERENTIABLE])
def test_derivatives_match_differences_and_adjoint(case: Case) -> None:
    ours, _ = functions(case)
    xs = _draw(case)
    if not xs or not _floating(xs):
        return
    term = _compiled(case, ours, xs)
    x = _point(xs)
    y = ct.evaluate(term, x)
    if not _floating(y):
        return
    rng = np.random.default_rng(7)
    t = _tangent(x, rng)
    y0, dy = ct.jvp(term, x, t)
    h = 1e-6
    up, down = ct.evaluate(term, _step(x, t, h)), ct.evaluate(term, _step(x, t, -h))
    for d, u, w in zip(_leaves(dy), _leaves(up), _leaves(down)):
        if d is not None:
            np.testing.assert_allclose(d, (np.asarray(u) - np.asarray(w)) / (2 * h), rtol=case.fd_rtol,
                                       atol=case.fd_rtol)
    c = _tangent(y0, rng)
    _, back = ct.vjp(term, x, c)
    assert np.isclose(_inner(dy, c), _inner(t, back), rtol=1e-9, atol=1e-10)


def _numpy_has(path: str) -> bool:
    try:
        _lookup(np, path)
    except AttributeError:
        return False
    return True


# plain numpy can only reach what numpy has (cnp.relu has no np.relu)
DISPATCHED = [c for c in CASES if c.dispatch and not c.fn.startswith("scipy.") and _numpy_has(c.fn)]


@pytest.mark.parametrize("case", DISPATCHED, ids=[c.name for c in DISPATCHED])
def test_plain_numpy_compiles_to_the_same_term(case: Case) -> None:
    ours, _ = functions(case)
    xs = _draw(case)
    if not xs:
        return
    plain = _lookup(np, case.fn)
    assert _compiled(case, plain, xs) == _compiled(case, ours, xs)


def _public(module: Any, prefix: str = "") -> list[str]:
    names = []
    for name in module.__all__:
        value = getattr(module, name)
        if isinstance(value, type(np)):
            names += _public(value, f"{prefix}{name}.")
        else:
            names.append(prefix + name)
    return names


def test_every_public_function_has_a_case() -> None:
    covered = {c.fn for c in CASES}
    names = _public(cnp)
    try:
        names += _public(importlib.import_module("catterms.scipy"), "scipy.")
    except ImportError:
        pass
    assert sorted(n for n in names if n not in covered) == []


def test_every_public_primitive_is_reached_from_numpy() -> None:
    """Each primitive of the table is what some numpy-named function compiles to."""
    reached: set[str] = set()
    for case in CASES:
        xs = _draw(case)
        if xs:
            term = _compiled(case, functions(case)[0], xs)
            reached |= {n.data[0] for n in term.nodes() if n.op == "prim"}
    loops = {"scan", "cond", "while"}  # what ct.scan, ct.cond… compile to (tests/catterms/test_loops.py)
    assert sorted(name for name, rule in TABLE.items() if rule.public and name not in reached | loops) == []
