"""Fusion (workers/fuse.py): a step fused into a neighbour is a term that type-checks and computes what the
two steps computed; a derivative term's forward and backward halves of one branch become one task, so its
residuals never leave the worker that made them (no cluster)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import catterms as ct
from catterms.api import prepare
from catterms.engine import trees
from workers import Rates, assemble, plan
from workers.bench import in_process
from workers.wires import Ref

from sample_terms import FAMILIES, assert_close, data_parallel, like, tree, wide
from strategies import term_and_input

FLAT = Rates(elementwise=1e9, matmul=1e9, call=0.0)


def job_input(mode, x, dom, cod):
    """The input of the job's term, with a random direction for jvp and vjp."""
    direction = {"jvp": dom, "vjp": cod}.get(mode)
    return assemble.job_input(mode, x, dom, cod, None if direction is None else like(direction, np.random.default_rng(0)))


@pytest.mark.parametrize("mode", ["value", "jvp", "vjp", "grad"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_plan_terms_type_check_and_compute_the_job_term(family, mode):
    term, x = FAMILIES[family]()
    x, dom, cod = prepare(term, x)
    if mode == "grad" and not (isinstance(cod, ct.Array) and cod.shape == ()):
        pytest.skip("grad needs a scalar output")
    p = plan(term, dom, mode, rate=FLAT, threshold_s=1e-6, workers=2)
    for s in p.steps.values():
        assert ct.infer(s.term, s.dom) == s.cod, s.where
    jx = job_input(mode, x, dom, cod)
    assert_close(in_process(p, jx), ct.evaluate(p.term, jx))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(term_and_input(), st.sampled_from(["value", "jvp", "vjp"]), st.sampled_from([1e-7, 1e-6, 1e-5]))
def test_fused_plans_of_random_terms_compute_the_job_term(ti, mode, threshold_s):
    term, x = ti
    try:
        x, dom, cod = prepare(term, x)
        p = plan(term, dom, mode, rate=FLAT, threshold_s=threshold_s, workers=2)
        jx = job_input(mode, x, dom, cod)
        expected = ct.evaluate(p.term, jx)
    except ct.CattermsError:
        return  # refused in process too: nothing to compare
    assert_close(in_process(p, jx), expected)


@pytest.mark.parametrize("family", [wide, data_parallel])
def test_a_members_forward_and_backward_are_one_task(family):
    """K independent members: the gradient term's plan has one task per member (its loss, coefficient and
    backward pass fused; the residuals stay in it), and only light work at the output besides."""
    K = 4
    term, x = family(K, batch=256, width=256)
    _, dom, _ = prepare(term, x)
    raw = plan(term, dom, "grad", rate=FLAT, threshold_s=1e-6, workers=2, fused=False)
    p = plan(term, dom, "grad", rate=FLAT, threshold_s=1e-6, workers=2)
    members = [s for s in p.steps.values() if not s.sources]  # side by side, reading the input only
    assert len(members) == K and all(s.output or s.tail for s in p.steps.values() if s.sources)
    assert len(raw.steps) > len(p.steps)
    assert sum(s.est_s for s in p.steps.values()) == pytest.approx(sum(s.est_s for s in raw.steps.values()))


@pytest.mark.parametrize("mode", ["grad", "vjp"])
def test_a_trees_leaves_are_computed_pairwise_where_their_join_runs(mode):
    """Four leaves on two workers: the derivative term computes the leaves side by side (not as the tree's
    subtrees, which its value plan keeps whole), and each task computes two leaves and their join, the
    pair's reverse pass running after it on their residuals, so no activation moves between workers below
    the root; at as many workers as leaves, each leaf is a task of its own."""
    term, x = tree(2, batch=64, width=64)
    x, dom, cod = prepare(term, x)
    pairs = plan(term, dom, mode, rate=FLAT, threshold_s=1e-6, workers=2)
    assert [len(s.name.split("|")) for s in pairs.steps.values() if not s.sources] == [2, 2]
    assert all(len(s.sources) <= 2 for s in pairs.steps.values())
    jx = job_input(mode, x, dom, cod)
    assert_close(in_process(pairs, jx), ct.evaluate(pairs.term, jx))
    apart = plan(term, dom, mode, rate=FLAT, threshold_s=1e-6, workers=4)
    assert "|" not in "".join(s.name for s in apart.steps.values())


@pytest.mark.parametrize("mode", ["grad", "vjp"])
def test_a_light_root_is_computed_again_by_each_reverse_half(mode):
    """A tree's root, lighter than a task, read by the two pairs' reverse passes on two workers: each computes
    it from both joins (they cross at once), instead of one join going to the root's task and a cotangent
    coming back; a root heavier than the threshold stays a step of its own."""
    term, x = tree(2, batch=256, width=256)
    x, dom, cod = prepare(term, x)
    jx = job_input(mode, x, dom, cod)
    again = plan(term, dom, mode, rate=FLAT, threshold_s=1e-3, workers=2)
    pairs = [s.index for s in again.steps.values() if not s.sources]
    halves = [s for s in again.steps.values() if sorted(s.sources) == sorted(pairs)]
    assert len(pairs) == len(halves) == 2 and all(s.est_s > 0.5 * max(p.est_s for p in again.steps.values())
                                                  for s in halves)
    assert_close(in_process(again, jx), ct.evaluate(again.term, jx))
    alone = plan(term, dom, mode, rate=FLAT, threshold_s=3e-4, workers=2)
    leaves = sorted(s.index for s in alone.steps.values() if not s.sources)
    assert leaves == sorted(pairs) and not any(sorted(s.sources) == leaves for s in alone.steps.values() if s.est_s > 1e-2)
    assert_close(in_process(alone, jx), ct.evaluate(alone.term, jx))


def test_a_zero_threshold_fuses_nothing():
    term, x = wide(3, batch=32, width=8)
    _, dom, _ = prepare(term, x)
    a = plan(term, dom, "grad", threshold_s=0.0)
    b = plan(term, dom, "grad", threshold_s=0.0, fused=False)
    assert [s.term for s in a.steps.values()] == [s.term for s in b.steps.values()]


@pytest.mark.parametrize("mode", ["grad", "vjp"])
def test_every_array_a_step_returns_is_read(mode):
    """Dask moves a task's result whole: a fused step returns what its readers (or the output) read, not
    its first half's residuals."""
    term, x = wide(4, batch=256, width=256)
    _, dom, cod = prepare(term, x)
    p = plan(term, dom, mode, rate=FLAT, threshold_s=1e-6, workers=2)
    read = {(w.source, w.path) for wire in [p.output, *(s.wire for s in p.steps.values())]
            for w in trees.leaves(wire) if isinstance(w, Ref)}
    for s in p.steps.values():
        assert all((s.index, path) in read for path, _ in trees.paths(s.cod)), s.where
    jx = job_input(mode, x, dom, cod)
    assert_close(in_process(p, jx), ct.evaluate(p.term, jx))
