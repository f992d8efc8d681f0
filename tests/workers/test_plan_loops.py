"""Loops in the plan (no cluster): a scan whose body forks unrolls into its steps, with exact dependencies and
the term's numbers; a light body, one worker or too many tasks keep the loop one task."""

from __future__ import annotations

import numpy as np
import pytest

import catterms as ct
from catterms.api import prepare
from catterms.derivatives import derivative
from workers import loops, plan
from workers.bench import in_process

from sample_terms import assert_close, forked_scan
from test_plan import FLAT


def planned(term, x, **kw):
    _, dom, _ = prepare(term, x)
    # light enough for the tail: the stack of the ys, not a step of the body
    return plan(term, dom, "value", rate=FLAT, **{"threshold_s": 1e-9, "inline_s": 1e-6, "fused": False, **kw})


def scans(step):
    return [n for n in step.term.nodes() if n.op == "prim" and n.data[0] == "scan"]


def test_a_scan_whose_body_forks_plans_into_its_steps_branch_by_branch():
    n = 5
    term, x = forked_scan(n)
    p = planned(term, x)
    rows, *body, stack = p.steps.values()
    assert rows.name == "scan rows" and rows.sources == [] and stack.name == "scan stack"
    assert len(body) == 2 * n and p.tasks == 2 * n + 1 and not any(scans(s) for s in body)
    for j in range(n):
        for k in range(2):
            s = body[2 * j + k]
            assert f"step {j} > " in s.where
            # its own state from the step before (the input's at the first step) and its row of the inputs
            assert s.sources == ([body[2 * (j - 1) + k].index] if j else []) + [rows.index]
    assert stack.tail and stack.sources == [body[2 * j].index for j in range(n)]
    assert_close(in_process(p, x), ct.evaluate(term, x))


@pytest.mark.parametrize("reverse, save", [(True, False), (False, True), (True, True)])
def test_unrolled_steps_run_in_the_loop_order_and_save_the_carries(reverse, save):
    term, x = forked_scan(4, reverse=reverse, save=save)
    p = planned(term, x)
    assert sum(" > step " in s.where for s in p.steps.values()) == 2 * 4  # two branches a step
    assert_close(in_process(p, x), ct.evaluate(term, x))


def test_a_gradient_term_unrolls_both_its_loops():
    """The derivative of a loop is a loop: the gradient term's forward scan (saving its carries) and its
    backward scan (the body's reverse mode, the other way) both split where their bodies fork."""
    term, x = forked_scan(4)
    loss = ct.compose(ct.prim("add"), ct.fork(ct.compose(ct.prim("sum"), ct.proj(2, 3)),
                                              ct.compose(ct.prim("sum"), ct.proj(1, 3))), term)
    _, dom, _ = prepare(loss, x)
    g = derivative(loss, dom, "grad")
    p = planned(g, x)
    assert not any(scans(s) for s in p.steps.values()) and p.tasks > 2 * 2 * 4
    value, gradient = in_process(p, x)
    assert_close(value, ct.evaluate(loss, x))
    assert_close(gradient, ct.grad(loss, x), rtol=1e-10)


def test_a_loop_whose_body_does_not_pay_to_split_stays_one_task():
    W = np.eye(8) / 2
    body = ct.compose(ct.dup, ct.prim("tanh"), ct.prim("add"),
                      ct.fork(ct.compose(ct.prim("matmul"), ct.fork(ct.proj(1, 3), ct.const(W))), ct.proj(2, 3)))
    scan = ct.prim("scan", body=body, nconst=0, ncarry=1, length=6)
    term = ct.compose(scan, ct.fork(ct.const(np.int64(0)), ct.proj(0, 2), ct.proj(1, 2)))
    x = (np.ones((4, 8)), np.ones((6, 4, 8)))
    p = planned(term, x)
    assert p.tasks == 1 and [len(scans(s)) for s in p.steps.values()] == [1]
    assert_close(in_process(p, x), ct.evaluate(term, x))


def test_one_worker_or_too_many_tasks_keep_the_loop_one_task(monkeypatch):
    term, x = forked_scan(5)
    assert planned(term, x, workers=1).tasks == 1
    monkeypatch.setattr(loops, "MAX_TASKS", 2 * 5)  # the rows step and 2 a step do not fit
    p = planned(term, x)
    assert p.tasks == 1 and [len(scans(s)) for s in p.steps.values()] == [1]
    assert_close(in_process(p, x), ct.evaluate(term, x))
