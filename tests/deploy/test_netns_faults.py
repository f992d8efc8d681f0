"""The service on a multi-host cluster (network namespaces, TLS): right numbers while healthy, and what a
worker's network loss or a worker host's death does to a running job. Each fault prints its figures
(seconds to finish, seconds to recover); deploy/README.md quotes them."""

from __future__ import annotations

import time

import numpy as np

import catterms as ct

from checks import assert_same, figure

X = np.array([0.1, 0.2, 0.3])


def point(test: int) -> np.ndarray:
    """An input of this test's own: the service answers a repeated (term, input) from its earlier job."""
    return X + test


def running(job, limit: float = 30) -> None:
    """Wait (bounded) until the job runs on the cluster, then a little longer so every worker holds a task."""
    deadline = time.monotonic() + limit
    while job.status()["state"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.status()["state"] == "running"
    time.sleep(1.0)


def test_healthy_cluster_matches_in_process_and_keeps_addresses_private(cluster, branches):
    small, wide, x = ct.compose(ct.prim("sum"), ct.prim("sin")), branches(4, 10), point(0)
    with cluster.client() as client:
        start = time.monotonic()
        small_result = client.submit(small, x).result(timeout=60)
        small_s = time.monotonic() - start
        wide_job = client.submit(wide, x, baseline=True)
        wide_result = wide_job.result(timeout=120)
        report = wide_job.report()
        start = time.monotonic()
        client.submit(branches(4, 150), point(3)).result(timeout=120)
        undisturbed_s = time.monotonic() - start  # the fault tests' job, for comparison
        seen = [repr(small_result), repr(wide_result), repr(report), repr(wide_job.status()),
                repr([job.info for job in client.jobs()]), repr(client.health())]
    assert_same(small_result, small, x)
    assert_same(wide_result, wide, x)
    assert report["workers"] == 2
    net = cluster.subnet.rsplit(".", 2)[0]  # "10.231": no address of the cluster, nor its scheme
    for text in seen:
        assert net not in text and "tls://" not in text, text
    figure("healthy", small_job_ms=small_s * 1000, efficiency_4_branches=report["efficiency"],
           fault_job_undisturbed_s=undisturbed_s)


def fault_then_recovery(cluster, branches, test: int, fault, repair=lambda: None) -> dict[str, float]:
    """Run a ~6 s 4-branch job, apply ``fault`` while it runs, check its numbers; ``repair``, wait for both
    workers, and check a job after it ran on both. Returns the seconds measured."""
    term, x = branches(4, 150), point(test)
    with cluster.client() as client:
        start = time.monotonic()
        job = client.submit(term, x)
        running(job)
        fault()
        hit = time.monotonic()
        try:
            result = job.result(timeout=120)
            finished = time.monotonic()
        finally:
            repair()
        repaired = time.monotonic()
        back = cluster.wait_workers(2, timeout=90)
        after = branches(4, 10)
        again_job = client.submit(after, x)
        again = again_job.result(timeout=60)
        assert again_job.report()["workers"] == 2, "the job after the fault runs on both workers again"
    assert_same(result, term, x)
    assert_same(again, after, x)
    return {"job_s": finished - start, "after_fault_s": finished - hit,
            "both_workers_after_fault_s": repaired + back - hit, "both_workers_after_repair_s": back}


def test_worker_link_down_mid_job_finishes_on_the_other_worker_and_it_rejoins(cluster, branches):
    restarts = len(cluster.hosts["worker0"].restarts)
    seconds = fault_then_recovery(cluster, branches, 1, lambda: cluster.link_down("worker0"),
                                  lambda: cluster.link_up("worker0"))
    figure("worker link down", **seconds, restarts=len(cluster.hosts["worker0"].restarts) - restarts)


def test_worker_host_killed_mid_job_finishes_and_the_host_comes_back(cluster, branches):
    seconds = fault_then_recovery(cluster, branches, 2, lambda: cluster.kill_host("worker1"))
    figure("worker host SIGKILLed", **seconds)
