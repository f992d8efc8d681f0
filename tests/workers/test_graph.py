"""Plans as Dask graphs, run by Dask's synchronous scheduler in this process: the same numbers as the
in-process interpreters, in every mode, for every way of splitting — fast, so hypothesis can search.
(The cluster suite runs fewer examples through real workers.)"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
from dask.local import get_sync
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import catterms as ct
from catterms.api import prepare
from workers import assemble, plan
from workers.graph import build_graph, term_uses
from workers.wires import pick

from sample_terms import FAMILIES, assert_close, like
from strategies import term_and_input

SPLITS = [dict(threshold_s=0.0, inline_s=0.0), dict(threshold_s=0.0), dict(threshold_s=1e-6), dict(threshold_s=1.0)]


def run_sync(term: Any, x: Any, mode: str, direction: Any = None, **kw: Any) -> tuple[Any, Any]:
    """A job's value and derivative, through the plan, the graph and assembly, without a cluster."""
    x, dom, cod = prepare(term, x)
    p = plan(term, dom, mode, **kw)
    dy = np.ones((), cod.dtype) if mode == "grad" else direction if mode == "vjp" else None
    seeds, parts = assemble.seed(p, dy) if dy is not None else ({}, {})
    g = build_graph(p, "ctjob", lambda kind, path: pick(x if kind == "x" else direction, path), seeds)
    fetched = dict(zip(g.fetch, get_sync(g.dsk, g.fetch))) if g.fetch else {}
    out = assemble.output(p, g, fetched, x, direction)
    if mode == "value":
        return out, None
    if mode == "jvp":
        return out
    return out, assemble.cotangent(p, g, fetched, parts)


def reference(term: Any, x: Any, mode: str, direction: Any) -> tuple[Any, Any]:
    if mode == "value":
        return ct.evaluate(term, x), None
    if mode == "jvp":
        return ct.jvp(term, x, direction)
    if mode == "vjp":
        return ct.vjp(term, x, direction)
    return ct.value_and_grad(term, x)


def direction_for(term: Any, x: Any, mode: str, rng: np.random.Generator) -> Any:
    _, dom, cod = prepare(term, x)
    return like(dom, rng) if mode == "jvp" else like(cod, rng) if mode == "vjp" else None


def check(term: Any, x: Any, mode: str, **kw: Any) -> None:
    direction = direction_for(term, x, mode, np.random.default_rng(1))
    y, d = run_sync(term, x, mode, direction, **kw)
    y0, d0 = reference(term, x, mode, direction)
    assert_close(y, y0)
    if d0 is not None:
        assert_close(d, d0)


@pytest.mark.parametrize("split", SPLITS, ids=["all", "all+tail", "fused", "one"])
@pytest.mark.parametrize("mode", ["value", "jvp", "vjp", "grad"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_families(family, mode, split):
    term, x = FAMILIES[family]()
    check(term, x, mode, **split)


def test_grad_is_bitwise_when_the_sums_are_in_the_same_order():
    term, x = FAMILIES["wide"]()
    y, d = run_sync(term, x, "grad", threshold_s=0.0)
    y0, d0 = ct.value_and_grad(term, x)
    assert y == y0 and all(np.array_equal(a, b) for a, b in zip(d, d0))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(term_and_input(), st.sampled_from(["value", "jvp", "vjp"]), st.sampled_from(SPLITS))
def test_random_terms(ti, mode, split):
    term, x = ti
    direction = direction_for(term, x, mode, np.random.default_rng(2))
    try:
        y0, d0 = reference(term, x, mode, direction)
    except ct.CattermsError:
        assume(False)  # the in-process interpreter refuses it too: nothing to compare
    y, d = run_sync(term, x, mode, direction, **split)
    assert_close(y, y0)
    if d0 is not None:
        assert_close(d, d0)


@pytest.mark.parametrize("split", SPLITS[:3], ids=["all", "all+tail", "fused"])
def test_tasks_send_back_only_the_cotangents_someone_reads(split):
    """A branch of a wide fork reads one member's inputs: its task returns that member's cotangents and
    ``None`` for the rest, not K members' worth of zeros (a K-fold transfer on every job)."""
    term, x = FAMILIES["wide"]()
    _, dom, cod = prepare(term, x)
    p = plan(term, dom, "grad", **split)
    seeds, _ = assemble.seed(p, np.ones((), cod.dtype))
    g = build_graph(p, "ctjob", lambda kind, path: pick(x, path), seeds)
    keys = [k for k, _ in g.cotangents.values()]
    assert len(keys) == len(x)
    for k, got in zip(keys, get_sync(g.dsk, keys)):
        dx = got[1] if k.startswith("vjp") else got
        sent = [member for member in (dx if isinstance(dx, tuple) else (dx,)) if member is not None]
        assert len(sent) == 1 and isinstance(sent[0], np.ndarray)


@pytest.mark.parametrize("mode", ["value", "grad"])
def test_term_uses_are_the_tasks_that_carry_a_subterm(mode):
    term, x = FAMILIES["tree"]()
    _, dom, cod = prepare(term, x)
    p = plan(term, dom, mode, threshold_s=0.0, inline_s=0.0)
    seeds, _ = assemble.seed(p, np.ones((), cod.dtype)) if mode == "grad" else ({}, {})
    g = build_graph(p, "ctjob", lambda kind, path: pick(x, path), seeds)
    carried = [a for task in g.dsk.values() for a in task[1:] if isinstance(a, ct.Term)]
    assert carried and Counter(carried) == Counter(term_uses(p))
