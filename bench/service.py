"""Benchmark: latency and throughput of tiny jobs through the service, against a raw Dask round trip.

    python bench/service.py [--jobs 200] [--clients 8] [--workers 2]

One Dask cluster of real processes (``dask scheduler`` and ``--workers`` single-threaded ``dask worker``
processes) serves both sides of the comparison, measured in the same run:

* raw Dask: ``client.submit(f, i, pure=False).result()`` from a Dask client in this process;
* the service: ``catterms serve --scheduler ...`` in its own process, driven by :class:`service.Client`
  objects over loopback HTTP, each job ``grad`` of ``sum ∘ sin`` on a 3-vector (a different vector per
  job, so that no job is deduplicated), submit → result.

It prints p50/p99 latency with one client, the throughput with 1 and ``--clients`` concurrent clients
(each a thread with its own connection), the error count, and the ratios to the targets: tiny-job p50
≤ 3× the raw Dask round trip, ≥ 50 jobs/s, no errors.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# This script is itself named service.py: put the repository, not bench/, first on the import path so that
# ``import service`` finds the package.
sys.path[0] = str(REPO)

import numpy as np  # noqa: E402

import catterms as ct  # noqa: E402
from service import Client  # noqa: E402
TINY = ct.compose(ct.prim("sum"), ct.prim("sin"))


def start(cmd: list[str], env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **(env or {})}, start_new_session=True, **kw)


def cluster(workers: int) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler and ``workers`` worker processes on loopback; returns the scheduler address."""
    sched = start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                   "--no-dashboard"], stderr=subprocess.PIPE, text=True)
    address = None
    deadline = time.monotonic() + 60
    while address is None and time.monotonic() < deadline:
        line = sched.stderr.readline()
        if "Scheduler at:" in line:
            address = line.split("Scheduler at:")[1].strip()
    if address is None:
        raise RuntimeError("the scheduler did not start")
    threading.Thread(target=sched.stderr.read, daemon=True).start()  # keep its pipe drained
    procs = [sched] + [
        start([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-dashboard"],
              stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    return address, procs


def percentiles(xs: list[float]) -> tuple[float, float]:
    return float(np.percentile(xs, 50)), float(np.percentile(xs, 99))


def inc(i: int) -> int:
    return i + 1


def raw_dask(address: str, workers: int, n: int) -> list[float]:
    from distributed import Client as DaskClient

    with DaskClient(address) as dc:
        dc.wait_for_workers(workers, timeout=60)
        for i in range(20):  # warm up
            dc.submit(inc, i, pure=False).result()
        times = []
        for i in range(n):
            t = time.perf_counter()
            dc.submit(inc, i, pure=False).result()
            times.append(time.perf_counter() - t)
        return times


def serve(address: str, data_dir: str) -> tuple[str, subprocess.Popen]:
    proc = start([sys.executable, "-m", "service", "serve", "--port", "0", "--data-dir", data_dir,
                  "--scheduler", address, "--queue-size", "10000"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("catterms service at "):
        raise RuntimeError(f"the service did not start: {line!r}")
    return line.split()[3], proc


def tiny_jobs(url: str, first: int, n: int, latencies: list[float], errors: list[str]) -> None:
    """``n`` sequential submit → result round trips from one client."""
    with Client(url) as client:
        for i in range(first, first + n):
            x = np.array([i, i + 1, i + 2]) * 1e-3
            t = time.perf_counter()
            try:
                value, grad = client.submit(TINY, x).result(timeout=60, progress=False)
                if not np.allclose(grad, np.cos(x)):
                    errors.append(f"job {i}: wrong gradient")
            except Exception as e:  # noqa: BLE001 - a benchmark counts every failure
                errors.append(f"job {i}: {type(e).__name__}: {e}")
                continue
            latencies.append(time.perf_counter() - t)


def concurrent(url: str, clients: int, per_client: int, first: int) -> tuple[float, list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    threads = [threading.Thread(target=tiny_jobs, args=(url, first + k * per_client, per_client, latencies, errors))
               for k in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t, latencies, errors


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=200, help="jobs per client (default %(default)s)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (default %(default)s)")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    import dask

    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, python "
          f"{platform.python_version()}, dask {dask.__version__}")
    address, procs = cluster(a.workers)
    try:
        raw = raw_dask(address, a.workers, a.jobs)
        with tempfile.TemporaryDirectory() as data_dir:
            url, service = serve(address, data_dir)
            procs.append(service)
            tiny_jobs(url, -50, 20, [], [])  # warm up: imports, connections, the workers' caches
            wall1, lat1, err1 = concurrent(url, 1, a.jobs, 0)
            walln, latn, errn = concurrent(url, a.clients, a.jobs, 10_000)
    finally:
        for proc in reversed(procs):  # the service first, then the workers, then the scheduler
            proc.terminate()
            proc.wait(timeout=60)
    raw50, raw99 = percentiles(raw)
    s50, s99 = percentiles(lat1) if lat1 else (float("nan"),) * 2
    n50, n99 = percentiles(latn) if latn else (float("nan"),) * 2
    tp1, tpn = len(lat1) / wall1, len(latn) / walln
    print(f"raw Dask round trip (submit+result), {a.jobs} jobs: p50 {raw50 * 1e3:.1f} ms  p99 {raw99 * 1e3:.1f} ms")
    print(f"service, 1 client,  {a.jobs} jobs: p50 {s50 * 1e3:.1f} ms  p99 {s99 * 1e3:.1f} ms  "
          f"throughput {tp1:.1f} jobs/s  errors {len(err1)}")
    print(f"service, {a.clients} clients, {a.clients}x{a.jobs} jobs: p50 {n50 * 1e3:.1f} ms  p99 {n99 * 1e3:.1f} ms  "
          f"throughput {tpn:.1f} jobs/s  errors {len(errn)}")
    print(f"ratios: p50 service / raw Dask = {s50 / raw50:.2f} (target <= 3); "
          f"throughput {max(tp1, tpn):.0f} jobs/s / 50 = {max(tp1, tpn) / 50:.2f} (target >= 1); "
          f"errors {len(err1) + len(errn)} (target 0)")
    for e in (err1 + errn)[:5]:
        print("  error:", e)


if __name__ == "__main__":
    main()
