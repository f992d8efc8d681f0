"""The term caches (catterms/caches.py): LRU by entries and by the bytes of the constants their keys hold."""

from __future__ import annotations

import numpy as np
import pytest

import catterms as ct
from catterms import caches
from catterms.caches import cached, constant_bytes, set_cache_limit

MiB = 1 << 20


@pytest.fixture
def budget():
    """Run with a small process-wide budget; the previous one is restored after."""
    before = caches.cache_limit()
    yield set_cache_limit
    set_cache_limit(before)


def heavy(mib: int, seed: float = 0.0) -> ct.Term:
    """``sum ∘ (· + c)`` with a constant of ``mib`` MiB."""
    c = np.full(mib * MiB // 8, seed)
    return ct.compose(ct.prim("sum"), ct.prim("add"), ct.fork(ct.identity, ct.const(c)))


def test_constant_bytes_counts_each_constant_once():
    c = ct.const(np.ones(1000))
    shared = ct.compose(ct.prim("add"), ct.fork(c, c))
    assert constant_bytes(shared) == 8000
    assert constant_bytes(ct.prim("sin")) == 0


def scan_over_matmul(w: np.ndarray) -> tuple[ct.Term, np.ndarray]:
    """``sum`` of the last carry of a 3-step scan ``h ← tanh(h @ w + x)``, and its input: the gradient
    term's loop bodies hold ``w``, not its own nodes (also used by the workers suite)."""
    xs = np.ones((3, w.shape[0]))
    return ct.compile(lambda xs: ct.numpy.sum(ct.scan(lambda h, x: (ct.numpy.tanh(h @ w + x), h),
                                                      ct.numpy.zeros(w.shape[0]), xs)[0]), ct.Array(xs.shape)), xs


def looped_constant(seed: int) -> tuple[ct.Term, np.ndarray]:
    """The gradient term of :func:`scan_over_matmul` over a 32 × 32 matrix (8,192 bytes), and its input."""
    w = np.random.default_rng(seed).standard_normal((32, 32))  # a uniform one is folded to a scalar
    term, xs = scan_over_matmul(w)
    return ct.grad_term(term, ct.Array(xs.shape)), xs


def test_constant_bytes_counts_the_constants_of_loop_bodies():
    term, _ = looped_constant(50)
    assert sum(n.value.nbytes for n in term.nodes() if n.value is not None) < 8192  # not in its own nodes
    assert constant_bytes(term) >= 8192
    checked, xs = looped_constant(25)  # weighed by its type check this time
    ct.evaluate(checked, xs)
    assert constant_bytes(checked) == constant_bytes(term)


def test_a_term_with_a_large_constant_evicts_by_bytes(budget):
    budget(3 * MiB)

    @cached(entries=100)
    def f(term):
        return object()

    a, b = heavy(2, 1.0), heavy(2, 2.0)
    first = f(a)
    assert f(a) is first and f.cache_info().bytes == 2 * MiB
    f(b)  # a and b together are over the budget: a, the least recently used, goes
    info = f.cache_info()
    assert (info.currsize, info.bytes) == (1, 2 * MiB)
    assert f(a) is not first  # computed again
    small = [f(ct.prim("sin")), f(ct.prim("cos"))]  # entries without constants stay, bounded by count only
    assert f(ct.prim("sin")) is small[0] and f.cache_info().currsize == 3


def test_the_budget_is_shared_by_every_cache(budget):
    budget(3 * MiB)

    @cached(entries=10)
    def f(term):
        return 1

    @cached(entries=10)
    def g(term):
        return 2

    f(heavy(2, 3.0))
    g(heavy(2, 4.0))  # evicts f's entry, the least recently used in the process
    assert (f.cache_info().currsize, f.cache_info().bytes) == (0, 0)
    assert g.cache_info().bytes == 2 * MiB
    budget(MiB)  # a lower budget evicts at once
    assert g.cache_info().bytes == 0


def test_an_entry_over_the_whole_budget_is_not_kept(budget):
    budget(MiB)

    @cached(entries=10)
    def f(term):
        return [term]

    f(ct.prim("sin"))
    assert f(heavy(2, 5.0)) is not f(heavy(2, 5.0))
    assert f.cache_info().currsize == 1  # the small entry was not evicted for it


def test_entry_count_bound_clear_and_results_that_are_terms(budget):
    budget(64 * MiB)
    calls = []

    @cached(entries=2)
    def f(n):
        calls.append(n)
        return heavy(1, float(n))  # a derivative-like result: its constants count

    f(1), f(2), f(1), f(3)  # 2 is the least recently used when 3 comes
    assert f.cache_info()[:4] == (1, 3, 2, 2) and f.cache_info().bytes == 2 * MiB
    f(2)
    assert calls == [1, 2, 3, 2]
    f.cache_clear()
    assert f.cache_info() == (0, 0, 2, 0, 0)
    assert f.__wrapped__(7) is not None


def test_the_catterms_caches_are_bounded_by_bytes(budget):
    from catterms.category import folded, postorder
    from catterms.compiler import program
    from catterms.typecheck import typing

    budget(MiB)
    term = heavy(2, 6.0)
    x = np.zeros(2 * MiB // 8)
    assert ct.evaluate(term, x) == pytest.approx(6.0 * x.size)
    assert ct.value_and_grad(term, x)[0] == pytest.approx(6.0 * x.size)  # runs, though nothing of it is kept
    assert sum(fn.cache_info().bytes for fn in (program, typing, folded, postorder)) <= MiB


def test_an_equal_term_that_is_another_object_becomes_the_key(budget, monkeypatch):
    """Looked up with an equal term (compiled again, decoded from the wire), an entry is re-keyed to it, so the
    next lookups find it by identity instead of comparing the terms node by node each time."""
    budget(64 * MiB)
    first, again = heavy(1, 2.0), heavy(1, 2.0)
    assert first == again and first is not again

    @cached(entries=4)
    def f(t):
        return t.size

    f(first)
    compared = []
    real = ct.Term.__eq__
    monkeypatch.setattr(ct.Term, "__eq__", lambda a, b: compared.append(1) or real(a, b))
    assert f(again) == first.size and compared  # found by comparing the terms, once
    before = len(compared)
    for _ in range(4):
        assert f(again) == first.size
    assert f.cache_info()[:2] == (5, 1) and len(compared) == before
    set_cache_limit(MiB // 2)  # evicting by bytes still finds the entry under its new key
    assert f.cache_info().bytes == 0 and f.cache_info()[3] == 0
