"""Scheduler-side faults on the multi-host cluster (network namespaces, TLS), without a restart of the service:
the scheduler host SIGKILLed and restarted by its supervisor under running and queued jobs, and the service
host cut off (its link down) for longer than its ``--timeout``. Each prints its figures; deploy/README.md and
docs/service.md quote them."""

from __future__ import annotations

import time
from typing import Iterator

import httpx
import numpy as np
import pytest

from service.errors import JobFailed

import netns
from checks import assert_same, figure

#: The service's per-job timeout here: the partition outlasts it.
TIMEOUT_S = 8


@pytest.fixture(scope="module")
def short_timeout(tmp_path_factory) -> Iterator[netns.NetnsCluster]:
    """A namespace cluster of its own whose service has ``--timeout 8`` (a job's limit spans its re-runs,
    so the restart test runs on the shared cluster, with the default limit)."""
    reason = netns.missing()
    if reason:
        pytest.skip(f"namespace cluster: {reason}")
    with netns.NetnsCluster(tmp_path_factory.mktemp("netns"), service_args=["--timeout", str(TIMEOUT_S)]) as started:
        yield started


def health(cluster: netns.NetnsCluster) -> dict:
    return httpx.get(f"{cluster.url}/v1/health", timeout=5).json()


def until(check, limit: float, what: str) -> float:
    """Seconds until ``check()`` is true (bounded by ``limit``)."""
    t0 = time.monotonic()
    while not check():
        assert time.monotonic() - t0 < limit, f"{what}: not within {limit} s"
        time.sleep(0.2)
    return time.monotonic() - t0


def ready(cluster: netns.NetnsCluster) -> bool:
    h = health(cluster)
    return h["status"] == "ok" and h["workers"] == 2


def test_scheduler_host_killed_and_restarted_the_jobs_run_again(cluster, branches):
    term = branches(2, 100)
    xs = [np.array([0.1, 0.2, 0.3]) + i for i in range(5)]
    with cluster.client() as client:
        jobs = [client.submit(term, x) for x in xs]
        until(lambda: jobs[0].status()["state"] == "running", 30, "the first job started")
        time.sleep(1.0)
        hit = time.monotonic()
        cluster.kill_host("scheduler")  # the supervisor starts it again, as the compose restart policy does
        until(lambda: health(cluster)["status"] == "degraded", 10, "health reports the outage")
        recovered = until(lambda: ready(cluster), 120, "the service has both workers again")
        results = [job.result(timeout=180) for job in jobs]
        finished = time.monotonic()
        statuses = [job.status() for job in jobs]
        after = client.submit(term, xs[0] + 10).result(timeout=60)
    for result, x in zip(results, xs):
        assert_same(result, term, x)
    assert_same(after, term, xs[0] + 10)
    assert {s["state"] for s in statuses} == {"done"}
    rerun = sum(s["attempts"] > 1 for s in statuses)
    assert rerun >= 1
    figure("scheduler host SIGKILLed", recovered_s=recovered, all_jobs_right_s=finished - hit, jobs_run_again=rerun,
           jobs_lost=0)


def test_service_host_cut_off_longer_than_its_timeout(short_timeout, branches):
    cluster = short_timeout
    term = branches(2, 400)  # longer than the timeout once cut off
    xs = [np.array([0.5, 0.25, 0.125]) + 20 + i for i in range(2)]
    with cluster.client() as client:
        jobs = [client.submit(term, x) for x in xs]
        until(lambda: all(j.status()["state"] == "running" for j in jobs), 30, "both jobs started")
        cluster.link_down("service")
        try:
            time.sleep(TIMEOUT_S + 4)
        finally:
            cluster.link_up("service")
        statuses = [job.status() for job in jobs]
        recovered = until(lambda: ready(cluster), 60, "the service is connected again")
        x = xs[0] + 10
        # the first job after a 12 s cut can itself overrun the 8 s limit (one run in two on this VM; a later
        # job runs at once). Likely, not verified: after 12 s of dropped packets TCP's retransmission timer
        # has backed off to seconds, so the client's stream to the scheduler resumes seconds after the link.
        # The service must run jobs again: a second one is allowed to be the proof
        try:
            after = client.submit(branches(2, 10), x).result(timeout=60)
        except JobFailed as e:
            assert "timeout" in str(e), e
            after = client.submit(branches(2, 10), x + 1e-3).result(timeout=60)
            x = x + 1e-3
    for s in statuses:
        assert s["state"] == "failed" and s["error"]["code"] == "timeout", s
        assert "--timeout" in s["error"]["message"]
    assert_same(after, branches(2, 10), x)
    ran = max(s["finished"] - s["started"] for s in statuses)
    assert ran < TIMEOUT_S + 3
    figure("service host cut off", timeout_s=TIMEOUT_S, jobs_ended_after_s=ran, recovered_after_link_up_s=recovered,
           jobs_lost=0)
