"""Limits that stop running work: a cancelled job and a job past its timeout free their worker within
seconds (its process is restarted), and the other jobs that were on that worker still finish right.

The hostile job passes admission (23 MiB arrays, about 20 s of estimated work) and runs for a minute or
more; a task cannot be interrupted, so without the restart the next job would wait for it.
"""

from __future__ import annotations

import asyncio
import os
import time

import numpy as np
import pytest

import catterms as ct
from service import JobCancelled
from service.errors import ServiceError

pytestmark = pytest.mark.anyio

F = ct.compose(ct.prim("sum"), ct.prim("sin"))
X = np.linspace(-1.0, 1.0, 5)
POINT = np.array([0.1, 0.2, 0.3])

#: Seconds within which a good job must finish once the hostile one is stopped (the hostile one runs on
#: for a minute); the worker's restart takes 1–3 s here.
FREED_WITHIN_S = 20.0


async def running(client, job, limit_s: float = 30.0) -> None:
    """Wait (bounded) until the job's task runs on the worker."""
    deadline = time.monotonic() + limit_s
    while (await job.status()).get("phase") != "running":
        assert time.monotonic() < deadline, "the job never started"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # its one task has been sent to the worker and started


async def good(client, job) -> float:
    """Wait for a good job; check its numbers; the seconds it took from now."""
    t0 = time.monotonic()
    value, grad = await job.result(timeout=FREED_WITHIN_S)
    want_value, want_grad = ct.value_and_grad(F, X)
    assert np.allclose(value, want_value) and np.allclose(grad, want_grad)
    return time.monotonic() - t0


async def test_a_cancelled_running_job_frees_its_worker(in_process, executor, slow_term):
    pids = set(executor.client.run(os.getpid).values())
    async with in_process(runners=3) as client:
        hostile = await client.submit(slow_term(1500), POINT, mode="value")
        await running(client, hostile)
        beside = await client.submit(F, X, mode="grad")  # waits for the one worker, behind the hostile task
        t0 = time.monotonic()
        assert (await hostile.cancel())["state"] == "cancelled"
        await good(client, beside)
        freed = time.monotonic() - t0
        after = await client.submit(F, X * 0.5, mode="value")
        assert np.allclose((await after.result(timeout=FREED_WITHIN_S)).value, ct.evaluate(F, X * 0.5))
        with pytest.raises(JobCancelled):
            await hostile.result()
    assert freed < FREED_WITHIN_S
    assert not pids & set(executor.client.run(os.getpid).values()), "the worker running it was restarted"


async def test_a_job_past_its_timeout_is_stopped(in_process, executor, slow_term):
    pids = set(executor.client.run(os.getpid).values())
    async with in_process(runners=3, timeout=4.0) as client:
        hostile = await client.submit(slow_term(1501), POINT, mode="value")
        await running(client, hostile)
        with pytest.raises(ServiceError) as info:
            await hostile.result(timeout=10)
        assert info.value.code == "job_failed" and info.value.extra["reason"] == "timeout"
        status = await hostile.status()
        assert status["state"] == "failed" and "stopped" in status["error"]["message"]
        after = await client.submit(F, X, mode="grad")  # submitted after it: runs in seconds, not a minute
        assert await good(client, after) < FREED_WITHIN_S
    assert not pids & set(executor.client.run(os.getpid).values()), "the worker running it was restarted"
