"""The Executor: runs planned jobs on a Dask cluster (the only module of ``workers`` that imports distributed).

``Executor()`` starts an embedded ``LocalCluster`` — one single-threaded worker process per core, BLAS
on one thread, glibc's allocator thresholds raised, one malloc arena and the Nanny's
``MALLOC_TRIM_THRESHOLD_`` override removed (:mod:`workers.alloc`), queuing off and no task placed as
"root-ish" (:data:`SCHEDULER_CONFIG`) — waits for its workers, warms them and calibrates the planner's
rates on them. ``Executor(address, security=...)`` connects to an existing scheduler instead.

A job is type-checked (so an ill-typed term fails before anything is sent), planned as the value of its
derivative term (plans are cached per term, input type and mode), and submitted as *one* graph;
inputs over ``scatter_bytes`` are scattered and passed by future, and so are subterms whose constants
weigh that much — those once per Executor, not per job (:meth:`Executor.ship`). A :class:`JobHandle`
follows it; its :meth:`~JobHandle.result` gathers what the graph's outputs are and runs the plan's tail.
Timings come from the scheduler: :class:`JobRecorder`, a scheduler plugin, keeps each task's worker and
compute interval per job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
import uuid
from collections import Counter, OrderedDict
from concurrent.futures import CancelledError
from dataclasses import fields
from statistics import median
from typing import Any, cast

import dask
import numpy as np
from dask.sizeof import sizeof
from distributed import Client, Future, LocalCluster, Security, as_completed
from distributed.diagnostics.plugin import SchedulerPlugin, WorkerPlugin
from distributed.protocol import serialize

from catterms import Array, CattermsError, Term, TermTypeError, Type, prim
from catterms.engine import LRU, cached, constant_bytes, prepare, program, require_scalar, trees
from catterms.modes import SPECS, Mode, modes

from . import assemble
from .admission import Estimate, JobLimits, check_limits
from .alloc import WORKER_ENV
from .bodies import serial_time, term_bytes
from .estimate import Rates, measure_rates
from .graph import build_graph, term_uses
from .guard import require_main_guard
from .plan import INLINE_S, THRESHOLD_S, Plan, plan
from .report import Result, report
from .wires import INPUT, Ref

#: What a job computes (each the value of its derivative term, :func:`catterms.engine.job_term`).
JOB_MODES = modes(job=True)

#: The embedded cluster's scheduler settings (deploy/dask.yaml gives a deployed scheduler the same):
#: * no queuing (``queuing=True`` turns it on): it would add a round trip before each of a plan's few coarse
#:   tasks starts;
#: * no task is "root-ish": Dask places a task of a group larger than twice the threads, with few dependency
#:   groups, among idle workers without looking where its inputs are (meant for many small tasks). Keys group
#:   by their alphabetic prefix, so a job's tasks are a few such groups, and a tree's part tasks and reverse
#:   halves were sent away from the results they read (a pair's 50 MB result moved instead of its 16 MB
#:   part, twice a job); a plan's tasks are placed by their dependencies.
SCHEDULER_CONFIG: dict[str, Any] = {"distributed.scheduler.worker-saturation": float("inf"),
                                    "distributed.scheduler.rootish-taskgroup": 0}

#: Task keys end in ``-{job}-{step}``; job ids start with this, so the plugin ignores other work.
JOB_PREFIX = "ct"

#: Jobs whose records the plugin keeps if nobody collects them (e.g. an Executor that died).
KEEP_JOBS = 256

#: Big subterms an Executor keeps scattered for later jobs (the least recently used go first).
SHIPPED_TERMS = 256

#: Arrays and subterms embedded in one job's graph weigh at most this (Dask warns about graphs over 10 MB).
GRAPH_BYTES = 8 << 20

#: How often an Executor's watch thread looks at its connection to the scheduler and counts the workers (s).
WATCH_S = 0.5

#: A scheduler that has not answered the watch thread for this long is ``unreachable`` (a partition: no
#: connection breaks, calls just wait).
UNANSWERED_S = 5.0

#: :meth:`Executor.stop` looks this many times, this far apart, for workers running a cancelled job's tasks.
STOP_LOOKS, STOP_PAUSE_S = 3, 0.1

log = logging.getLogger("workers.executor")


class ClusterError(CattermsError, RuntimeError):
    """The cluster cannot run the job: no workers for too long, or its data was lost twice."""


def job_of(key: Any) -> str | None:
    if not isinstance(key, str):
        return None
    parts = key.rsplit("-", 2)
    return parts[1] if len(parts) == 3 and parts[1].startswith(JOB_PREFIX) else None


class JobRecorder(SchedulerPlugin):
    """On the scheduler: per job, each finished task's worker and compute interval (scheduler clock)."""

    name = "catterms-jobs"
    idempotent = True

    def __init__(self) -> None:
        self.jobs: OrderedDict[str, dict[str, dict[str, Any]]] = OrderedDict()

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if start != "processing" or finish not in ("memory", "erred"):
            return
        job = job_of(key)
        if job is None:
            return
        spans = [s for s in kwargs.get("startstops") or () if s.get("action") == "compute"]
        if job not in self.jobs:
            self.jobs[job] = {}
            while len(self.jobs) > KEEP_JOBS:
                self.jobs.popitem(last=False)
        self.jobs[job][key] = {
            "worker": kwargs.get("worker"), "status": finish,
            "start": spans[0]["start"] if spans else None, "stop": spans[-1]["stop"] if spans else None,
        }


def _jobs(dask_scheduler: Any) -> OrderedDict[str, dict[str, dict[str, Any]]]:
    """The recorder's jobs; none on a scheduler that restarted since the Executor last registered it (the
    watch thread registers it again within :data:`WATCH_S`): a job caught in between reports no tasks."""
    recorder = dask_scheduler.plugins.get(JobRecorder.name)
    return OrderedDict() if recorder is None else recorder.jobs


def _records(job: str, forget: bool, dask_scheduler: Any = None) -> dict[str, dict[str, Any]]:
    jobs = _jobs(dask_scheduler)
    return jobs.pop(job, {}) if forget else dict(jobs.get(job, {}))


def _finished(job: str, dask_scheduler: Any = None) -> tuple[dict[str, dict[str, Any]], int]:
    """A finished job's records, forgotten, and the threads the cluster has: one round trip for both."""
    return _records(job, True, dask_scheduler), sum(ws.nthreads for ws in dask_scheduler.workers.values())


def _done(job: str, dask_scheduler: Any = None) -> int:
    return len(_jobs(dask_scheduler).get(job, ()))


def _stop_running(job: str, dask_worker: Any = None) -> str | None:
    """On a worker: if it is running a task of ``job`` (a released task runs on until it returns), kill
    this process now, before it answers — its Nanny starts a fresh one, as after a crash; ``"no nanny"``
    when there is none to do that (the task is left to finish); None when it runs no task of ``job``."""
    if not any(job_of(ts.key) == job for ts in dask_worker.state.executing):
        return None
    if dask_worker.nanny is None:
        return "no nanny"
    os.kill(os.getpid(), signal.SIGKILL)
    return None  # not reached


class Warm(WorkerPlugin):
    """Every worker, including one that joins or is restarted later: import catterms and compile once
    before its first task, so no job pays for it."""

    name = "catterms-warm"
    idempotent = True

    def setup(self, worker: Any) -> None:
        program(prim("tanh"), Array((4,)), "grad")
        # Dask registers its numpy sizeof and serializers lazily, on a worker's first array result: that
        # import cost a tiny job 15-20 ms on each fresh worker (a tiny job on 16 fresh workers paid it 16 times)
        result = np.zeros(1024)
        sizeof(result)
        serialize(result)


class JobHandle:
    """A submitted job: progress, completion, result, cancellation.

    If the cluster loses an input that was scattered (scattered data cannot be recomputed), the job is
    scattered and submitted again, once. :attr:`phase` is ``"running"``, then ``"baseline"`` while the
    serial baseline runs (``baseline=True``).
    """

    def __init__(self, executor: Executor, plan: Plan, x: Any, serial: tuple[Term, Type, Mode, tuple],
                 started: float, baseline: bool) -> None:
        self.executor, self.plan, self.x = executor, plan, x  # x: the input of the plan's (derivative) term
        self.serial_of = serial  # what the baseline runs in one process: term, input type, mode, arguments
        self.started, self.baseline = started, baseline
        self._result: Result | None = None
        self._cancelled = self._forgotten = False
        self._lock, self._all_done = threading.Lock(), threading.Event()
        self.relaunches = 0
        self.phase = "running"
        self.stopped: list[str] = []  # workers restarted to stop this job's running tasks
        self._baseline: list[Future] = []
        self._launch()

    def _launch(self) -> None:
        ex = self.executor
        self.id = f"{JOB_PREFIX}{uuid.uuid4().hex[:12]}"
        uses = term_uses(self.plan)
        terms = ex.ship(uses)
        room = GRAPH_BYTES - carried(terms, uses)
        inputs, self.scattered = ex.arguments(self.plan, self.x, room)
        self.scattered += [f for f in terms.values() if isinstance(f, Future)]
        self.graph = build_graph(self.plan, self.id, inputs.__getitem__, terms.get)
        self.keys = self.graph.fetch
        self.finished = time.perf_counter()
        self._all_done.clear()
        self._pending = len(self.keys)
        self.futures: list[Future] = list(ex.client.get(self.graph.dsk, self.keys, sync=False)) if self.keys else []
        if not self.futures:
            self._all_done.set()
        for f in self.futures:
            f.add_done_callback(self._mark)
        # each output is fetched as soon as its task finishes, while the others still run, so the job's
        # last task hides the transfer of the other outputs (16 cotangents of 2 MB took 5–10 ms at the end)
        self._arriving = as_completed(self.futures, ex.client.loop, with_results=True, raise_errors=False)

    def _mark(self, future: Future) -> None:
        with self._lock:
            self.finished = max(self.finished, time.perf_counter())
            self._pending -= 1
            if self._pending == 0:
                self._all_done.set()

    @property
    def total(self) -> int:
        return len(self.graph.dsk)

    def progress(self) -> tuple[int, int]:
        """``(tasks done, tasks in the job)``; a cancelled job reports none done."""
        if self._cancelled:
            return 0, self.total
        if self._all_done.is_set() or not self.futures:  # finished: the scheduler's records may be gone
            return self.total, self.total
        return min(self.executor.client.run_on_scheduler(_done, self.id), self.total), self.total

    def done(self) -> bool:
        return self._all_done.is_set()

    def cancel(self) -> None:
        """Stop the job: its futures are released, so Dask drops every task of it that nobody else needs,
        and a task of it already running is stopped by restarting its worker (:meth:`Executor.stop`).

        Releasing, rather than ``Client.cancel``: that one walks the dependents of each key it cancels and
        asserts that some client wants each — false for a key it has already dropped in the same walk, and for
        an intermediate task no client holds (a step reading a scattered input) — which kills the client's
        connection (distributed 2026.8)."""
        self._cancelled = True
        for f in self.futures + self._baseline:
            f.release()
        self.futures, self.scattered, self._baseline = [], [], []
        self._arriving.clear()
        self._all_done.set()
        self.stopped = self.executor.stop(self.id)
        self.executor.client.run_on_scheduler(_records, self.id, True)

    def result(self, timeout: float | None = None) -> Result:
        """Wait for the job (``TimeoutError`` after ``timeout`` seconds, the job still running) and
        return its value, derivative and report; a failed task raises its catterms error."""
        if self._forgotten:
            raise RuntimeError(f"job {self.id}: its result was handed over (JobHandle.forget)")
        if self._result is None:
            self._wait(timeout)
            if self._cancelled:
                raise CancelledError(f"job {self.id} was cancelled")
            while True:
                while any(f.cancelled() for f in self.futures):
                    if self.executor.client.status != "running":  # Dask cancels every future when it happens
                        raise ClusterError(f"job {self.id}: the connection to the scheduler was lost")
                    if self.relaunches or not any(f.cancelled() for f in self.scattered):
                        raise ClusterError(f"job {self.id}: the cluster lost its tasks")
                    self.relaunches += 1
                    self._launch()
                    self._wait(None if timeout is None else max(0.0, timeout - (time.perf_counter() - self.started)))
                t0 = time.perf_counter()
                try:
                    fetched = self._fetch()
                    break
                except CancelledError:
                    # the loss reached an output after the check above: its future says so now
                    if self._cancelled or not any(f.cancelled() for f in self.futures):
                        raise
            client = self.executor.client
            value, derivative = assemble.result(self.plan, self.graph, fetched, self.x)
            wall = (self.finished - self.started) + (time.perf_counter() - t0)
            serial = self._serial(None if timeout is None else timeout - (time.perf_counter() - self.started))
            records, workers = (client.run_on_scheduler(_finished, self.id) if self.futures or self.baseline
                                else ({}, self.executor.workers))
            self.executor.seen_workers = workers
            self.futures, self.scattered, self._baseline = [], [], []
            self._arriving.clear()
            self._result = Result(value, derivative, report(self.plan, self.graph, records, workers, wall, serial))
        return self._result

    def forget(self) -> None:
        """Hand the result over: the handle drops its reference, so whoever called :meth:`result` holds
        the only one and can free its arrays as soon as it has used them (the service encodes them part
        by part). :meth:`result` may not be called again."""
        self._result, self._forgotten = None, True

    def _fetch(self) -> dict[str, Any]:
        """The outputs, by key: those fetched as they finished, and any other (a failed task's) gathered
        now, which raises its error."""
        arrived = {f.key: value for f, value in self._arriving if f.status == "finished"}
        missing = [f for f in self.futures if f.key not in arrived]
        if missing:
            arrived.update(zip([f.key for f in missing], self.executor.client.gather(missing), strict=False))
        return {k: arrived[f.key] for k, f in zip(self.keys, self.futures, strict=False)}

    def _wait(self, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        idle_since: float | None = None
        while not self._all_done.wait(0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))):
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {self.id} did not finish within {timeout} s; it is still running")
            if self._cancelled:
                return
            if self.executor.seen_workers:  # counted by the watch thread: no round trip per look
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > self.executor.no_workers_timeout:
                self.cancel()
                raise ClusterError(f"job {self.id}: the cluster has had no workers for "
                                   f"{self.executor.no_workers_timeout} s")

    def _serial(self, timeout: float | None) -> float | None:
        """With ``baseline=True``, the same computation without Dask, timed as one task on a worker
        (:func:`workers.bodies.serial_time`): the caller's process does no heavy work, and the baseline
        runs on a machine and with settings like those of the tasks it is compared with. Its key belongs
        to the job, so cancelling the job stops it too."""
        if not self.baseline:
            return None
        self.phase = "baseline"
        ex = self.executor
        term, dom, mode, args = self.serial_of
        shipped = ex.ship([term])[term]
        placed, scattered = ex.place({"args": args}, {"args": 1})
        task = ex.client.submit(serial_time, shipped, dom, mode, placed["args"], key=f"baseline-serial-{self.id}-0")
        self._baseline = [task, *scattered]
        if self._cancelled:  # cancelled while the baseline was being sent
            task.release()
        return task.result(None if timeout is None else max(0.0, timeout))


class Executor:
    """Runs catterms jobs — value, jvp, vjp, grad, hvp — on a Dask cluster, split by :func:`workers.plan`.

    ``address``: an existing scheduler (``tcp://`` or ``tls://`` with ``security``); ``None`` starts an
    embedded cluster of ``n_workers`` (default: one per core), with its dashboard on
    ``dashboard_address`` (``None``: none) and Dask's task queuing off unless ``queuing``.
    ``threshold_s`` and ``inline_s`` go to the planner; ``rates`` replaces the rates measured on the
    workers; ``scatter_bytes`` is where arrays and subterms start to travel by scatter rather than inside
    tasks; a job fails with :class:`ClusterError` after ``no_workers_timeout`` seconds without workers.
    With ``limits`` (:class:`~workers.admission.JobLimits`), :meth:`submit` refuses a job over them before
    anything runs (:meth:`check`), raising :class:`~workers.admission.OverLimit`.

    A watch thread keeps the connection: every :data:`WATCH_S` it counts the workers present (the count
    plans are made for), registers the scheduler plugins again on a scheduler that restarted (Dask's client
    reconnects by itself, but a fresh scheduler has none of them), and replaces a client that gave up
    reconnecting (after ``distributed.comm.timeouts.connect``) with a new one, as often as it takes.
    :attr:`state` says how it stands, without asking the scheduler; :attr:`generation` counts the
    schedulers it has registered its plugins on, so a job can tell that the one it ran on went away.
    """

    def __init__(self, address: str | None = None, *, n_workers: int | None = None, security: Security | None = None,
                 threshold_s: float = THRESHOLD_S, inline_s: float = INLINE_S, rates: Rates | None = None,
                 scatter_bytes: int = 1 << 20, no_workers_timeout: float = 60.0,
                 dashboard_address: str | None = "127.0.0.1:0", queuing: bool = False,
                 limits: JobLimits | None = None) -> None:
        self.threshold_s, self.inline_s, self.limits = threshold_s, inline_s, limits
        self.scatter_bytes, self.no_workers_timeout = scatter_bytes, no_workers_timeout
        self._shipped = LRU(SHIPPED_TERMS)  # term → its scattered future; bounded by bytes like any term cache
        self._lock = threading.Lock()
        self.cluster: LocalCluster | None = None
        self.address, self.security = address, security
        self.generation, self._scheduler_id, self._state = 0, None, "connected"
        self._answered = time.monotonic()
        self._dashboard = address is not None or dashboard_address is not None
        if address is None:
            require_main_guard()  # before any process starts: one clear error, not a Nanny per worker failing
            config: dict[str, Any] = {"distributed.nanny.pre-spawn-environ": dict(WORKER_ENV), **SCHEDULER_CONFIG}
            if queuing:
                del config["distributed.scheduler.worker-saturation"]
            with dask.config.set(config):
                self.cluster = LocalCluster(
                    n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address=dashboard_address, security=security,
                )
        self.client = self._connect()
        if self.cluster is not None:
            self.client.wait_for_workers(len(self.cluster.workers))
        measured = self.client.run(measure_rates)
        self.rates = rates or (Rates(*(median(getattr(r, f.name) for r in measured.values()) for f in fields(Rates)))
                               if measured else Rates())
        self._plan: Any = cached(entries=256)(self._make_plan)  # with cache_clear()
        # the worker count plans are made for: refreshed by the watch thread and by every job's records,
        # so a plan is for the workers present now, with no round trip per submission
        self.seen_workers = self.workers
        self._closing = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="catterms-watch", daemon=True)
        self._watcher.start()

    def _connect(self) -> Client:
        """A client of the cluster, with the scheduler plugins registered on it."""
        if self.cluster is not None:
            # data goes to and comes from the workers directly on our own loopback cluster (the scheduler
            # would relay every byte: gathering 8 cotangents of 2 MB took twice as long); on a remote
            # cluster the client may not reach the workers: Dask's ``direct-to-workers`` setting decides
            client = Client(self.cluster, set_as_default=False, security=self.security, direct_to_workers=True)
        else:
            client = Client(self.address, security=self.security, set_as_default=False)
        self._register(client)
        return client

    def _register(self, client: Client) -> None:
        client.register_plugin(JobRecorder())
        client.register_plugin(Warm())
        self._scheduler_id = client.scheduler_info(n_workers=0).get("id")
        self.generation += 1

    @property
    def state(self) -> str:
        """``connected``; ``reconnecting`` (the connection broke, or the client gave up and is being
        replaced); ``unreachable`` (connected, but the scheduler has not answered for :data:`UNANSWERED_S`)."""
        if self._state != "connected" or self.client.status != "running":
            return "reconnecting"
        return "connected" if time.monotonic() - self._answered < UNANSWERED_S else "unreachable"

    @property
    def connected(self) -> bool:
        """Whether jobs can be sent now: the scheduler answers and has the plugins."""
        return self.state == "connected"

    def _watch(self) -> None:
        while not self._closing.wait(WATCH_S):
            try:
                self._look()
            except Exception as e:  # noqa: BLE001 - a call that failed as the cluster went away: look again
                self._lost(f"{type(e).__name__}: {e}")

    def _look(self) -> None:
        """One look at the connection (on the watch thread; each call here may wait for the scheduler)."""
        status = self.client.status
        if status in ("closing", "closed", "failed"):
            self._lost(f"the Dask client {status} (it gave up reconnecting)")
            self._replace()
            return
        if status != "running":  # Dask's client is reconnecting by itself
            self._lost("the connection to the scheduler broke")
            return
        info = self.client.scheduler_info(n_workers=-1)
        if info.get("id") != self._scheduler_id:  # a restarted scheduler, reached again by the same client
            self._lost("the scheduler restarted")
            self._register(self.client)
        self.seen_workers = sum(w.get("nthreads", 0) for w in info.get("workers", {}).values())
        self._answered = time.monotonic()
        if self._state != "connected":
            self._state = "connected"
            log.warning("cluster regained: connected to the scheduler again, %d worker thread(s)", self.seen_workers)

    def _lost(self, why: str) -> None:
        if self._state == "connected":
            self._state = "reconnecting"
            log.warning("cluster lost: %s; reconnecting", why)

    def _replace(self) -> None:
        """A new client in place of one that closed; raises (and is tried again) while the scheduler is away."""
        if self.cluster is not None or self._closing.is_set():
            return
        client = self._connect()
        old, self.client = self.client, client
        log.warning("cluster: the Dask client had given up reconnecting; a new one is connected")
        self._shipped.clear()  # its futures belonged to the old client
        with contextlib.suppress(Exception):
            old.close(timeout=1)

    @property
    def dashboard_link(self) -> str | None:
        """The scheduler's dashboard, or ``None`` when it has none."""
        info = self.client.scheduler_info()
        port = info.get("services", {}).get("dashboard")
        if port is None or not self._dashboard:
            return None
        host = info["address"].split("://", 1)[-1].rsplit(":", 1)[0]
        return f"http://{host}:{port}/status"

    @property
    def workers(self) -> int:
        """Threads the cluster has now (one per worker process in our clusters)."""
        return sum(self.client.nthreads().values())

    def _planning_for(self) -> int:
        """The worker count to plan for: what the last job saw, or — while none has been seen (a remote
        cluster whose workers are still joining) — what the scheduler says now."""
        if self.seen_workers < 1:
            self.seen_workers = self.workers
        return self.seen_workers

    def _make_plan(self, term: Term, dom: Type, mode: str, workers: int) -> Plan:
        return plan(term, dom, mode, threshold_s=self.threshold_s, rate=self.rates, inline_s=self.inline_s,
                    workers=max(1, workers))

    def plan(self, term: Term, x: Any, mode: str = "grad") -> Plan:
        """The plan a job would run (type-checked; cached per term, input type, mode and worker count)."""
        _, dom, _ = prepare(term, x)
        return self._plan(term, dom, mode, self._planning_for())

    def check(self, term: Term, x: Any, mode: str = "grad", limits: JobLimits | None = None) -> Estimate:
        """:func:`workers.admission.check_limits` at this cluster's rates, with the plan the job will run
        (so a job admitted here is not planned again): its :class:`~workers.admission.Estimate`, or
        :class:`~workers.admission.OverLimit`. ``limits``: this Executor's, or the defaults."""
        return check_limits(term, x, mode, limits or self.limits, rates=self.rates,
                            planner=lambda t, d, m: self._plan(t, d, m, self._planning_for()))

    def stop(self, job: str) -> list[str]:
        """Stop the tasks of ``job`` that workers are running (after its futures were released): each such
        worker process kills itself when asked, and its Nanny starts a fresh one; Dask recomputes the other
        jobs' tasks that were on it. Returns the workers restarted.

        Dask cannot interrupt a task, and catterms' generated code has no point at which to look for a
        cancellation flag, so the process goes. The Nanny's own restart (``Client.restart_workers``) first
        waits 4 s for the task to finish before it kills it (4.6 s from cancel to a free worker, measured
        on a LocalCluster); asking the Nanny to SIGKILL it took 3–3.5 s to answer (the Nanny starts the new
        process before it replies); the worker killing itself as it is asked frees it at once, and the
        call returns in 0.15 s (the fresh worker registered 0.8–1.2 s after it, here). A released task stays
        in its worker's executing set until it returns, so each look finds it; a few looks, since a task of
        the job may start on a worker that the release has not reached yet. A worker without a Nanny cannot
        be restarted: its task runs to its end."""
        stopped: list[str] = []
        for look in range(STOP_LOOKS):
            answers = self.client.run(_stop_running, job, on_error="return")
            gone = [w for w, a in answers.items() if isinstance(a, BaseException) and w not in stopped]
            alone = [w for w, a in answers.items() if a == "no nanny"]
            if alone:
                log.warning("job %s: %d worker(s) without a Nanny keep running its task", job, len(alone))
            stopped += gone
            if look and not gone:
                break
            time.sleep(STOP_PAUSE_S)
        return stopped

    def submit(self, term: Term, x: Any, mode: str = "grad", tangent: Any = None, cotangent: Any = None,
               baseline: bool = False) -> JobHandle:
        """Start a job and return at once. ``tangent`` is required for jvp and hvp (the vector ``v``: the
        result's value is ``∇f x`` and its derivative ``∇²f x · v``), ``cotangent`` for vjp;
        ``baseline=True`` adds the in-process time and the speedup and efficiency to the report."""
        started = time.perf_counter()
        if mode not in JOB_MODES:
            raise ValueError(f"mode must be one of {', '.join(JOB_MODES)}, got {mode!r}")
        x, dom, cod = prepare(term, x)
        spec = SPECS[mode]
        if spec.scalar:
            require_scalar(cod, dom)
        direction = None
        if spec.needs is not None:
            direction = _required(tangent if spec.needs == "tangent" else cotangent, spec.needs, mode)
        jx = assemble.job_input(mode, x, dom, cod, direction)
        if self.limits is not None:
            self.check(term, x, mode)
        p = self._plan(term, dom, mode, self._planning_for())
        # the baseline: the mode compiled in one process; hvp has no program of its own (it is forward
        # mode over the gradient *term*), so its baseline is that term's value
        args = jx if spec.needs else (x,)  # the mode's program takes (x, direction), or x
        serial = (term, dom, mode, args) if spec.value == "output" else (p.term, p.dom, "value", (jx,))
        return JobHandle(self, p, jx, cast(Any, serial), started, baseline)

    def run(self, term: Term, x: Any, mode: str = "grad", tangent: Any = None, cotangent: Any = None,
            baseline: bool = False, timeout: float | None = None) -> Result:
        """:meth:`submit`, then wait for the :class:`~workers.report.Result`."""
        return self.submit(term, x, mode, tangent, cotangent, baseline).result(timeout)

    def arguments(self, p: Plan, x: Any, budget: int = GRAPH_BYTES) -> tuple[dict[tuple, Any], list[Future]]:
        """Each array of the input ``x`` of a job's term that its tasks read, by path, as a task argument
        (see :meth:`place`)."""
        uses: Counter[tuple[int, ...]] = Counter()
        for step in p.steps.values():
            if not step.tail:
                uses.update(w.path for w in trees.leaves(step.wire) if isinstance(w, Ref) and w.source == INPUT)
        return self.place({path: trees.pick(x, path) for path in uses}, uses, budget)

    def place(self, data: dict[Any, Any], uses: dict[Any, int],
              budget: int = GRAPH_BYTES) -> tuple[dict[Any, Any], list[Future]]:
        """Values as task arguments, and the futures of those scattered.

        A value that several tasks read (``uses``) is scattered once if their copies would weigh over
        ``scatter_bytes``, with a copy on as many workers as read it (up to all): one copy would pull
        every reader to the worker that holds it, as Dask places a task where its biggest inputs are. A
        value that a single task reads travels inside it (scattering costs a round trip before the job
        starts), unless they would weigh more than ``budget`` (what the graph may still carry); then the
        biggest go by scatter too."""
        copies = {k: _nbytes(v) * uses[k] for k, v in data.items()}
        big = [k for k in data if uses[k] > 1 and copies[k] > self.scatter_bytes]
        big += _spill({k: copies[k] for k in data if k not in big}, budget)
        placed = dict(data)
        workers = self.workers if any(uses[k] > 1 for k in big) else 1
        for copies_wanted in sorted({min(uses[k], workers) for k in big}):
            keys = [k for k in big if min(uses[k], workers) == copies_wanted]
            spread = copies_wanted if copies_wanted > 1 else False
            sent = self.client.scatter([data[k] for k in keys], hash=False, broadcast=spread)
            placed.update(zip(keys, sent, strict=False))
        return placed, [placed[k] for k in big]

    def ship(self, terms: list[Term], budget: int = GRAPH_BYTES) -> dict[Term, Any]:
        """Each subterm as a task argument: itself, or — when its constants weigh over ``scatter_bytes``,
        or the small ones, once per task in ``terms``, together over ``budget`` — a future of it, scattered
        once (round robin over the workers) and kept for later jobs, so big constants cross the network
        once, and a task runs where its subterm already is."""
        out: dict[Term, Any] = {}
        new: list[Term] = []
        uses = Counter(terms)
        unique = list(uses)
        small = {t: term_bytes(t) * uses[t] for t in unique if term_bytes(t) <= self.scatter_bytes}
        apart = set(_spill(small, budget))
        with self._lock:
            for t in unique:
                if t in small and t not in apart:
                    out[t] = t
                    continue
                known = self._shipped.get(t)
                if known is not None and known.status == "finished":
                    out[t] = known
                else:
                    new.append(t)
            if new:
                # round robin over the workers, heaviest first, so that big subterms (and the tasks that
                # run where they are) spread evenly
                new.sort(key=term_bytes, reverse=True)
                for t, f in zip(new, self.client.scatter(new, hash=False), strict=False):
                    self._shipped.put(t, f, constant_bytes(t))
                    out[t] = f
        return out

    def close(self) -> None:
        self._closing.set()
        self._watcher.join(timeout=10)
        self._shipped.clear()
        self._plan.cache_clear()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _required(value: Any, name: str, mode: str) -> Any:
    if value is None:
        raise TermTypeError(f"mode {mode!r} needs a {name}")
    return value


def _spill(sizes: dict[Any, int], budget: int) -> list[Any]:
    """The keys to send apart from the graph, biggest first, until the rest weighs at most ``budget``."""
    keys = sorted(sizes, key=sizes.__getitem__)
    total = sum(sizes.values())
    apart = []
    while keys and total > budget:
        apart.append(keys.pop())
        total -= sizes[apart[-1]]
    return apart


def carried(shipped: dict[Term, Any], uses: list[Term]) -> int:
    """What the subterms that :meth:`Executor.ship` leaves inside the graph weigh, a copy per task."""
    return sum(term_bytes(t) for t in uses if shipped[t] is t)


def _nbytes(v: Any) -> int:
    return sum(int(np.asarray(a).nbytes) for a in trees.leaves(v))
