"""The service outlives its cluster: a scheduler SIGKILLed and restarted on the same address (within and past
the Dask client's own reconnect timeout) and a scheduler that stops answering (SIGSTOP: a partition, no
connection breaks), with real ``dask scheduler``/``dask worker`` processes on loopback and a real server
process that is never restarted. Interrupted jobs run again and end right, jobs past ``--timeout`` end as
timeouts, status requests answer at once, and health says how the cluster stands."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np
import pytest

import catterms as ct
from service import Client

#: The Dask client gives up reconnecting after this (``distributed.comm.timeouts.connect``, 30 s by default).
CONNECT_TIMEOUT_S = 4
SERVER_ENV = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": f"{CONNECT_TIMEOUT_S}s"}

#: Rows of the broadcast in the slow jobs: each is ``ROWS`` copies of a chain on R^3.
ROWS, STEPS = 1_000_000, 30


def chain(rows: int) -> ct.Term:
    """R^3 -> R: broadcast to ``rows`` × 3, alternate sin/cos ``STEPS`` times, sum (the slow_term fixture's
    shape): with ``rows=1`` it is the reference, ``ROWS`` times smaller."""
    term = ct.prim("broadcast_to", shape=(rows, 3))
    for i in range(STEPS):
        term = term >> ct.prim("sin" if i % 2 == 0 else "cos")
    return term >> ct.prim("sum")


SLOW, SMALL = chain(ROWS), chain(1)


def assert_right(result, x: np.ndarray) -> None:
    value, grad = ct.value_and_grad(SMALL, x)
    assert np.allclose(result.value, ROWS * value, rtol=1e-6)
    assert np.allclose(result.derivative, ROWS * grad, rtol=1e-6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A ``dask scheduler`` on a fixed loopback port, and two ``dask worker`` processes that a supervisor
    thread starts again when they exit (Dask workers close when their scheduler goes; a recipe's restart
    policy brings them back)."""

    def __init__(self, folder: Path, workers: int = 2) -> None:
        self.folder, self.address = folder, f"tcp://127.0.0.1:{free_port()}"
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1])
        self.workers = [self._start("worker", self.address, "--nthreads", "1") for _ in range(workers)]
        self.restarts = 0
        self._done = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self._supervisor.start()

    def _start(self, name: str, *args: str) -> subprocess.Popen:
        with open(self.folder / f"{name}.log", "a") as log:
            return subprocess.Popen([sys.executable, "-m", f"distributed.cli.dask_{name}", *args, "--no-dashboard"],
                                    stderr=log, stdout=log, start_new_session=True)

    def _supervise(self, most: int = 40) -> None:
        while not self._done.wait(0.2) and self.restarts < most:
            for i, proc in enumerate(self.workers):
                if proc.poll() is not None:
                    self.restarts += 1
                    self.workers[i] = self._start("worker", self.address, "--nthreads", "1")

    def kill_scheduler(self) -> None:
        os.killpg(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(timeout=30)

    def start_scheduler(self) -> None:
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1])

    def close(self) -> None:
        self._done.set()
        self._supervisor.join(timeout=10)
        for proc in [self.scheduler, *self.workers]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGCONT)
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    yield c
    c.close()


def health(url: str) -> dict:
    return httpx.get(f"{url}/v1/health", timeout=5).json()


def until(check, limit: float, what: str, pause: float = 0.2) -> float:
    """Seconds until ``check()`` is true (bounded by ``limit``)."""
    t0 = time.monotonic()
    while not check():
        assert time.monotonic() - t0 < limit, f"{what}: not within {limit} s"
        time.sleep(pause)
    return time.monotonic() - t0


def ready(url: str) -> bool:
    h = health(url)
    return h["status"] == "ok" and h["workers"] == 2


def prompt_status(job) -> dict:
    """The job's status, which must come back within a second however the cluster is."""
    t0 = time.monotonic()
    status = job.status()
    assert time.monotonic() - t0 < 1.0, "a status request waited on the cluster"
    return status


def outage(cluster: Cluster, url: str, client: Client, down_s: float) -> None:
    """Kill the scheduler under four slow jobs (two running, two queued), keep it down ``down_s`` seconds,
    start it again on the same address: every job ends right, without a restart of the service."""
    xs = [np.array([0.1 * i, 0.2 + down_s, 0.3 + i]) for i in range(4)]  # new inputs: not deduplicated
    jobs = [client.submit(SLOW, x) for x in xs]
    until(lambda: jobs[0].status()["state"] == "running", 60, "the first job started")
    time.sleep(0.5)
    t_kill = time.monotonic()
    cluster.kill_scheduler()
    until(lambda: health(url)["status"] == "degraded", 5, "health reports the outage")
    assert health(url)["cluster"] == "reconnecting"
    while time.monotonic() - t_kill < down_s:
        assert all(prompt_status(j)["state"] in ("queued", "running") for j in jobs)
        time.sleep(0.5)
    cluster.start_scheduler()
    recovered = until(lambda: ready(url), 90, "the service is connected again with both workers")
    print(f"scheduler down {down_s:g} s: connected again with 2 workers {recovered:.1f} s after its restart")
    for job, x in zip(jobs, xs):
        assert_right(job.result(timeout=120), x)
    statuses = [j.status() for j in jobs]
    assert {s["state"] for s in statuses} == {"done"}
    assert max(s["attempts"] for s in statuses) >= 2, "the jobs the loss interrupted ran again"
    print(f"all 4 jobs right {time.monotonic() - t_kill:.1f} s after the kill; attempts "
          f"{[s['attempts'] for s in statuses]}")


def test_scheduler_restarts_and_the_service_recovers_by_itself(cluster, start_server, tmp_path):
    server = start_server("--scheduler", cluster.address, "--runners", "2", "--timeout", "90", env=SERVER_ENV)
    until(lambda: ready(server.url), 60, "the service sees both workers")
    with Client(server.url) as client:
        outage(cluster, server.url, client, down_s=0)  # back at once: Dask's client reconnects itself
        outage(cluster, server.url, client, down_s=CONNECT_TIMEOUT_S + 3)  # past it: a new client
        x = np.array([1.0, 2.0, 3.0])
        assert_right(client.submit(SLOW, x).result(timeout=60), x)
        metrics = httpx.get(f"{server.url}/metrics").text
        assert "catterms_cluster_connected 1.0" in metrics and "catterms_cluster_workers 2.0" in metrics
    log = Path(server.log.name).read_text()
    assert "cluster lost" in log and "cluster regained" in log and "had given up reconnecting" in log


def test_jobs_past_the_timeout_while_the_scheduler_is_unreachable(cluster, start_server):
    server = start_server("--scheduler", cluster.address, "--runners", "2", "--timeout", "4", env=SERVER_ENV)
    until(lambda: ready(server.url), 60, "the service sees both workers")
    with Client(server.url) as client:
        xs = [np.array([0.5, 0.25 * i, 1.0]) for i in range(3)]
        jobs = [client.submit(SLOW, x) for x in xs]
        until(lambda: jobs[0].status()["state"] == "running", 60, "the first job started")
        t_stop = time.monotonic()
        os.killpg(cluster.scheduler.pid, signal.SIGSTOP)  # it neither answers nor closes a connection
        try:
            until(lambda: prompt_status(jobs[0])["state"] == "failed", 12, "the running job timed out", 0.3)
            ended = time.monotonic() - t_stop
            until(lambda: health(server.url)["cluster"] == "unreachable", 10, "health reports the partition")
            assert health(server.url)["status"] == "degraded"
        finally:
            os.killpg(cluster.scheduler.pid, signal.SIGCONT)
        print(f"running job ended timeout {ended:.1f} s after the scheduler stopped (--timeout 4)")
        recovered = until(lambda: ready(server.url), 60, "the service is connected again")
        for job, x in zip(jobs, xs):  # each ran out of time while it was away, or waited queued and ran after
            until(lambda: job.status()["state"] in ("done", "failed"), 60, "the job ended")
            status = job.status()
            if status["state"] == "failed":
                assert status["error"]["code"] == "timeout" and "--timeout" in status["error"]["message"], status
            else:
                assert_right(job.result(timeout=5), x)
        assert jobs[0].status()["state"] == "failed"
        x = np.array([0.3, 0.6, 0.9])
        small = client.submit(SMALL, x).result(timeout=60)  # well within --timeout on a busy machine too
        assert np.allclose(small.derivative, ct.value_and_grad(SMALL, x)[1])
        print(f"connected again {recovered:.1f} s after SIGCONT")
