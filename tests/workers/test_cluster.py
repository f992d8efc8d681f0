"""The Executor against real clusters: `dask scheduler` and `dask worker` processes on loopback, a
worker killed mid-job, scattered data lost, a cluster with no workers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import CancelledError
from pathlib import Path

import dask
import pytest
from distributed import LocalCluster, Security

import catterms as ct
from workers import ClusterError, Executor
from workers.alloc import WORKER_ENV
from workers.estimate import Rates

from sample_terms import FAMILIES, assert_close, data_parallel, tree
from test_executor import slow_term

DASK = str(Path(sys.executable).with_name("dask"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cli_cluster():
    """``dask scheduler`` and two ``dask worker`` processes, each one thread, no dashboards."""
    port = free_port()
    env = {**os.environ, **WORKER_ENV}
    spawn = dict(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              **spawn)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([DASK, "worker", f"tcp://127.0.0.1:{port}", "--host", "127.0.0.1",
                                           "--nthreads", "1", "--no-dashboard", "--no-nanny"], **spawn))
        yield f"tcp://127.0.0.1:{port}"
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_existing_cluster_from_the_command_line(cli_cluster):
    deadline = time.monotonic() + 60
    while True:  # the scheduler may not listen yet
        try:
            ex = Executor(cli_cluster, threshold_s=0.0, no_workers_timeout=30)
            break
        except OSError:
            assert time.monotonic() < deadline, "dask scheduler did not start"
            time.sleep(0.2)
    with ex:
        ex.client.wait_for_workers(2, timeout=60)
        term, x = FAMILIES["tree"]()
        result = ex.run(term, x, "grad", timeout=120)
        y0, d0 = ct.value_and_grad(term, x)
        assert_close(result.value, y0)
        assert_close(result.derivative, d0)
        assert result.report["workers"] == 2
        assert len({t["worker"] for t in result.report["tasks_detail"]}) >= 1
        # a remote cluster: Dask's own setting says whether the client reaches the workers directly
        assert ex.client.direct_to_workers == dask.config.get("distributed.client.direct-to-workers")


def test_a_worker_killed_mid_job_does_not_lose_the_job():
    term, x = slow_term(K=4, n=300_000, depth=20)
    # fixed rates: measured on a loaded machine they can make the plan's one fused subterm heavy enough to
    # be scattered, and scattered data dies with its worker (the job is then submitted again: the next test)
    with Executor(n_workers=2, threshold_s=0.05, rates=Rates(), dashboard_address=None) as ex:
        pids = ex.client.run(os.getpid)
        h = ex.submit(term, x, "grad")
        deadline = time.monotonic() + 60
        busy: list[str] = []
        while not busy:
            assert time.monotonic() < deadline, "the job never started"
            busy = [w for w, keys in ex.client.processing().items() if any(h.id in str(k) for k in keys)]
            time.sleep(0.02)
        os.kill(pids[busy[0]], signal.SIGKILL)
        result = h.result(timeout=120)
        assert h.relaunches == 0  # Dask recomputed what the dead worker held; nothing was resubmitted
        y0, d0 = ct.value_and_grad(term, x)
        assert_close(result.value, y0)
        assert_close(result.derivative, d0)


def test_lost_scattered_inputs_are_scattered_and_submitted_again():
    term, x = data_parallel(3, batch=4, width=200)
    with Executor(n_workers=2, threshold_s=1e-6, scatter_bytes=100, dashboard_address=None) as ex:
        pids = ex.client.run(os.getpid)
        h = ex.submit(term, x, "grad")
        # the workers holding the scattered inputs and subterms die: the data cannot be recomputed, so Dask
        # cancels their futures. (Not Client.cancel: in distributed 2026.8 it asserts on a task that depends
        # on a cancelled key and that no client wants, and drops the client, as soon as the plan has one.)
        for worker in {w for held in ex.client.who_has(h.scattered).values() for w in held}:
            os.kill(pids[worker], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not all(f.cancelled() for f in h.scattered):
            assert time.monotonic() < deadline, "the cluster never noticed that the scattered data was lost"
            time.sleep(0.05)
        result = h.result(timeout=120)
        assert h.relaunches == 1
    y0, d0 = ct.value_and_grad(term, x)
    assert_close(result.value, y0)
    assert_close(result.derivative, d0)


def test_cancelling_a_job_drops_neither_the_client_nor_the_other_jobs():
    """The cancelled job's scattered inputs and subterms feed tasks that no client wants: cancelling its
    futures with ``Client.cancel`` trips an assertion in distributed 2026.8's ``stimulus_cancel``, the
    scheduler drops the client, and every other job's futures are lost with it. The job is cancelled by
    releasing its futures instead (:meth:`workers.executor.JobHandle.cancel`)."""
    term, x = tree(3, batch=4, width=50)
    with Executor(n_workers=2, threshold_s=1e-6, scatter_bytes=100, dashboard_address=None) as ex:
        connection = ex.client.scheduler_comm  # a client that was dropped reconnects with a new one
        other = ex.submit(*data_parallel(3, batch=4, width=200), "grad")
        h = ex.submit(term, x, "grad")
        h.cancel()
        with pytest.raises(CancelledError):
            h.result(timeout=60)
        assert other.result(timeout=120).derivative is not None
        assert ex.client.scheduler_comm is connection, "cancelling the job dropped the client"
        result = ex.run(term, x, "grad", timeout=120)
    y0, d0 = ct.value_and_grad(term, x)
    assert_close(result.value, y0)
    assert_close(result.derivative, d0)


def test_no_workers_is_a_clear_error_not_a_hang():
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        with Executor(cluster.scheduler_address, no_workers_timeout=1.0, threshold_s=0.0) as ex:
            assert ex.seen_workers == 0
            t0 = time.monotonic()
            with pytest.raises(ClusterError, match="no workers"):
                ex.run(*FAMILIES["wide"](), "grad", timeout=60)
            assert time.monotonic() - t0 < 30
            # workers that join later are planned for: with none seen yet, the scheduler is asked again
            cluster.scale(2)
            ex.client.wait_for_workers(2, timeout=60)
            assert len(ex.plan(*FAMILIES["wide"](), "grad").steps) > 1
            assert ex.seen_workers == ex.workers > 1  # threads: one per worker in our clusters


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_tls_cluster_and_connecting_to_it(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=catterms-test", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    pem = {"tls_ca_file": str(cert), "require_encryption": True}
    for role in ("client", "scheduler", "worker"):
        pem |= {f"tls_{role}_cert": str(cert), f"tls_{role}_key": str(key)}
    security = Security(**pem)
    term, x = FAMILIES["wide"]()
    with Executor(n_workers=1, security=security, dashboard_address=None) as local:
        address = local.client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")
        with Executor(address, security=security) as remote:
            result = remote.run(term, x, "grad", timeout=120)
    y0, d0 = ct.value_and_grad(term, x)
    assert_close(result.value, y0)
    assert_close(result.derivative, d0)
