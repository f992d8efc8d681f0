"""Benchmark: latency and throughput of tiny jobs through the service, against a raw Dask round trip;
and the same small jobs beside hostile ones (the noisy neighbour).

    python bench/service.py [--jobs 200] [--clients 8] [--workers 2] [--stream-s 15] [--stream-clients 4]

One Dask cluster of real processes (``dask scheduler`` and ``--workers`` single-threaded ``dask worker``
processes) serves both sides of the comparison, measured in the same run:

* raw Dask: ``client.submit(f, i, pure=False).result()`` from a Dask client in this process;
* the service: ``catterms serve --scheduler ...`` in its own process, driven by :class:`service.Client`
  objects over loopback HTTP, each job ``grad`` of ``sum ∘ sin`` on a 3-vector (a different vector per
  job, so that no job is deduplicated), submit → result.

It prints p50/p99 latency with one client, the throughput with 1 and ``--clients`` concurrent clients
(each a thread with its own connection), the error count, and the ratios to the targets: tiny-job p50
≤ 3× the raw Dask round trip, ≥ 50 jobs/s, no errors.

The noisy neighbour: a stream of small jobs from ``--stream-clients`` clients for ``--stream-s`` seconds,
first alone (quiet), then beside a hostile client that sends three jobs the service must refuse at the
door (issue 13's: a 6000² matmul, a 1e5² broadcast summed and one taken the sine of) and two that pass
admission but would run for a minute or more: one cancelled while it runs, one left to its time limit
(the service runs with ``--timeout`` ``--hostile-timeout``). It prints the refusals' fields, the time from
cancel until the worker that ran the cancelled job is back, the small jobs' p50/p99 beside the quiet
run's — during the noise, and once both hostile jobs are stopped (target: p50 within 2× quiet) — and
the service's memory before and after it plans a 100,000-branch fork (about 100 KB of wire).
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
from service.errors import OverLimit, ServiceError  # noqa: E402

TINY = ct.compose(ct.prim("sum"), ct.prim("sin"))

#: Every wait of the noisy run gives up after this long.
WAIT_S = 60.0


def broadcast(*shape: int) -> ct.Term:
    return ct.prim("broadcast_to", shape=shape)


#: Terms of about 100 bytes that the service must refuse (issue 13): name → (term, mode).
REFUSED = {
    "sum ∘ matmul ∘ dup ∘ broadcast_to[6000,6000]": (
        ct.compose(ct.prim("sum"), ct.prim("matmul"), ct.dup, broadcast(6000, 6000)), "grad"),
    "sum ∘ broadcast_to[1e5,1e5]": (ct.compose(ct.prim("sum"), broadcast(100_000, 100_000)), "grad"),
    "sin ∘ broadcast_to[1e5,1e5]": (ct.compose(ct.prim("sin"), broadcast(100_000, 100_000)), "value"),
}


def hostile(k: int) -> ct.Term:
    """Within every admission limit (23 MiB arrays, ~20 s of estimated work) yet a minute or more of one
    worker here: ``k`` alternating sin/cos on a broadcast to 10⁶ × 3, summed."""
    term = broadcast(1_000_000, 3)
    for i in range(k):
        term = term >> ct.prim("sin" if i % 2 == 0 else "cos")
    return term >> ct.prim("sum")


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


def serve(address: str, data_dir: str, timeout: float) -> tuple[str, subprocess.Popen]:
    proc = start([sys.executable, "-m", "service", "serve", "--port", "0", "--data-dir", data_dir,
                  "--scheduler", address, "--queue-size", "10000", "--timeout", str(timeout)],
                 stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("catterms service at "):
        raise RuntimeError(f"the service did not start: {line!r}")
    return line.split()[3], proc


def tiny_jobs(url: str, first: int, n: int, latencies: list[float], errors: list[str],
              until: float = float("inf"), ends: list[float] | None = None) -> None:
    """``n`` sequential submit → result round trips from one client (fewer if ``until`` passes first;
    ``ends`` gets each one's end time)."""
    with Client(url) as client:
        for i in range(first, first + n):
            if time.perf_counter() >= until:
                break
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
            if ends is not None:
                ends.append(time.perf_counter())


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


def stream(url: str, clients: int, seconds: float, first: int) -> tuple[list[float], list[float], list[str]]:
    """Small jobs from ``clients`` clients for ``seconds`` (at most 5,000 each): latencies, end times, errors."""
    latencies: list[float] = []
    ends: list[float] = []
    errors: list[str] = []
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=tiny_jobs, args=(url, first + k * 5000, 5000, latencies, errors, until, ends))
               for k in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, ends, errors


def memory(pid: int) -> dict[str, float]:
    """A process's resident memory now and at its peak so far, in MiB (Linux)."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}


def wait_phase(job, wanted: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while job.status().get("phase") != wanted:
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job.id} never reached phase {wanted!r}")
        time.sleep(0.05)


def noise(url: str, address: str, workers: int) -> dict:
    """The hostile client: three refusals, then one job cancelled while it runs and one left to its time
    limit. Returns the refusals, when each hostile job was stopped and how long the cancelled job's
    worker took to come back."""
    from distributed import Client as DaskClient

    out: dict = {"refused": {}}
    point = np.array([0.1, 0.2, 0.3])
    with Client(url) as client, DaskClient(address) as dc:
        for name, (term, mode) in REFUSED.items():
            try:
                client.submit(term, np.ones(()), mode=mode).cancel()
                out["refused"][name] = "ACCEPTED"
            except OverLimit as e:
                out["refused"][name] = f"{e.status} {e.code}: limit {e.extra['limit']}, value {e.extra['value']:,.1f}, " \
                                       f"max {e.extra['max']:g}, node {e.node}"
        before = set(dc.scheduler_info()["workers"])
        cancelled, timed_out = client.submit(hostile(1500), point, mode="value"), client.submit(hostile(1501), point,
                                                                                               mode="value")
        for job in (cancelled, timed_out):
            wait_phase(job, "running")
        time.sleep(1.0)  # both tasks are running on the workers
        t0 = time.perf_counter()
        cancelled.cancel()
        out["cancel_call_s"] = time.perf_counter() - t0
        deadline = time.monotonic() + WAIT_S
        while True:  # until the worker that ran it has been replaced by a fresh one
            now = set(dc.scheduler_info()["workers"])
            if len(now) >= workers and now != before:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the cancelled job's worker did not come back")
            time.sleep(0.02)
        out["freed_s"] = time.perf_counter() - t0
        out["cancelled_at"] = t0
        try:
            timed_out.result(timeout=WAIT_S, progress=False)
            out["timed_out"] = "FINISHED"
        except ServiceError as e:
            out["timed_out"] = e.extra.get("reason", e.code)
        out["stopped_at"] = time.perf_counter()
    return out


def fork_memory(url: str, pid: int, branches: int = 100_000) -> dict[str, float]:
    """The service's memory before and once it has checked, planned and sent a ``branches``-way fork."""
    branch = ct.compose(ct.prim("sum"), ct.prim("sin"))
    term = ct.compose(ct.jamn(branches), ct.fork(*[branch] * branches))
    before = memory(pid)
    with Client(url) as client:
        job = client.submit(term, np.ones(3), mode="grad")
        wait_phase(job, "running")
        after = memory(pid)
        job.cancel()
    return {"wire_kb": len(ct.dumps(term)) / 1024, **{f"{k}_before": v for k, v in before.items()},
            **{f"{k}_after": v for k, v in after.items()}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=200, help="jobs per client (default %(default)s)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (default %(default)s)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--stream-s", type=float, default=15.0, help="seconds of each small-job stream (default %(default)s)")
    p.add_argument("--stream-clients", type=int, default=4, help="clients of the streams (default %(default)s)")
    p.add_argument("--hostile-timeout", type=float, default=5.0,
                   help="the service's per-job --timeout, which stops one hostile job (default %(default)s)")
    a = p.parse_args()
    import dask

    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, python "
          f"{platform.python_version()}, dask {dask.__version__}")
    address, procs = cluster(a.workers)
    try:
        raw = raw_dask(address, a.workers, a.jobs)
        with tempfile.TemporaryDirectory() as data_dir:
            url, service = serve(address, data_dir, a.hostile_timeout)
            procs.append(service)
            tiny_jobs(url, -50, 20, [], [])  # warm up: imports, connections, the workers' caches
            wall1, lat1, err1 = concurrent(url, 1, a.jobs, 0)
            walln, latn, errn = concurrent(url, a.clients, a.jobs, 10_000)
            quiet, _, errq = stream(url, a.stream_clients, a.stream_s, 100_000)
            noisy: dict = {}
            hostile_client = threading.Thread(target=lambda: noisy.update(noise(url, address, a.workers)))
            hostile_client.start()
            loud, ends, errl = stream(url, a.stream_clients, a.stream_s, 200_000)
            hostile_client.join(timeout=2 * WAIT_S)
            fork = fork_memory(url, service.pid)
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
    print(f"\nnoisy neighbour: {a.stream_clients} clients of small jobs for {a.stream_s:g} s, quiet then beside a hostile "
          f"client (service --timeout {a.hostile_timeout:g})")
    for name, refusal in noisy.get("refused", {}).items():
        print(f"  refused {name}: {refusal}")
    if "freed_s" not in noisy:
        print("  the hostile client did not finish:", noisy)
        return
    print(f"  cancel of a running hostile job: the call took {noisy['cancel_call_s'] * 1e3:.0f} ms; its worker was "
          f"restarted and back in {noisy['freed_s']:.2f} s; the other one ended by its time limit: {noisy['timed_out']}")
    after = [lat for lat, end in zip(loud, ends) if end - lat >= noisy["stopped_at"]]  # submitted once both stopped
    q50, q99 = percentiles(quiet)
    for label, lats in (("quiet", quiet), ("beside the hostile jobs, all", loud), ("once both were stopped", after)):
        if lats:
            p50, p99 = percentiles(lats)
            print(f"  {label:<30} {len(lats):>5} jobs  p50 {p50 * 1e3:7.1f} ms ({p50 / q50:.2f} x quiet)  "
                  f"p99 {p99 * 1e3:7.1f} ms")
    if after:
        print(f"  target: p50 once stopped <= 2 x quiet: {percentiles(after)[0] / q50:.2f} "
              f"(errors {len(errq) + len(errl)}, target 0)")
    for e in (errq + errl)[:5]:
        print("  error:", e)
    print(f"100,000-branch fork ({fork['wire_kb']:.0f} KiB of wire), the service's memory: {fork['VmRSS_before']:.0f} MiB "
          f"before, {fork['VmRSS_after']:.0f} MiB once planned and sent (peak {fork['VmHWM_before']:.0f} -> "
          f"{fork['VmHWM_after']:.0f} MiB)")


if __name__ == "__main__":
    main()
