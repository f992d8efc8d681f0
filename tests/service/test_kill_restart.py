"""Jobs are never lost: SIGKILL the service (and its cluster) mid-run, restart it on the same data dir."""

from __future__ import annotations

import time

import numpy as np

import catterms as ct
from service import Client

F = ct.compose(ct.prim("sum"), ct.prim("sin"))


def test_kill_9_while_running_and_queued_then_restart(start_server, slow_term, tmp_path):
    data = tmp_path / "data"
    first = start_server("--workers", "1", "--runners", "1", data_dir=data)
    x = np.array([0.1, 0.2, 0.3])
    slow = [slow_term(k) for k in (50, 51, 52)]  # about a second each; distinct, so none is deduplicated
    with Client(first.url) as client:
        done = client.submit(F, x)
        done_value, done_grad = done.result(timeout=60)
        jobs = [client.submit(term, x, mode="value") for term in slow]
        for _ in range(200):  # bounded: until the first slow job runs (the others wait behind it)
            if jobs[0].status()["state"] == "running":
                break
            time.sleep(0.05)
        states = [j.status()["state"] for j in jobs]
    assert states == ["running", "queued", "queued"]
    first.kill()

    second = start_server("--workers", "1", "--runners", "1", data_dir=data)
    with Client(second.url) as client:
        again = client.job(done.id)
        assert again.status()["state"] == "done"
        value, grad = again.result(timeout=5)
        assert np.array_equal(value, done_value) and np.array_equal(grad, done_grad), "results outlive the process"
        for job, term in zip(jobs, slow):
            reattached = client.job(job.id)
            result = reattached.result(timeout=120)
            assert np.allclose(result.value, ct.evaluate(term, x))
            status = reattached.status()
            assert status["state"] == "done"
        assert client.job(jobs[0].id).status()["attempts"] == 2, "the interrupted job was run again"
        assert client.job(jobs[1].id).status()["attempts"] == 1
