"""How parallel-friendly the split really is: benchmark families and measurements, as rows.

Families (each a term compiled by the front end, with an input): ``wide`` — an ensemble, the sum of K
independent MLP losses; ``data_parallel`` — one MLP loss over K data shards, summed; ``deep`` — a chain
of layers, no parallelism; ``tree`` — a balanced binary tree of layers joined by ``tanh ∘ add``;
``looped`` — one ``ct.scan`` whose body forks into K recurrent members; ``tiny`` — a term with well under
10 ms of work. Each row compares, in one run on one machine, the job on P workers with

* the serial baseline: the same compiled computation in this process, allocator tuned like the workers;
* Dask's own ceiling: the job's fused task bodies, each on its real input, sent with ``client.map``
  and no dependencies — what Dask gives for exactly this work without the plan's dependency hops.

``bench/parallel.py`` prints the rows as a table; the service's ``catterms bench`` reuses them.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median
from typing import Any, cast

import numpy as np

import catterms as ct
import catterms.numpy as cnp
from catterms import Term, Type
from catterms.engine import prepare, program, zeros
from catterms.examples import ensemble_loss
from catterms.modes import SPECS, Mode

from .alloc import like_a_worker
from .assemble import job_input
from .bodies import read
from .executor import GRAPH_BYTES, carried
from .plan import Plan, plan
from .wires import INPUT


@dataclass
class Family:
    name: str
    term: Term
    x: Any
    branches: int  # independent branches of the widest fork (1: no parallelism)


def _mlp(params: tuple, X: np.ndarray, y: np.ndarray) -> Any:
    W1, W2 = params
    r = cnp.tanh(X @ W1) @ W2 - y
    return cnp.mean(r * r)


def wide(K: int, batch: int = 4096, width: int = 1024, features: int = 256) -> Family:
    """An ensemble: ``jam[K] ∘ (loss₁ △ … △ loss_K)``, member k with its own weights and data."""
    e = ensemble_loss(K, batch=batch, width=width, features=features)
    return Family("wide", e.term, e.example_input, K)


def data_parallel(K: int, batch: int = 4096, width: int = 1024, features: int = 256) -> Family:
    """One model's loss over K shards of its data, summed: every branch reads the same weights."""
    rng = np.random.default_rng(1)
    shards = [(rng.standard_normal((batch, features)), rng.standard_normal((batch, 1))) for _ in range(K)]
    params = (rng.standard_normal((features, width)) / np.sqrt(features), rng.standard_normal((width, 1)) / 16)
    term = ct.compile(lambda W1, W2: sum(_mlp((W1, W2), X, y) for X, y in shards),
                      *(ct.Array(p.shape) for p in params))
    return Family("data_parallel", term, params, K)


def deep(L: int, batch: int = 2048, width: int = 512) -> Family:
    """``mean(h_L²)`` with ``h_l = tanh(h_{l-1} @ W_l)``: a chain, nothing to run side by side."""
    rng = np.random.default_rng(2)
    Ws = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(L)]

    def f(h: Any) -> Any:
        for W in Ws:
            h = cnp.tanh(h @ W)
        return cnp.mean(h * h)

    x = rng.standard_normal((batch, width))
    return Family("deep", ct.compile(f, ct.Array(x.shape)), x, 1)


def tree(depth: int, batch: int = 4096, width: int = 512) -> Family:
    """A balanced binary tree: 2^depth layers on the same input, joined pairwise by ``tanh(a + b)``."""
    rng = np.random.default_rng(3)
    Ws = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(2 ** depth)]

    def f(h: Any) -> Any:
        level = [cnp.tanh(h @ W) for W in Ws]
        while len(level) > 1:
            level = [cnp.tanh(a + b) for a, b in zip(level[::2], level[1::2], strict=False)]
        return cnp.mean(level[0] * level[0])

    x = rng.standard_normal((batch, width))
    return Family("tree", ct.compile(f, ct.Array(x.shape)), x, 2 ** depth)


def looped(K: int, steps: int = 4, batch: int = 4096, width: int = 512) -> Family:
    """K recurrent members in one ``ct.scan`` over ``steps`` steps, whose body forks into the members' updates
    ``h_k = tanh(h_k @ W_k + x_t)``, each member's ``mean(h_k²)`` a ``y``, the ``y`` s summed: on more than one
    worker the plan unrolls the loop, a step's members side by side (workers/loops.py); on one, it is one task."""
    rng = np.random.default_rng(4)
    Ws = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(K)]

    def f(xs: Any) -> Any:
        def step(hs: Any, x: Any) -> Any:
            return tuple(cnp.tanh(h @ W + x) for h, W in zip(hs, Ws, strict=True)), tuple(cnp.mean(h * h) for h in hs)

        _, ys = ct.scan(step, tuple(cnp.zeros((batch, width)) for _ in Ws), xs)
        return sum(cnp.sum(y) for y in ys)

    x = rng.standard_normal((steps, 1, width)) * 0.1
    return Family("looped", ct.compile(f, ct.Array(x.shape)), x, K)


def tiny() -> Family:
    """Well under 10 ms of work: it must not be split, and must cost at most serial + 15 ms."""
    x = np.linspace(-1.0, 1.0, 1000)
    return Family("tiny", ct.compile(lambda v: cnp.sum(cnp.sin(v) * v), ct.Array(x.shape)), x, 1)


FAMILIES: dict[str, Callable[[int], Family]] = {
    "wide": wide, "data_parallel": data_parallel, "deep": deep, "tree": lambda k: tree(max(1, k.bit_length() - 1)),
    "looped": looped,
}


@dataclass
class Row:
    """One family, mode and worker count, measured side by side."""

    family: str
    mode: str
    workers: int
    branches: int
    tasks: int
    serial_s: float
    wall_s: float
    speedup: float
    efficiency: float
    ceiling_s: float | None
    ceiling_efficiency: float | None
    of_ceiling: float | None
    utilisation: float | None
    parallelism: float | None
    est_span_s: float


def serial_program(term: Term, x: Any, mode: str) -> Callable[[], Any]:
    """The job in this process without Dask, compiled (as warm workers have it), with the workers'
    allocator tuning and one BLAS thread."""
    like_a_worker()
    _, dom, cod = prepare(term, x)
    needs = SPECS[mode].needs
    run = program(term, dom, cast(Mode, mode))  # one of SPECS
    args = (x,) if needs is None else (x, zeros(dom if needs == "tangent" else cod))
    return lambda: run(*args)


def timed(f: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def step_inputs(p: Plan, x: Any) -> dict[int, Any]:
    """Each step's actual input, computed in this process (for the ceiling's independent tasks); ``x``
    is the input of the plan's term."""
    return _in_process(p, x)[0]


def in_process(p: Plan, x: Any) -> Any:
    """The plan's output, its steps run one after the other in this process: what the cluster computes."""
    values = _in_process(p, x)[1]
    return read(p.output, lambda i: x if i == INPUT else values[i])


def _in_process(p: Plan, x: Any) -> tuple[dict[int, Any], dict[int, Any]]:
    values: dict[int, Any] = {}
    inputs: dict[int, Any] = {}
    for s in p.steps.values():
        inputs[s.index] = read(s.wire, lambda i: x if i == INPUT else values[i])
        values[s.index] = program(s.term, s.dom, "value")(inputs[s.index])
    return inputs, values


def ceiling_task(term: Term, dom: Type, x: Any) -> None:
    """One task body with no dependencies."""
    program(term, dom, "value")(x)


def ceiling(ex: Any, p: Plan, x: Any) -> Callable[[], Any]:
    """The plan's task bodies, each on its real input, sent with ``client.map`` and independent of each
    other: Dask's ceiling for exactly this work. Subterms are shipped once and inputs embedded or
    scattered on every call, as the Executor does for a job."""
    steps = [s for s in p.steps.values() if not s.tail]
    inputs = step_inputs(p, x)
    terms = ex.ship([s.term for s in steps])

    def once() -> Any:
        placed, _ = ex.place({s.index: inputs[s.index] for s in steps}, {s.index: 1 for s in steps},
                             GRAPH_BYTES - carried(terms, [s.term for s in steps]))
        args = [(terms[s.term], s.dom, placed[s.index]) for s in steps]
        return ex.client.gather(ex.client.map(ceiling_task, *zip(*args, strict=False), pure=False))

    return once


def measure(ex: Any, family: Family, mode: str, reps: int = 3) -> Row:
    """One row: the job on ``ex`` against serial and Dask's ceiling, each run first to compile and warm
    up (the serial one twice: a process's first large allocations grow its heap, page by page), then
    ``reps`` times interleaved so that a busy machine slows all three alike; medians."""
    term, x = family.term, family.x
    _, dom, cod = prepare(term, x)
    spec = SPECS[mode]
    direction = None if spec.needs is None else zeros(dom if spec.needs == "tangent" else cod)
    p = ex.plan(term, x, mode)
    jx = job_input(mode, x, dom, cod, direction)  # the input of the plan's (derivative) term
    # hvp has no program of its own (it is forward mode over the gradient term): serially, its term's value
    serial = serial_program(term, x, mode) if spec.value == "output" else serial_program(p.term, jx, "value")
    top = ceiling(ex, p, jx) if p.tasks else None
    job = lambda: ex.run(term, x, mode, **({} if direction is None else {str(spec.needs): direction}))  # noqa: E731
    serial(), serial(), job(), top and top()
    times: dict[str, list[float]] = {"serial": [], "ceiling": []}
    reports = []
    for _ in range(reps):
        times["serial"].append(timed(serial))
        reports.append(job().report)
        if top:
            times["ceiling"].append(timed(top))
    r = sorted(reports, key=lambda rep: rep["wall_s"])[len(reports) // 2]
    P, wall, base = r["workers"], r["wall_s"], median(times["serial"])
    top_s = median(times["ceiling"]) if top else None
    eff = base / (P * wall)
    top_eff = base / (P * top_s) if top_s else None
    return Row(family.name, mode, P, family.branches, r["tasks"], base, wall, base / wall, eff, top_s, top_eff,
               eff / top_eff if top_eff else None, r["utilisation"], r["parallelism"], r["est_span_s"])


def matmul_loop(n: int) -> float:
    """The anchor task: ``n`` products of a 256×256 matrix (about 200 ms for n = 238)."""
    a = np.linspace(-1.0, 1.0, 256 * 256).reshape(256, 256)
    for _ in range(n):
        a = a @ a
        a /= np.abs(a).max()
    return float(a.sum())


def anchor(ex: Any, tasks: int = 8, n: int = 238, reps: int = 3) -> dict[str, float]:
    """Dask's ceiling on this machine today, measured as Dask's own anchor: ``tasks`` independent matmul
    loops with ``client.map`` against the same loops run serially here (0.88–0.91 at P = 2 on a quiet host)."""
    like_a_worker()

    def serial() -> list[float]:
        return [matmul_loop(n) for _ in range(tasks)]

    def mapped() -> list[float]:
        return ex.client.gather(ex.client.map(matmul_loop, [n] * tasks, pure=False))

    serial(), mapped()
    s = median(timed(serial) for _ in range(reps))
    w = median(timed(mapped) for _ in range(reps))
    P = ex.workers
    return {"workers": P, "serial_s": s, "wall_s": w, "efficiency": s / (P * w)}


def _nothing(*_: Any) -> None:
    return None


def _same(x: Any) -> Any:
    return x


def transport(ex: Any, nbytes: int = 8 << 20, reps: int = 15) -> dict[str, float]:
    """What Dask itself charges any job on this cluster, medians of ``reps`` each after a pause: a trivial
    task's round trip from the client (submit, run, result), and what an array of ``nbytes`` adds as a
    task's argument (inside the graph, through the scheduler: how a job's input travels) and as its result
    (fetched from the worker: a job's output). A job at P = 1 pays all three where serial pays none."""
    c = ex.client
    x = np.ones(nbytes // 8)
    held = c.scatter(x, hash=False)  # already on a worker: only the way back is timed

    def median_of(submit: Callable[[], Any]) -> float:
        times = []
        for _ in range(reps):
            time.sleep(0.02)
            times.append(timed(lambda: submit().result()))
        return median(times)

    trip = median_of(lambda: c.submit(_nothing, pure=False))
    argument = median_of(lambda: c.submit(_nothing, x, pure=False)) - trip
    result = median_of(lambda: c.submit(_same, held, pure=False)) - trip
    c.cancel([held])
    return {"nbytes": nbytes, "round_trip_s": trip, "argument_s": argument, "result_s": result}


def planning(nodes: int = 100_000, reps: int = 3) -> dict[str, float]:
    """Planning time per 1,000 nodes on a wide term, beside catterms' own type check of the same term, as
    a job pays them: its admission check (``prepare``, which keeps each node's check for the planner), then
    the first plan (Executors cache plans) — of the term itself (value), and of a vjp job, whose plan is
    that of its derivative term, built first (``derive``; cached per term, input type and mode). Each
    repetition builds a new term (the type check is cached per term); the best of ``reps``, the machine
    being noisy, of each figure and of check and plan together."""
    K = nodes // 3
    best = {k: float("inf") for k in ("check", "plan", "check_plan", "derive", "plan_vjp")}
    size = steps = 0
    for rep in range(reps):
        term = ct.compose(ct.jamn(K), ct.fork(*(ct.compose(ct.prim("sin"), ct.scale(k + 1.0 + rep / reps))
                                                for k in range(K))))
        dom = ct.Array((16,))
        x = zeros(dom)
        t0 = time.perf_counter()
        prepare(term, x)
        t1 = time.perf_counter()
        p = plan(term, dom, "value")
        t2 = time.perf_counter()
        v = plan(term, dom, "vjp")
        times = {"check": t1 - t0, "plan": t2 - t1, "check_plan": t2 - t0, "derive": v.derive_s, "plan_vjp": v.plan_s}
        best = {k: min(best[k], times[k]) for k in best}
        size, steps = term.size, len(p.steps)
    per = 1e3 * 1000 / size
    return {"nodes": size, "typecheck_ms_per_1k": best["check"] * per, "plan_ms_per_1k": best["plan"] * per,
            "check_plan_ms_per_1k": best["check_plan"] * per,
            "derive_ms_per_1k": best["derive"] * per, "plan_vjp_ms_per_1k": best["plan_vjp"] * per, "steps": steps}


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
