"""``catterms demo``: one realistic gradient job through the whole stack, checked against catterms itself.

The function is an ensemble of K independent MLP losses (:func:`catterms.examples.ensemble_loss`): K
branches that share only their input, which the workers run in parallel. The demo starts a local Dask
cluster and the job service on loopback (a throwaway data dir), submits ``grad`` once to warm the
workers up and then with ``baseline=True`` through :class:`service.Client`, compares the gradient with
the in-process ``ct.value_and_grad`` and the value with plain numpy, prints the figures and the
efficiency report, and shuts everything down.
A gradient that does not match fails the demo (exit status 1).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import catterms as ct
from catterms.examples import ensemble_loss

from . import report
from .app import Service, Settings
from .arrays import flatten
from .client import Client
from .server import dashboard, running
from .store import Store

#: Per member: 2048 samples, 16 features, 1536 hidden units — about half a second of serial gradient work
#: for 8 members on one core here; each activation (24 MB) stays under glibc's largest mmap threshold, so the
#: serial baseline is not slowed by page faults that the workers' smaller working sets avoid.
SIZE = {"batch": 2048, "width": 1536, "features": 16}

#: A correct gradient agrees to rounding: different task boundaries only reorder float sums.
TOLERANCE = 1e-9

#: Below this much serial work, one timed run of the job against its baseline says more about the
#: machine's other load than about the split (``--models 1``: 35 ms, efficiencies from 0.45 to 2.66 seen).
NOISY_S = 0.25


def max_relative_error(got: Any, want: Any) -> float:
    """max over leaves of ``max|got − want| / max|want|``."""
    a, b = flatten(got), flatten(want)
    if a.keys() != b.keys():
        return float("inf")
    return max(float(np.max(np.abs(a[k] - b[k])) / max(float(np.max(np.abs(b[k]))), 1e-300)) for k in b)


def demo(workers: int = 2, models: int = 8) -> int:
    from workers import Executor, like_a_worker

    like_a_worker()  # the baseline is timed in this process: give it the workers' settings

    example = ensemble_loss(models, **SIZE)
    term, x = example.term, example.example_input
    params = sum(a.size for a in flatten(x).values())
    print(f"catterms demo: the gradient of an ensemble of {report.plural(models, 'MLP loss', 'MLP losses')} "
          f"({report.plural(models, 'independent branch', 'independent branches')}, {params:,} parameters, "
          f"{sum(1 for _ in term.nodes())} distinct term nodes)")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="catterms-demo-") as data_dir:
        with Executor(n_workers=workers) as executor:
            print(f"local Dask cluster: {report.plural(workers, 'worker')}; dashboard (while the demo runs): "
                  f"{dashboard(executor.dashboard_link)}")
            service = Service(Settings(), executor, Store(Path(data_dir)))
            with running(service) as url, Client(url) as client:
                print(f"service: {url}")
                # fresh workers compile each subterm and grow their heaps on the first job: run it once
                # so the report below shows what every later job of this term costs
                warm = client.submit(term, x, mode="grad")
                warm.result()
                print(f"warm-up job {warm.id} (grad, cold workers): {warm.report()['wall_s']:.2f} s")
                job = client.submit(term, x, mode="grad", baseline=True)
                print(f"submitted job {job.id} (grad, baseline=True)")
                value, gradient = job.result()
                job_report = job.report()
    elapsed = time.perf_counter() - t0
    want_value, want_gradient = ct.value_and_grad(term, x)
    grad_error = max_relative_error(gradient, want_gradient)
    value_error = max_relative_error(value, example.reference(x))
    norm = float(np.sqrt(sum(float(np.sum(a * a)) for a in flatten(gradient).values())))
    ok = grad_error <= TOLERANCE and value_error <= TOLERANCE
    print(f"\nvalue                          {float(value):.10g}")
    print(f"gradient norm                  {norm:.10g}")
    print(f"max relative error, gradient vs in-process ct.value_and_grad: {grad_error:.2e}")
    print(f"max relative error, value vs plain numpy:                     {value_error:.2e}")
    title = f"\nefficiency report of job {job.id} ({report.plural(job_report['workers'], 'worker')}):"
    print(report.table(job_report, title))
    if job_report["serial_s"] < NOISY_S:
        print(f"  (a {job_report['serial_s'] * 1e3:.0f} ms job: one timed run of it against its baseline, so\n"
              f"   the machine's other load decides these ratios; --models {8 * models} makes a job long enough)")
    print(f"\nservice, cluster and job: {elapsed:.1f} s; everything is shut down.")
    if not ok:
        print(f"FAILED: the service's result differs from the in-process one by more than {TOLERANCE:g}")
        return 1
    print("OK: the service's gradient matches the in-process gradient.")
    return 0
