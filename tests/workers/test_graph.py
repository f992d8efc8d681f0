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
from catterms.engine import job_term, trees
from workers import Rates, assemble, plan
from workers.graph import build_graph, term_uses



from sample_terms import FAMILIES, assert_close, like, tree
from strategies import term_and_input

SPLITS = [dict(threshold_s=0.0, inline_s=0.0), dict(threshold_s=0.0), dict(threshold_s=1e-6), dict(threshold_s=1.0)]


def run_sync(term: Any, x: Any, mode: str, direction: Any = None, **kw: Any) -> tuple[Any, Any]:
    """A job's value and derivative, through the plan, the graph and assembly, without a cluster."""
    x, dom, cod = prepare(term, x)
    p = plan(term, dom, mode, **kw)
    jx = assemble.job_input(mode, x, dom, cod, direction)
    g = build_graph(p, "ctjob", lambda path: trees.pick(jx, path))
    fetched = dict(zip(g.fetch, get_sync(g.dsk, g.fetch))) if g.fetch else {}
    return assemble.result(p, g, fetched, jx)


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


def test_grad_is_bitwise_the_value_of_the_gradient_term():
    """Split into tasks at every fork, a gradient job computes exactly what its derivative term computes
    in one process (and that is within rounding of reverse mode in-process: test_families)."""
    term, x = FAMILIES["wide"]()
    y, d = run_sync(term, x, "grad", threshold_s=0.0)
    _, dom, _ = prepare(term, x)
    y0, d0 = ct.evaluate(job_term(term, dom, "grad")[0], x)
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
    """A branch of a wide fork reads one member's inputs: what the tasks send back for the gradient is
    each member's cotangents once, not K members' worth of zeros (a K-fold transfer on every job)."""
    term, x = FAMILIES["wide"]()
    _, dom, cod = prepare(term, x)
    p = plan(term, dom, "grad", **split)
    g = build_graph(p, "ctjob", lambda path: trees.pick(x, path))
    sent = [a for v in get_sync(g.dsk, g.fetch) for a in trees.leaves(v) if isinstance(a, np.ndarray)]
    assert not [a for a in sent if a.size > 1 and not a.any()]  # no member's worth of zeros
    assert sum(a.nbytes for a in sent) < 3 * sum(a.nbytes for a in x)  # the gradient, and what the tail reads


@pytest.mark.parametrize("mode", ["value", "grad"])
def test_term_uses_are_the_tasks_that_carry_a_subterm(mode):
    term, x = FAMILIES["tree"]()
    _, dom, cod = prepare(term, x)
    p = plan(term, dom, mode, threshold_s=0.0, inline_s=0.0)
    g = build_graph(p, "ctjob", lambda path: trees.pick(x, path))
    carried = [a for task in g.dsk.values() for a in task[1:] if isinstance(a, ct.Term)]
    assert carried and Counter(carried) == Counter(term_uses(p))


def test_a_reader_of_part_of_a_fused_step_reads_a_part_task():
    """A tree's gradient on two workers: each pair of leaves is one task that also returns the residuals
    its reverse pass reads; the root reads only the pair's join, through a part task on the pair's worker,
    so the residuals do not move to the root's worker. The same numbers as in process."""
    term, x = tree(2, batch=64, width=64)
    kw = dict(rate=Rates(elementwise=1e9, matmul=1e9, call=0.0), threshold_s=1e-6, workers=2)
    x, dom, cod = prepare(term, x)
    p = plan(term, dom, "grad", **kw)
    g = build_graph(p, "ctjob", lambda path: trees.pick(x, path))
    assert g.parts and g.tasks == len(g.dsk) - len(g.parts) == sum(not s.tail for s in p.steps.values())
    for k in g.parts:
        part, whole = g.dsk[k]
        assert part.paths < {q for q, _ in trees.paths(p.steps[g.info[whole]].cod)}
    value, derivative = run_sync(term, x, "grad", **kw)
    y0, d0 = ct.value_and_grad(term, x)
    assert_close(value, y0)
    assert_close(derivative, d0)
