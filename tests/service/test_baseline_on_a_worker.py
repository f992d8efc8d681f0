"""The service process does no heavy work on user data: ``baseline=true``'s serial run is a task on a
worker, and the job's phase says when it runs."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

import catterms as ct
from catterms.compiler import program

pytestmark = pytest.mark.anyio


async def test_the_baseline_runs_on_a_worker_and_shows_its_phase(in_process, slow_term):
    term, x = slow_term(8), np.array([0.1, 0.2, 0.3])  # about a second here, and twice that for the baseline
    async with in_process() as client:
        compiled = program.cache_info().misses
        job = await client.submit(term, x, mode="grad", baseline=True)
        phases: list[str | None] = []
        deadline = time.monotonic() + 120
        while (info := await job.status())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the job did not finish"
            if not phases or phases[-1] != info.get("phase"):
                phases.append(info.get("phase"))
            await asyncio.sleep(0.02)
        value, grad = await job.result()
        report = await job.report()
    assert program.cache_info().misses == compiled, "nothing of the job was compiled in the service's process"
    assert "running" in phases and "baseline" in phases[phases.index("running"):], phases
    assert info["state"] == "done" and info.get("phase") is None
    want_value, want_grad = ct.value_and_grad(term, x)
    assert np.allclose(value, want_value) and np.allclose(grad, want_grad)
    assert report["serial_s"] > 0 and report["efficiency"] > 0
