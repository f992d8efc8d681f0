"""A job's term is type-checked once: its admission check (``prepare``) keeps the check, and its estimate,
its planner and its derivative term read it. Counted at the check's rule dispatch, per node and type."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

import catterms as ct
from catterms import typecheck
from catterms.api import prepare
from catterms.engine import job_term
from workers import Rates
from workers.admission import check_limits
from workers.plan import plan

FLAT = Rates(elementwise=1e9, matmul=1e9, call=0.0, forward=2.0, reverse=3.0)


@pytest.fixture
def dispatched(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[int, Any]]:
    """How many times the check applied a node's rule at a type, by ``(id(node), type)``."""
    counts: Counter[tuple[int, Any]] = Counter()
    alive: list[ct.Term] = []  # ids stay those of the nodes counted

    def counting(rule: typecheck.NodeRule) -> typecheck.NodeRule:
        def counted(typed: typecheck.Typed, t: Any, memo: typecheck.Memo, prims: typecheck.Prims) -> Any:
            alive.append(typed.node)
            counts[id(typed.node), t] += 1
            return rule(typed, t, memo, prims)

        return counted

    for op, rule in list(typecheck._RULES.items()):
        monkeypatch.setitem(typecheck._RULES, op, counting(rule))
    return counts


def wide(k: int, salt: float) -> ct.Term:
    """``jam ∘ (sin ∘ scale_i △ …)``, new constants per test so that no cache of another test answers."""
    return ct.compose(ct.jamn(k), ct.fork(*(ct.compose(ct.prim("sin"), ct.scale(i + salt)) for i in range(k))))


def nodes_of(term: ct.Term) -> set[int]:
    return {id(n) for n in term.nodes()}


@pytest.mark.parametrize("mode", ["value", "vjp", "grad"])
def test_a_job_checks_each_node_once(dispatched: Counter[tuple[int, Any]], mode: str) -> None:
    term = ct.compose(ct.prim("sum"), wide(40, {"value": 0.25, "vjp": 0.5, "grad": 0.75}[mode]))
    x = np.linspace(0.0, 1.0, 8)
    est = check_limits(term, x, mode, rates=FLAT)  # prepare, estimate, plan: a job's admission
    _, dom, _ = prepare(term, x)
    p = plan(term, dom, mode, rate=FLAT)  # as the Executor plans it after admitting it
    assert est.tasks == p.tasks
    assert max(dispatched.values()) == 1, "a node was checked twice at one type"
    checked_nodes = {i for i, _ in dispatched}
    assert nodes_of(term) <= checked_nodes  # complete: every node of the job's term was checked
    if mode != "value":
        derived, _ = job_term(term, dom, mode)
        assert nodes_of(derived) <= checked_nodes  # the term the cluster runs, checked once too


def test_the_in_process_check_keeps_nothing_and_reuses_a_kept_check(dispatched: Counter[tuple[int, Any]]) -> None:
    term, dom = wide(30, 0.125), ct.Array((4,))
    ct.infer(term, dom)
    assert typecheck._KEPT.peek((term,)) is None  # ct.infer keeps no node's check for the collector
    again = wide(30, 0.375)
    prepare(again, np.zeros(4))
    before = sum(dispatched.values())
    kept = typecheck.checked(again, dom).morphism.first
    assert kept is not None and ct.infer(again, dom) == ct.Array((4,)) and ct.cost(again, dom) == kept[1][1]
    assert sum(dispatched.values()) == before  # read off the job's kept check
