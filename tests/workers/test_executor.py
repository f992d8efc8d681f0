"""The Executor on a real LocalCluster (processes, 2 single-threaded workers, zero fusion threshold so
every term splits as far as it can): same numbers as in-process in every mode, reports, errors, jobs
in flight, progress, cancellation, timeouts, scattering."""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import CancelledError

import numpy as np
import pytest
from distributed import Future
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import catterms as ct
from workers import Executor
from catterms.derivatives import nones
from workers.bodies import term_bytes
from workers.estimate import Rates
from workers.executor import carried

from sample_terms import FAMILIES, assert_close, data_parallel, forked_scan, tree
from strategies import term_and_input
from test_caches import scan_over_matmul
from test_graph import direction_for, reference


@pytest.fixture(scope="session")
def ex():
    with Executor(n_workers=2, threshold_s=0.0, dashboard_address="127.0.0.1:0", no_workers_timeout=10) as e:
        yield e


def slow_term(K: int = 4, n: int = 200_000, depth: int = 20) -> tuple[ct.Term, np.ndarray]:
    """K branches of an elementwise chain on long vectors: about a second of work in all."""
    chain = ct.compose(ct.prim("sum"), *[ct.prim("sin"), ct.prim("cos")] * (depth // 2))
    term = ct.compose(ct.jamn(K), ct.fork(*(ct.compose(chain, ct.scale(k + 1.0)) for k in range(K))))
    return term, np.linspace(-1, 1, n)


def run_and_compare(ex, term, x, mode, **kw):
    direction = direction_for(term, x, mode, np.random.default_rng(3))
    args = {"tangent": direction} if mode == "jvp" else {"cotangent": direction} if mode == "vjp" else {}
    result = ex.run(term, x, mode, timeout=120, **args, **kw)
    y0, d0 = reference(term, x, mode, direction)
    assert_close(result.value, y0)
    if d0 is None:
        assert result.derivative is None
    else:
        assert_close(result.derivative, d0)
    return result


@pytest.mark.parametrize("mode", ["value", "jvp", "vjp", "grad"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_same_numbers_as_in_process(ex, family, mode):
    term, x = FAMILIES[family]()
    result = run_and_compare(ex, term, x, mode)
    assert result.report["tasks"] == ex.plan(term, x, mode).tasks > 1


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_derivative_terms_and_hvp_jobs_give_the_in_process_numbers(ex, family):
    """A derivative term is an ordinary term: its value job splits at its forks like any other and gives
    the numbers ct.grad gives; an hvp job is the value job of the Hessian-vector-product term."""
    term, x = FAMILIES[family]()
    dom = ct.types.type_of(ct.api.as_value(x))
    if ct.infer(term, dom) != ct.Array(()):
        pytest.skip("hvp is of a scalar function")
    g = ct.grad_term(term, dom)
    result = ex.run(g, x, "value", timeout=120)
    assert_close(nones(result.value, dom), ct.grad(term, x))  # in a term, integer parts' zeros stand for None
    assert result.report["tasks"] == ex.plan(g, x, "value").tasks >= 1
    v = direction_for(term, x, "jvp", np.random.default_rng(5))
    hvp = ex.run(term, x, "hvp", tangent=v, timeout=120)
    assert hvp.report["mode"] == "hvp"
    assert_close(hvp.value, ct.grad(term, x))
    assert_close(hvp.derivative, ct.hvp(term, x, v))


def test_loops_on_dask_give_the_in_process_numbers(ex):
    """A fork of loops (ct.scan, ct.while_loop): each loop is one sequential step of the plan, the branches
    split, in every mode; the gradient term of a loop is a loop and runs as a value job."""
    import catterms.numpy as cnp

    def member(w, xs, k):
        h, ys = ct.scan(lambda h, x: (cnp.tanh(h * w * k + x), cnp.sum(h)), cnp.zeros(3), xs)
        n, _ = ct.while_loop(lambda c: c[1] > 0.1, lambda c: (c[0] + 1.0, c[1] * 0.5), (0.0, cnp.sum(h * h) + 1.0),
                             max_steps=100)
        return cnp.sum(ys) + n

    def f(w, xs):
        return sum(member(w, xs, k + 1.0) for k in range(3))

    x = (np.array([0.5, -0.3, 0.8]), np.random.default_rng(6).standard_normal((50, 3)))
    term = ct.compile(f, *x)
    for mode in ("value", "jvp", "vjp", "grad"):
        report = run_and_compare(ex, term, x, mode).report
        # three scans of 50 steps (a while loop's steps are the data's), and in a derivative mode the
        # derivative term's loops over the saved carries too
        assert report["tasks"] > 1 and report["loop_steps"] == 3 * 50 * (1 if mode == "value" else 2)
    g = ct.grad_term(term, ct.types.type_of(x))
    assert_close(ex.run(g, x, "value", timeout=120).value, ct.grad(term, x))


def test_an_unrolled_loop_on_dask_gives_the_in_process_numbers(ex):
    """A scan whose body forks runs as its steps' tasks, branch by branch, in every mode; its gradient term
    (two loops, both unrolled) as a value job gives ct.grad's numbers."""
    term, x = forked_scan(6)
    loss = ct.compose(ct.prim("sum"), ct.proj(1, 3), term)
    for f, mode in [(term, "value"), (term, "jvp"), (term, "vjp"), (loss, "grad")]:
        report = run_and_compare(ex, f, x, mode).report
        # the loop's 6 steps, and in a derivative mode its derivative loop's
        assert report["tasks"] == ex.plan(f, x, mode).tasks and report["loop_steps"] == 6 * (1 if mode == "value" else 2)
    assert sum(" > step " in s.where for s in ex.plan(term, x, "value").steps.values()) == 2 * 6  # two branches a step
    g = ct.grad_term(loss, ct.types.type_of(x))
    result = ex.run(g, x, "value", timeout=120)
    assert_close(result.value, ct.grad(loss, x))
    assert result.report["tasks"] > 2 * 2 * 6


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(term_and_input(), st.sampled_from(["value", "jvp", "vjp"]))
def test_random_terms(ex, ti, mode):
    term, x = ti
    direction = direction_for(term, x, mode, np.random.default_rng(4))
    try:
        reference(term, x, mode, direction)
    except ct.CattermsError:
        assume(False)
    run_and_compare(ex, term, x, mode)


def test_report(ex):
    term, x = FAMILIES["tree"]()
    r = ex.run(term, x, "grad", baseline=True).report
    json.dumps(r)
    assert r["mode"] == "grad" and r["workers"] == 2 and r["tasks"] == len(r["tasks_detail"])
    p = ex.plan(term, x, "grad")
    assert {t["phase"] for t in r["tasks_detail"]} <= {s.name for s in p.steps.values()}  # what each task runs
    assert all(t["worker"].startswith("tcp://127.0.0.1:") and 0 <= t["start"] <= t["stop"] for t in r["tasks_detail"])
    assert 0 < r["span_s"] <= r["work_s"] + 1e-9 and r["parallelism"] == pytest.approx(r["work_s"] / r["span_s"])
    assert r["utilisation"] == pytest.approx(r["work_s"] / (2 * r["wall_s"]))
    assert r["efficiency"] == pytest.approx(r["serial_s"] / (2 * r["wall_s"]))
    assert r["speedup"] == pytest.approx(r["serial_s"] / r["wall_s"])
    assert r["est_work_s"] > 0 and r["est_span_s"] > 0
    assert "serial_s" not in ex.run(term, x, "grad").report


def test_a_part_task_runs_where_its_steps_result_is(ex, monkeypatch):
    # Dask placed a task of a group of more than twice the threads "root-ish", among idle workers, where its
    # inputs were not: a tree's part tasks pulled the whole result they pick from (workers/executor.py)
    term, x = tree(2, batch=64, width=64)  # planned as in test_graph's part test: pairs of leaves fused
    with monkeypatch.context() as m:
        m.setattr(ex, "threshold_s", 1e-6)
        m.setattr(ex, "rates", Rates(elementwise=1e9, matmul=1e9, call=0.0))
        ex._plan.cache_clear()
        runs = [ex.run(term, x, "grad").report["tasks_detail"] for _ in range(3)]
    ex._plan.cache_clear()
    for detail in runs:
        where = {d["key"]: d["worker"] for d in detail}
        parts = [k for k in where if k.startswith("part-")]
        assert parts
        for k in parts:
            step = k.rsplit("-", 1)[1]
            [whole] = [w for key, w in where.items() if key.startswith("value-") and key.endswith(f"-{step}")]
            assert where[k] == whole, (k, where)


def test_ill_typed_terms_fail_before_anything_is_sent(ex):
    with pytest.raises(ct.TermTypeError, match="matmul"):
        ex.submit(ct.prim("matmul"), (np.ones((2, 3)), np.ones((2, 3))), "value")
    with pytest.raises(ct.TermTypeError, match="scalar"):
        ex.submit(ct.prim("sin"), np.ones(3), "grad")
    with pytest.raises(ct.TermTypeError, match="tangent"):
        ex.submit(ct.prim("sin"), np.ones(3), "jvp")
    with pytest.raises(ValueError, match="mode"):
        ex.submit(ct.prim("sin"), np.ones(3), "hessian")


def test_a_failing_primitive_names_itself_and_its_path(ex):
    huge = ct.compose(ct.prim("sum"), ct.prim("exp"), ct.prim("broadcast_to", shape=(10**7, 10**7)), ct.prim("sin"))
    with pytest.raises(ct.EvaluationError, match=r"compose\[2\] > exp.*MemoryError"):
        ex.run(huge, np.float64(1.0), "value", timeout=60)


def test_jobs_in_flight_progress_and_results(ex):
    jobs = [(FAMILIES[f]()) for f in ("wide", "tree", "data_parallel")]
    handles = [ex.submit(term, x, "grad") for term, x in jobs]
    for h, (term, x) in zip(handles, jobs):
        done, total = h.progress()
        assert 0 <= done <= total == h.total
        result = h.result(timeout=120)
        assert h.done() and h.progress() == (total, total)
        y0, d0 = ct.value_and_grad(term, x)
        assert_close(result.value, y0)
        assert_close(result.derivative, d0)


def test_timeout_then_result(ex):
    term, x = slow_term()
    h = ex.submit(term, x, "value")
    with pytest.raises(TimeoutError):
        h.result(timeout=0.01)
    assert_close(h.result(timeout=120).value, ct.evaluate(term, x))


def test_cancel_stops_the_job(ex):
    term, x = slow_term()
    h = ex.submit(term, x, "grad")
    h.cancel()
    with pytest.raises(CancelledError):
        h.result(timeout=60)
    # the release reaches the scheduler asynchronously, and a task already running finishes first
    deadline = time.monotonic() + 30
    while any(h.id in str(k) for keys in ex.client.processing().values() for k in keys):
        assert time.monotonic() < deadline, "the cancelled job's tasks are still on the cluster"
        time.sleep(0.05)
    run_and_compare(ex, *FAMILIES["wide"](), "grad")  # the cluster is still fine


def test_inputs_many_tasks_read_are_scattered_once():
    term, x = data_parallel(3, batch=4, width=300)
    with Executor(n_workers=2, threshold_s=0.0, scatter_bytes=1000, dashboard_address=None) as small:
        h = small.submit(term, x, "grad")
        # of the input, only the weights (every shard's branch reads them); the shards are constants of
        # the branches' subterms, shipped with them
        assert [f.type for f in h.scattered].count(np.ndarray) == 1
        assert all(f.type in (np.ndarray, ct.Term) for f in h.scattered)
        result = h.result(timeout=120)
        assert small.dashboard_link is None
    y0, d0 = ct.value_and_grad(term, x)
    assert_close(result.value, y0)
    assert_close(result.derivative, d0)


def test_no_tasks_at_all(ex):
    term = ct.compose(ct.fork(ct.exr, ct.exl), ct.identity)
    x = (np.ones(2), np.zeros(3))
    r = ex.run(term, x, "vjp", cotangent=(np.full(3, 2.0), np.full(2, 3.0)))
    assert_close(r.value, (x[1], x[0]))
    assert_close(r.derivative, (np.full(2, 3.0), np.full(3, 2.0)))
    assert r.report["tasks"] == 0


def test_dashboard_link(ex):
    assert ex.dashboard_link.startswith("http://127.0.0.1:")


def test_workers_are_warm_and_data_goes_to_them_directly(ex):
    # Dask registers its numpy serializers lazily, on a worker's first array result; the Warm plugin
    # does it at start-up, so no job pays for it on a fresh worker
    registered = ex.client.run(lambda: __import__("sys").modules.get("distributed.protocol.numpy") is not None)
    assert registered and all(registered.values())
    assert ex.client.direct_to_workers is True  # the embedded cluster is on loopback: no relaying through the scheduler


def fault_in(n: int, nbytes: int, rounds: int) -> int:
    """Minor page faults, here, of ``rounds`` of making ``n`` arrays of ``nbytes`` and their doubles at once,
    then freeing them (a task body's temporaries)."""
    import resource
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        xs = [np.ones(nbytes // 8) for _ in range(n)]
        [x * 2 for x in xs]
        del xs
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
@pytest.mark.parametrize("n, size", [
    # on an arena of its own, a task thread gave its temporaries' pages back as they were freed and
    # faulted them in again: 14,000 faults a task here, where 64 MB stays in place (workers/alloc.py)
    (16, 4 << 20),
    # 40 MiB is over glibc's 32 MiB ceiling for the mmap threshold: each such array was a fresh mmap,
    # faulted in page by page and unmapped on free (workers/alloc.py)
    (2, 40 << 20),
], ids=["task-thread-arena", "over-the-mmap-threshold"])
def test_a_workers_task_thread_keeps_the_pages_it_freed(ex, n, size):
    ex.client.submit(fault_in, n, size, 4, pure=False).result()
    again = [ex.client.submit(fault_in, n, size, 4, pure=False).result() for _ in range(3)]
    assert min(again) < 2 * n * size // 4096 // 20, again


def test_small_subterms_go_apart_once_the_graph_would_be_too_heavy(ex):
    members = [ct.compose(ct.prim("sum"), ct.prim("mul"), ct.fork(ct.const(np.full(1000, k + 1.0)), ct.identity))
               for k in range(3)]
    size = term_bytes(members[0])
    assert size < ex.scatter_bytes
    shipped = ex.ship(members, budget=size + 100)  # room for one of them inside the graph
    assert sum(isinstance(a, Future) for a in shipped.values()) == 2
    assert carried(shipped, members) == size
    assert ex.ship(members, budget=size + 100) == shipped  # shipped once, reused by the next job


def test_a_subterm_whose_loop_body_holds_big_constants_is_shipped_once(ex):
    # the gradient of a scan over h @ w holds w in its loop bodies, not in its own nodes: weighed as 48
    # bytes, it travelled inside every job's graph (24 MiB a job for the looped bench family)
    w = np.random.default_rng(0).standard_normal((400, 400)) / 20
    loop, xs = scan_over_matmul(w)
    g = ct.grad_term(loop, ct.Array(xs.shape))
    assert term_bytes(g) > w.nbytes > ex.scatter_bytes
    shipped = ex.ship([g])
    assert isinstance(shipped[g], Future) and ex.ship([g]) == shipped
    assert_close(ex.run(loop, xs, "grad").derivative, ct.grad(loop, xs))


def test_the_bench_measures_what_dask_itself_charges_a_job(ex):
    from workers.bench import transport
    t = transport(ex, nbytes=4 << 20, reps=3)
    assert t["nbytes"] == 4 << 20 and 0 < t["round_trip_s"] < 5
    # differences of medians: noise may take either below zero, by less than a round trip
    assert -t["round_trip_s"] < t["argument_s"] < 1 and -t["round_trip_s"] < t["result_s"] < 1


def test_outputs_are_fetched_as_their_tasks_finish(ex):
    # a fast and a slow branch: the fast one's output is on the client while the slow one still runs, so
    # a job's last task hides the transfer of the others' outputs
    def chain(depth: int) -> ct.Term:
        return ct.compose(*[ct.prim("sin"), ct.prim("cos")] * depth)

    term, x = ct.fork(chain(2), chain(1500)), np.linspace(-1, 1, 20_000)
    h = ex.submit(term, x, "value")
    deadline = time.monotonic() + 60
    while not (h.done() or h._arriving.has_ready()) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert h._arriving.has_ready() and not h.done()
    assert_close(h.result(timeout=60).value, ct.evaluate(term, x))
