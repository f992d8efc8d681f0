"""The dispatcher: moves jobs from the store's queue onto the cluster and their results back.

A submission is admitted by :meth:`Dispatcher.check`: decoded and type-checked
(:func:`service.submission.check`), then its cost — result size, largest array, estimated work, planned
tasks — compared with the service's :class:`~workers.admission.JobLimits` (``Executor.check``), all before
it is stored, so a job over them is refused (``over_limit``) and never runs.

A bounded number of asyncio runners each take the oldest queued job, hand it to the executor
(``Executor.submit``, which sends the job's whole plan to Dask at once), wait for it on a thread with the
per-job timeout, and write the result, report or failure to the store *before* anyone is told it ended.
Cancelling a job moves it to ``cancelled`` in the store first and then cancels its Dask work; a job past
its timeout is cancelled the same way and fails with code ``timeout``. Either way a task of it that is
already running is stopped (its worker is restarted: ``Executor.stop``), so the workers are free again
within seconds, and a result that arrives late is dropped by the store's conditional update.

On start the dispatcher takes up what a previous process left: queued jobs are queued again, and jobs
that were running are run again, up to :data:`MAX_ATTEMPTS` starts; after that they fail with the
reason. Nothing a job needs lives only in memory.

The cluster may go away under a running service (a scheduler restart, a partition): the executor
reconnects by itself (``Executor.connected``), runners take no job while it is away, and a job that the
loss interrupted is queued again and re-run — the same :data:`MAX_ATTEMPTS` bound — with what is left of
its time limit. The limit holds whatever the cluster does: a runner stops waiting for a job's thread at
its deadline (the thread may be stuck in a call to a scheduler that does not answer), and the job ends
``timeout``. Progress is asked of the scheduler for a moment only (:data:`PROGRESS_WAIT_S`, one query per
job at a time), so status requests answer at once while the cluster is away.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterator

import catterms as ct
from catterms import wire
from workers.admission import JobLimits, OverLimit

from . import redact
from .errors import ServiceError, error
from .metrics import Metrics
from .store import DONE, RUNNING, TERMINAL, AsyncStore, JobRow, Stored
from .submission import Job, Submission, check

#: How many times a job may be started before a service that keeps dying under it gives up on it.
MAX_ATTEMPTS = 3

#: A queued job whose wire bytes are at most this size waits decoded in memory (it starts at once);
#: a bigger one waits in the store only, so a full queue holds at most ``queue_size`` × this in memory.
KEEP_DECODED = 1 << 20

#: How long a status request waits for the scheduler's count of a job's finished tasks before it answers
#: with the last count known; how often a runner looks whether the cluster is back.
PROGRESS_WAIT_S, CLUSTER_POLL_S = 0.5, 0.2

#: What :meth:`Dispatcher._execute` returns for a job that a loss of the cluster interrupted.
LOST = "lost"

log = logging.getLogger("catterms.service")

#: The failure code for each catterms error a job can end in.
FAILURE_CODES: dict[type[Exception], str] = {
    ct.EvaluationError: "evaluation_error",
    ct.TermTypeError: "ill_typed",
    ct.WireFormatError: "wire_format",
    ct.MissingRuleError: "missing_rule",
}


def failure(e: BaseException) -> tuple[str, str]:
    """``(code, message)`` for a job that raised ``e``; cluster addresses are never in the message."""
    for cls, code in FAILURE_CODES.items():
        if isinstance(e, cls):
            return code, redact.message(str(e))
    return "cluster_error", redact.message(f"{type(e).__name__}: {e}")


@dataclass
class Live:
    """What the dispatcher holds in memory for a job it has not finished: all of it can be rebuilt."""

    job: Job | None
    created: float
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    handle: Any = None
    cancelled: bool = False
    started: bool = False  # a runner has taken it: planning until the executor hands back its handle
    deadline: float | None = None  # monotonic; set at its first start here, kept when it is re-run
    seen: tuple[int, int | None] = (0, None)  # the last progress the scheduler gave
    asking: asyncio.Future | None = None  # the progress query in flight


class Dispatcher:
    """Runs queued jobs on ``executor`` with at most ``runners`` in flight and ``queue_size`` waiting; admits
    only jobs within ``limits`` (the wire format's) and ``job_limits`` (their cost)."""

    def __init__(
        self, db: AsyncStore, executor: Any, metrics: Metrics, *, limits: wire.Limits, queue_size: int = 1000,
        runners: int = 4, timeout: float = 600.0, job_limits: JobLimits | None = None,
    ) -> None:
        self.db, self.executor, self.metrics, self.limits = db, executor, metrics, limits
        self.job_limits = job_limits or JobLimits()
        self.queue_size, self.runners, self.timeout = queue_size, runners, timeout
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._waiting: set[str] = set()
        self._reserved = 0
        self._live: dict[str, Live] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # twice the runners: a thread stuck on a scheduler that does not answer (its job already ended as a
        # timeout) leaves room for the next job's
        self._threads = ThreadPoolExecutor(2 * runners, thread_name_prefix="catterms-run")

    # --- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Take up the jobs a previous process left, then start the runners."""
        for row in await self.db.unfinished():
            if row.state == RUNNING and row.attempts >= MAX_ATTEMPTS:
                reason = f"the service stopped while running this job, {row.attempts} times; not retrying it"
                self._end(row.id, await self.db.fail(row.id, "interrupted", reason), row.created, "failed")
                continue
            if row.state == RUNNING:
                await self.db.requeue(row.id)
            self.enqueue(row, None)
        self._tasks = [asyncio.create_task(self._runner()) for _ in range(self.runners)]

    async def stop(self) -> None:
        """Stop the runners and the Dask work of running jobs; they stay in the store and run again at the
        next start."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for job_id, live in list(self._live.items()):
            if live.handle is not None and self.executor.connected:  # an absent cluster has nothing to stop
                _cancel(live.handle)
            await self.db.requeue(job_id)  # running → queued; a no-op for a job still queued
        self._threads.shutdown(wait=False, cancel_futures=True)

    # --- admission -------------------------------------------------------------------------------------

    def check(self, sub: Submission) -> Job:
        """Decode and type-check ``sub`` and compare its cost with :attr:`job_limits` (on a thread: it reads
        the whole term); the refusal names the limit, the estimate, the maximum and the node."""
        job = check(sub, self.limits)
        try:
            self.executor.check(job.term, job.x, job.mode, self.job_limits)
        except OverLimit as e:
            option = "--max-" + e.limit.replace("_", "-")
            raise error("over_limit", f"{e} (this service's {option})", node=e.node, limit=e.limit,
                        value=e.value, max=e.max) from None
        return job

    @property
    def queued(self) -> int:
        return len(self._waiting)

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """Hold a queue slot while a submission is being written, or refuse it if the queue is full."""
        if len(self._waiting) + self._reserved >= self.queue_size:
            raise error("queue_full", f"the job queue is full ({self.queue_size} jobs waiting); retry later")
        self._reserved += 1
        try:
            yield
        finally:
            self._reserved -= 1

    def enqueue(self, row: JobRow, job: Job | None, nbytes: int = 0) -> None:
        """Queue a stored job. ``job`` is its decoded form, kept in memory when its wire bytes (``nbytes``)
        are under :data:`KEEP_DECODED`; otherwise the job is read back from the store when it starts."""
        self._live[row.id] = Live(job if nbytes <= KEEP_DECODED else None, row.created)
        self._waiting.add(row.id)
        self._queue.put_nowait(row.id)

    # --- what handlers ask -----------------------------------------------------------------------------

    def ended(self, job_id: str) -> asyncio.Event | None:
        """An event set when the job ends, or None when this process is not running it (it has ended)."""
        live = self._live.get(job_id)
        return None if live is None else live.ended

    def phase(self, job_id: str) -> str | None:
        """What a job this process is running is doing: ``"planning"`` (checked, planned and sent to the
        cluster), ``"running"`` (its tasks), ``"baseline"`` (the serial baseline, on a worker); None for a
        job it is not running (queued, ended, or another process's)."""
        live = self._live.get(job_id)
        if live is None or not live.started:
            return None
        return "planning" if live.handle is None else live.handle.phase

    async def progress(self, job_id: str) -> tuple[int, int | None] | None:
        """Tasks done and total of a job this process holds; total is None until the job is planned."""
        live = self._live.get(job_id)
        if live is None:
            return None
        handle = live.handle
        if handle is None:
            return 0, None
        if live.asking is None and self.executor.connected:
            # on a thread (it asks the scheduler); requests that arrive meanwhile share this one query
            live.asking = asyncio.ensure_future(asyncio.to_thread(handle.progress))
            live.asking.add_done_callback(functools.partial(_asked, live))
        if live.asking is not None:
            with contextlib.suppress(Exception):  # advisory: the job's own outcome reports any failure
                await asyncio.wait_for(asyncio.shield(live.asking), PROGRESS_WAIT_S)
        return live.seen if live.seen[1] is not None else (0, handle.total)

    async def cancel(self, row: JobRow) -> JobRow:
        """Cancel a queued or running job; a finished job is a conflict (a cancelled one is left as is)."""
        if row.state in TERMINAL:
            if row.state == "cancelled":
                return row
            raise error("job_finished", f"job {row.id} has already {'finished' if row.state == DONE else 'failed'}")
        if await self.db.cancel(row.id):
            live = self._live.get(row.id)
            self._waiting.discard(row.id)
            if live is not None:
                live.cancelled = True  # seen by a runner that is still submitting the job
                if live.handle is not None and self.executor.connected:
                    await asyncio.to_thread(_cancel, live.handle)
                elif live.handle is not None:  # nothing answers now: stop what can be stopped, without waiting
                    _cancel_unwaited(live.handle)
            self._end(row.id, True, row.created, "cancelled")
        return await self.db.get(row.id)

    # --- running ---------------------------------------------------------------------------------------

    async def _runner(self) -> None:
        while True:
            job_id = await self._queue.get()
            if job_id not in self._waiting:  # it was cancelled while it waited
                continue
            live = self._live[job_id]
            try:
                if not await self._cluster_back(job_id, live):
                    continue
                self._waiting.discard(job_id)
                await self._run(job_id, live)
            except Exception:  # noqa: BLE001 - e.g. the disk is full: fail this job, keep the runner
                log.exception("job %s could not be run", job_id)
                with contextlib.suppress(Exception):
                    self._end(job_id, await self.db.fail(job_id, "internal", "the service failed running this job; "
                                                         "see its log"), live.created, "failed")

    async def _cluster_back(self, job_id: str, live: Live) -> bool:
        """Wait (still queued) until the executor is connected; False if the job ended meanwhile: cancelled,
        or — a job being re-run — past its deadline."""
        while not self.executor.connected:
            if job_id not in self._waiting:
                return False
            if live.deadline is not None and time.monotonic() >= live.deadline:
                self._waiting.discard(job_id)
                reason = self._timed_out()
                self._failed(job_id, live, await self.db.fail(job_id, "timeout", reason), "timeout", reason)
                return False
            await asyncio.sleep(CLUSTER_POLL_S)
        return job_id in self._waiting

    def _timed_out(self) -> str:
        return (f"the job ran past the per-job timeout of {self.timeout:g} s (catterms serve --timeout): it was "
                "cancelled and its running tasks stopped")

    async def _run(self, job_id: str, live: Live) -> None:
        if not await self.db.start(job_id):
            return
        live.started = True
        if live.deadline is None:
            live.deadline = time.monotonic() + self.timeout
        sub = None if live.job is not None else await self.db.submission(job_id)
        running = asyncio.get_running_loop().run_in_executor(self._threads, self._execute, live, sub, live.deadline)
        try:
            # a moment past the deadline: the thread's own wait ends there, unless a call to the cluster
            # blocks it; then the job ends here, and its late outcome is dropped
            outcome = await asyncio.wait_for(asyncio.shield(running), max(0.0, live.deadline - time.monotonic()) + 1)
        except TimeoutError:
            if live.handle is not None:
                _cancel_unwaited(live.handle)
            outcome = "timeout", self._timed_out()
        if isinstance(outcome, Stored):
            if await self.db.finish(job_id, outcome):
                self.metrics.tasks.inc(outcome.report.get("tasks") or 0)
                self._end(job_id, True, live.created, DONE)
        elif outcome == LOST:
            await self._rerun(job_id, live)
        else:
            self._failed(job_id, live, await self.db.fail(job_id, *outcome), *outcome)

    async def _rerun(self, job_id: str, live: Live) -> None:
        """Queue a job that a loss of the cluster interrupted again, or fail it after :data:`MAX_ATTEMPTS`."""
        row = await self.db.get(job_id)
        if row is None or row.state != RUNNING:  # cancelled meanwhile
            return
        if row.attempts >= MAX_ATTEMPTS:
            reason = f"the cluster was lost while running this job, {row.attempts} times; not retrying it"
            self._failed(job_id, live, await self.db.fail(job_id, "interrupted", reason), "interrupted", reason)
            return
        if await self.db.requeue(job_id):
            log.warning("job %s: the cluster was lost while it ran (attempt %d); it runs again when the cluster "
                        "is back", job_id, row.attempts)
            live.handle, live.started, live.seen = None, False, (0, None)
            self._waiting.add(job_id)
            self._queue.put_nowait(job_id)

    def _failed(self, job_id: str, live: Live, moved: bool, code: str, reason: str) -> None:
        """End a failed job, and say so in the log (if this process moved it)."""
        if moved:
            log.warning("job %s failed (%s): %s", job_id, code, reason)
        self._end(job_id, moved, live.created, "failed")

    def _execute(self, live: Live, sub: Submission | None, deadline: float) -> Stored | tuple[str, str] | str:
        """On a runner thread: run the job to its end and return its result, ``(code, reason)``, or
        :data:`LOST` when the cluster went away under it.

        Everything that can go wrong is caught here, on the thread: a Dask future's cancellation error
        would otherwise cross into asyncio as a task cancellation.
        """
        generation = self.executor.generation
        try:
            job = live.job if sub is None else self.check(sub)
            live.handle = self.executor.submit(job.term, job.x, **job.run_kwargs())
            if live.cancelled:
                _cancel(live.handle)
            result = live.handle.result(timeout=max(0.0, deadline - time.monotonic()))
            live.handle.forget()
            return _stored(result)
        except ServiceError as e:  # a stored job that no longer passes the checks (e.g. stricter limits)
            return e.code, e.message
        except TimeoutError:
            if live.handle is not None:
                _cancel(live.handle)
            return "timeout", self._timed_out()
        except Exception as e:  # noqa: BLE001 - whatever the cluster raised, the job ends with its reason
            if not isinstance(e, tuple(FAILURE_CODES)) and (
                    not self.executor.connected or self.executor.generation != generation):
                return LOST
            return failure(e)

    def _end(self, job_id: str, moved: bool, created: float, state: str) -> None:
        """Record that a job ended (if this process moved it) and wake whoever waits for it."""
        if moved:
            self.metrics.latency.labels(state).observe(max(0.0, time.time() - created))
        live = self._live.pop(job_id, None)
        if live is not None:
            live.ended.set()


def _asked(live: Live, query: asyncio.Future) -> None:
    """Keep the answer of a progress query (none if it failed) and let the next request ask again."""
    live.asking = None
    if not query.cancelled() and query.exception() is None:
        live.seen = query.result()


def _cancel(handle: Any) -> None:
    """Cancel a job's Dask work, best effort: a cluster that is gone has nothing left to stop."""
    try:
        handle.cancel()
    except Exception:  # noqa: BLE001
        log.warning("could not cancel a job's Dask work", exc_info=True)


def _cancel_unwaited(handle: Any) -> None:
    """:func:`_cancel` on a thread of its own, not waited for: a cluster that does not answer may hold it."""
    threading.Thread(target=_cancel, args=(handle,), daemon=True).start()


def _stored(result: Any) -> Stored:
    """Encode an executor Result for the store (on a thread: arrays may be large). The result is this
    function's alone (the handle has forgotten it): each part is dropped as soon as it is encoded, so the
    arrays and their bytes coexist for one part at a time, not for the whole result."""
    report = redact.report(result.report)
    value, result.value = result.value, None
    value = wire.dumps_value(value)
    derivative, result.derivative = result.derivative, None
    derivative = None if derivative is None else wire.dumps_value(derivative)
    return Stored(value, derivative, report)
