"""Fixtures of the deploy tests: one namespace cluster per module (see netns.py), and the jobs they run."""

from __future__ import annotations

from typing import Iterator

import pytest

import catterms as ct

import netns


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[netns.NetnsCluster]:
    """Scheduler, two workers and the service, each in its own network namespace; a test that breaks a host
    restores it (link_up, wait_workers) before it ends, so the next test finds a healthy cluster."""
    reason = netns.missing()
    if reason:
        pytest.skip(f"namespace cluster: {reason}")
    with netns.NetnsCluster(tmp_path_factory.mktemp("netns")) as started:
        yield started


@pytest.fixture(scope="session")
def branches():
    """``branches(k, steps)``: R^3 -> R, the sum of ``k`` independent branches, each broadcasting to
    200,000×3 and taking ``steps`` sin/cos steps (about steps × 4 ms each here): a job with one task per
    branch that runs on every worker."""

    def make(k: int, steps: int) -> ct.Term:
        def branch(i: int) -> ct.Term:
            term = ct.prim("broadcast_to", shape=(200_000, 3))
            for s in range(steps + i):  # i more steps: branches differ, so none is shared with another
                term = term >> ct.prim("sin" if s % 2 == 0 else "cos")
            return term >> ct.prim("sum")

        return ct.compose(ct.jamn(k), ct.fork(*(branch(i) for i in range(k))))

    return make
