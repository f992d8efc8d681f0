"""The pure planner: plan shapes, exact dependencies, fusion, roles, estimates (no cluster)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import catterms as ct
from catterms.api import prepare
from catterms.engine import job_term, on_demand
from catterms.typecheck import checked, cost
from workers import Rates, plan
from workers.plan import Item, Planner
from catterms.engine import trees
from workers.demand import DEMAND
from workers.wires import INPUT, Lit, Ref, needed, part

from sample_terms import data_parallel, deep, layer, tree, wide
from strategies import term_and_input, terms_on

#: Deterministic estimates: one op = 1 ns, matmul flops as fast as elementwise, no call overhead,
#: reverse mode three times the value.
FLAT = Rates(elementwise=1e9, matmul=1e9, call=0.0, forward=2.0, reverse=3.0)


def planned(term, x, mode="value", **kw):
    """The planner's split itself (``fused=True`` to see what the Executor runs: tests/workers/test_fuse.py)."""
    _, dom, _ = prepare(term, x)
    return plan(term, dom, mode, rate=FLAT, **{"fused": False, **kw})


def refs(step):
    return [w for w in trees.leaves(step.wire) if isinstance(w, Ref)]


def test_fork_of_heavy_branches_is_one_independent_step_each():
    term, x = wide(4, batch=64, width=32)
    p = planned(term, x, threshold_s=1e-9, inline_s=0.0)
    *branches, total = p.steps.values()
    assert len(branches) == 4 and total.term == ct.jamn(4)
    for k, b in enumerate(branches):
        assert b.sources == []  # reads the job input only: no step waits for another
        assert {w.path for w in refs(b)} == {(k,)}  # and only its own member's weights
    assert total.sources == [b.index for b in branches]


def test_second_stage_branch_waits_only_for_what_it_reads():
    W = [np.eye(3) * (k + 1) for k in range(3)]
    term = ct.compose(ct.jamn(3), ct.cross(*(layer(w) for w in W)), ct.fork(*(layer(w) for w in W)))
    p = planned(term, np.ones((2, 3)), threshold_s=1e-9, inline_s=0.0)
    steps = list(p.steps.values())
    first, second = steps[:3], steps[3:6]
    assert all(s.sources == [] for s in first)
    assert [s.sources for s in second] == [[f.index] for f in first]
    assert steps[6].sources == [s.index for s in second]


@pytest.mark.parametrize("mode", ["value", "jvp", "vjp", "grad"])
def test_plumbing_makes_no_steps(mode):
    term = ct.compose(ct.fork(ct.compose(ct.exr, ct.exl), ct.compose(ct.exl, ct.exl), ct.const(2.0)),
                      ct.dup)
    x = (np.float64(1.0), np.float64(2.0))
    p = planned(term, x, mode if mode != "grad" else "vjp", threshold_s=0.0)
    assert p.steps == {} and p.tasks == 0  # the derivative term of plumbing is plumbing
    at = () if mode == "value" else (0,)  # a derivative term's input is (x, direction), its output (y, dy)
    out = trees.paths(p.output if mode == "value" else p.output[0])
    assert [(w.source, w.path) for _, w in out[:2]] == [(INPUT, at + (1,)), (INPUT, at + (0,))]
    assert isinstance(out[2][1], Lit)


def test_a_tiny_term_is_one_task():
    term = ct.compose(ct.prim("sum"), ct.prim("sin"), ct.prim("mul"))
    x = (np.ones(3), np.ones(3))
    _, dom, _ = prepare(term, x)
    for mode in ("value", "grad"):
        p = planned(term, x, mode)
        assert p.tasks == 1 and p.steps[0].term == job_term(term, dom, mode)[0] == p.term


def test_a_chain_is_never_split_unless_the_threshold_is_zero():
    term, x = deep(6, batch=64, width=64)
    assert len(planned(term, x, threshold_s=1e-9).steps) == 1  # no parallel slack: nothing to gain
    assert len(planned(term, x, threshold_s=0.0).steps) == 6 * 2 + 2  # matmul and tanh per layer, pow, sum


def test_light_branches_are_grouped_into_balanced_tasks_of_at_least_the_threshold():
    term, x = data_parallel(8, batch=32, width=16)
    split = planned(term, x, threshold_s=1e-9, inline_s=0.0)
    assert len(split.steps) == 8 + 1
    branch_s = split.steps[0].est_s
    p = planned(term, x, threshold_s=2.5 * branch_s, inline_s=0.0)
    *groups, total = p.steps.values()
    assert [g.term.op for g in groups] == ["fork"] * 3
    assert [len(g.term.args) for g in groups] == [3, 3, 2]
    assert sum(g.est_s for g in groups) == pytest.approx(8 * branch_s)
    assert total.sources == [g.index for g in groups]


def test_estimates_are_the_cost_functor_in_seconds():
    term, x = tree(3)
    _, dom, _ = prepare(term, x)
    c = cost(term, dom)
    p = planned(term, x, "value", threshold_s=1e-9, inline_s=0.0)
    assert p.est_work_s == pytest.approx(c.work * 1e-9)
    assert p.est_span_s < p.est_work_s
    assert sum(s.est_s for s in p.steps.values()) == pytest.approx(p.est_work_s)
    g = planned(term, x, "grad", threshold_s=1e-9, inline_s=0.0)  # what runs: the gradient term, priced as any
    assert g.est_work_s == pytest.approx(cost(g.term, dom).work * 1e-9) and g.est_work_s > p.est_work_s


def test_matmul_is_priced_at_the_blas_rate():
    fast_blas = Rates(elementwise=1e9, matmul=1e11, call=0.0)
    dom = (ct.Array((64, 64)), ct.Array((64, 64)))
    c = cost(ct.prim("matmul"), dom)
    assert c.flops == c.work and c.calls == 1
    assert fast_blas.seconds(c).work == pytest.approx(c.work / 1e11)
    assert fast_blas.seconds(cost(ct.prim("tanh"), dom[0])).work == pytest.approx(8 * 64 * 64 / 1e9)


def test_a_gradient_plan_is_the_plan_of_the_gradient_term():
    term, x = tree(2)
    _, dom, _ = prepare(term, x)
    g, gdom = job_term(term, dom, "grad")
    p, q = planned(term, x, "grad", threshold_s=1e-9), plan(g, gdom, "value", rate=FLAT, threshold_s=1e-9, fused=False)
    assert p.term == g and [(s.term, s.sources) for s in p.steps.values()] == [(s.term, s.sources) for s in q.steps.values()]


def test_unused_work_is_pruned():
    term = ct.compose(ct.exl, ct.fork(ct.prim("sin"), ct.prim("cos")))
    p = planned(term, np.ones(3), threshold_s=0.0)
    assert [s.term for s in p.steps.values()] == [ct.prim("sin")]


def test_planning_a_100k_node_term_completes():
    chain = ct.compose(*[ct.prim("sin"), ct.prim("cos")] * 50_000)
    assert chain.size > 100_000
    assert len(planned(chain, np.ones(4)).steps) == 1
    wide_term = ct.compose(ct.jamn(30_000), ct.fork(*(ct.compose(ct.prim("sin"), ct.scale(k)) for k in range(30_000))))
    assert wide_term.size > 90_000
    p = planned(wide_term, np.ones(4), threshold_s=1e-9)
    assert 1 < len(p.steps) <= 30_001


def test_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        planned(ct.prim("sin"), np.ones(2), "hessian")


def test_planning_a_deeply_nested_term():
    term = ct.prim("sin")
    for _ in range(10_000):
        term = ct.compose(ct.jam, ct.fork(term, ct.prim("cos")))
    assert term.depth > 20_000
    assert len(planned(term, np.ones(3), threshold_s=0.0).steps) == 1 + 2 * 10_000


def test_a_shared_subterm_at_two_types_is_priced_at_each():
    # one node object used on f64[3] and on f64[1000]: its cost memo must keep both, not mix them up
    f = ct.compose(ct.prim("sin"), ct.prim("exp"))
    term = ct.compose(ct.join(ct.compose(ct.prim("sum"), f), ct.compose(ct.prim("sum"), f)), ct.identity)
    x = (np.ones(3), np.ones(1000))
    p = planned(term, x, "value", threshold_s=float("inf"))
    assert p.est_work_s == pytest.approx(cost(term, prepare(term, x)[1]).work * 1e-9)


@pytest.mark.parametrize("workers, steps", [(math.inf, 8), (4, 8), (2, 4), (1, 1)])
def test_branches_share_the_workers(workers, steps):
    # a tree of depth 2: the root's two subtrees each hold two leaves. With two workers each subtree gets
    # one, so it stays one step (no hop to a join, no activations moved); with four or more it is split
    term, x = tree(2)
    p = planned(term, x, "value", threshold_s=1e-9, inline_s=0.0, workers=workers)
    assert len(p.steps) == steps


@pytest.mark.parametrize("workers, groups", [(math.inf, 3), (4, 3), (2, 2)])
def test_light_branches_come_in_whole_rounds_of_the_workers(workers, groups):
    term, x = data_parallel(6)
    total = planned(term, x, "value", threshold_s=math.inf).est_work_s  # one step: the whole term
    p = planned(term, x, "value", threshold_s=total / 3.5, inline_s=0.0, workers=workers)
    assert len([s for s in p.steps.values() if not s.sources]) == groups  # and the sum, reading them


def test_subterms_too_light_to_split_get_no_stage_of_their_own(monkeypatch):
    made = []
    at = Planner.at
    monkeypatch.setattr(Planner, "at", lambda self, m, node, where: made.append(node.op) or at(self, m, node, where))
    K = 2_000
    term = ct.compose(ct.jamn(K), ct.fork(*(ct.compose(ct.prim("sin"), ct.scale(k + 1.0)) for k in range(K))))
    p = planned(term, np.ones(64), threshold_s=1e-5)
    assert len(p.steps) > 2  # split into groups of branches, and their sum
    assert len(made) < 10  # the root, the fork, the sum: the 6,000 nodes under the fork were never visited


def test_a_term_equal_to_the_checked_one_and_a_second_domain_plan_alike():
    term, x = wide(3)
    again = ct.loads(ct.dumps(term))
    assert again == term and again is not term
    p = planned(term, x, threshold_s=1e-9)
    q = planned(again, x, threshold_s=1e-9)  # its nodes are not those the check recorded
    assert [(s.name, s.est_s, s.sources) for s in q.steps.values()] == [(s.name, s.est_s, s.sources) for s in p.steps.values()]
    bigger = tuple(np.ones((a.shape[0], 2 * a.shape[1])) for a in x)
    r = planned(term, bigger, threshold_s=1e-9)  # the same nodes, now also at another type
    assert r.est_work_s == pytest.approx(cost(term, prepare(term, bigger)[1]).work * 1e-9) != p.est_work_s


def _chunks_by_definition(items, threshold_s, side_by_side):
    """The cut rule, item by item: close a group after a computing item once the running total reaches
    its share of the whole (with a zero threshold: after every computing item)."""
    costs = [i.work for i in items]
    computing = sum(not i.plumbing for i in items)
    total = sum(costs)
    if threshold_s > 0:
        n = max(1, min(computing, int(total // threshold_s)))
        if math.isfinite(side_by_side) and n > side_by_side > 1:
            n -= n % int(side_by_side)
    else:
        n = max(1, computing)
    out, acc, seen = [[]], 0.0, 0
    for item, c in zip(items, costs):
        out[-1].append(item)
        acc += c
        seen += not item.plumbing
        cut = seen >= len(out) if threshold_s <= 0 else acc >= len(out) * total / n * (1 - 1e-9)
        if cut and len(out) < n and not item.plumbing:
            out.append([])
    if not out[-1]:
        out.pop()
    return out


@given(st.lists(st.tuples(st.floats(0.0, 0.2), st.booleans()), max_size=40),
       st.sampled_from([0.0, 0.01, 0.05, 0.3]), st.sampled_from([1, 2, 3, 16, math.inf]))
@settings(max_examples=300, deadline=None)
def test_chunks_cut_where_the_running_total_reaches_each_share(spec, threshold_s, side_by_side):
    items = [Item(None, k, None, None, 0.0 if plumbing else work, plumbing) for k, (work, plumbing) in enumerate(spec)]
    planner = Planner.__new__(Planner)
    planner.threshold_s = threshold_s
    assert planner.chunks(items, side_by_side) == _chunks_by_definition(items, threshold_s, side_by_side)


def test_an_ill_typed_term_is_refused_with_the_node_named():
    term = ct.compose(ct.prim("matmul"), ct.fork(ct.identity, ct.const(np.ones((4, 2)))))
    with pytest.raises(ct.TermTypeError, match="matmul"):
        plan(term, ct.Array((3, 3)), "grad")


def test_a_constant_divisor_plans_like_a_constant_factor():
    """``loss / N`` is ``scale (1/N)``, not ``div ∘ (id △ const N)``: the data-parallel gradient keeps one task
    per shard (the divisor used to split it into 13 tasks instead of 4)."""
    import catterms.numpy as cnp

    shards = [np.random.default_rng(k).standard_normal((64, 32)) for k in range(4)]

    def total(W):
        return sum(cnp.mean(cnp.tanh(X @ W) ** 2) for X in shards)

    W = np.ones((32, 3))
    divided = ct.compile(lambda W: total(W) / 4, W)
    scaled = ct.compile(lambda W: total(W) * 0.25, W)
    assert divided == scaled
    p = planned(divided, W, "vjp", threshold_s=1e-9, inline_s=0.0, workers=4, fused=True)
    assert sum(1 for s in p.steps.values() if s.term.op != "jam") <= 5


def _mask(t, draw):
    return draw(st.booleans()) if isinstance(t, ct.Array) else tuple(_mask(c, draw) for c in t)


def _kept(value, mask):
    """The arrays of ``value`` that ``mask`` marks, in order."""
    if isinstance(mask, bool):
        return [value] if mask else []
    return [a for v, m in zip(value, mask, strict=True) for a in _kept(v, m)]


def _perturbed(x, reads):
    """``x`` with every array that ``reads`` leaves out changed (a ``bool`` for a tuple: all of it or none)."""
    if not isinstance(x, tuple):
        return x if reads else x + 1.5
    return tuple(_perturbed(v, part(reads, i)) for i, v in enumerate(x))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(term_and_input(fuel=16), st.data())
def test_what_a_subterm_does_not_read_does_not_change_what_is_needed_of_it(ti, data):
    """The demand oracle: change every input array the planner says is not read (it is not sent to the
    task) and the needed outputs stay the same."""
    term, x = ti
    x, dom, cod = prepare(term, x)
    typing = checked(term, dom)
    needed = _mask(cod, data.draw)
    reads = Planner(typing, FLAT, 0.0, math.inf).demand(typing.root, needed)
    try:
        y, again = ct.evaluate(term, x), ct.evaluate(term, _perturbed(x, reads))
    except ct.CattermsError:
        assume(False)
    for a, b in zip(_kept(y, needed), _kept(again, needed), strict=True):
        assert np.array_equal(a, b, equal_nan=True)




def _dense(m, t):
    """A mask as one bool per array of ``t`` (compact, sparse and dense masks compare equal)."""
    return needed(m) if isinstance(t, ct.Array) else tuple(_dense(part(m, i), c) for i, c in enumerate(t))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(term_and_input(fuel=8), st.data())
def test_the_demand_of_fork_and_join_is_that_of_their_derived_forms(ti, data):
    """The demand gives ``fork`` directly (it asks branches only until one reads everything): it agrees with
    ``(f × g) ∘ dup``, and ``join`` with ``jam ∘ (f × f)``."""
    f, x = ti
    dom = ct.types.type_of(x)
    g = data.draw(terms_on(dom, fuel=8))
    derived = lambda *fs: ct.Term("compose", (), fs)  # noqa: E731 (unflattened: the law, not the builder)
    for direct, other, ty in [(ct.fork(f, g), derived(ct.dup, ct.cross(f, g)), dom),
                              (ct.join(f, f), derived(ct.cross(f, f), ct.jam), (dom, dom))]:
        try:
            cod = ct.infer(direct, ty)
        except ct.CattermsError:
            assume(False)
        needed_out = _mask(cod, data.draw)
        assert _dense(on_demand(direct, DEMAND)(needed_out), ty) == _dense(on_demand(other, DEMAND)(needed_out), ty)
