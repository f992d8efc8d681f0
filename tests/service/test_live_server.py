"""A real ``catterms serve`` process on 127.0.0.1 driven by the real Client (and by raw HTTP and the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

import catterms as ct
from catterms import wire
from service import Client, JobCancelled, NotFound, Unauthorized
from service.errors import Conflict

REPO = Path(__file__).resolve().parents[2]
F = ct.compose(ct.prim("sum"), ct.prim("sin"))


@pytest.fixture
def server(live_server):
    return live_server


def test_submit_result_report_status_list(server):
    x = np.linspace(0.0, 1.0, 7)
    with Client(server.url, server.token) as client:
        job = client.submit(F, x, mode="grad", baseline=True)
        value, grad = job.result(timeout=60)
        assert np.allclose(value, ct.evaluate(F, x)) and np.allclose(grad, ct.grad(F, x))
        report = job.report()
        assert report["tasks"] >= 1 and report["efficiency"] > 0 and report["serial_s"] > 0
        assert job.status()["state"] == "done"
        assert job.id in [j.id for j in client.jobs()]
        assert job.id in [j.id for j in client.jobs(state="done")]
    with Client(server.url, server.token) as other:  # reattach from a new connection
        assert np.allclose(other.job(job.id).result(timeout=5).derivative, grad)
        with pytest.raises(NotFound):
            other.job("0000000000000000")


def test_cancel_a_running_job(server, slow_term):
    with Client(server.url, server.token) as client:
        job = client.submit(slow_term(60), np.array([1.0, 2.0, 3.0]), mode="value")
        assert job.cancel()["state"] == "cancelled"
        with pytest.raises(JobCancelled):
            job.result(timeout=10)
        quick = client.submit(F, np.ones(2), mode="value")
        quick.result(timeout=60)
        with pytest.raises(Conflict) as info:
            quick.cancel()
        assert info.value.code == "job_finished"


def test_several_clients_at_once(server):
    results: dict[int, object] = {}

    def worker(k: int) -> None:
        with Client(server.url, server.token) as client:
            jobs = [(i, client.submit(F, np.full(4, 0.1 * k + 0.01 * i))) for i in range(5)]
            for i, job in jobs:
                results[k * 10 + i] = job.result(timeout=120).derivative

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert len(results) == 20
    for key, grad in results.items():
        k, i = divmod(key, 10)
        assert np.allclose(grad, np.cos(np.full(4, 0.1 * k + 0.01 * i)))


def test_auth_over_http(server):
    assert httpx.get(f"{server.url}/v1/health").status_code == 200
    for headers in ({}, {"Authorization": "Bearer nope"}):
        r = httpx.get(f"{server.url}/v1/jobs", headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    with Client(server.url) as anonymous, pytest.raises(Unauthorized):
        anonymous.jobs()


def test_bad_inputs_over_http_and_the_service_keeps_serving(server):
    auth = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/msgpack"}
    r = httpx.post(f"{server.url}/v1/jobs", content=b"\xc1", headers=auth)
    assert (r.status_code, r.json()["code"]) == (400, "malformed_body")
    big = b"\x00" * (33 << 20)  # over the default 32 MiB limit
    r = httpx.post(f"{server.url}/v1/jobs", content=big, headers=auth, timeout=60)
    assert (r.status_code, r.json()["code"]) == (413, "too_large")
    with Client(server.url, server.token) as client:
        assert np.allclose(client.submit(F, np.ones(3)).result(timeout=60).derivative, np.cos(np.ones(3)))


def test_cli_submit_status_result_report(server, tmp_path):
    term, x = tmp_path / "f.ct", tmp_path / "x.npy"
    term.write_bytes(wire.dumps(F))
    np.save(x, np.array([0.3, 0.6]))
    cli = [sys.executable, "-m", "service"]
    remote = ["--url", server.url, "--token", server.token]

    def run(*args: str) -> str:
        done = subprocess.run([*cli, *args, *remote], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    out = tmp_path / "r.npz"
    run("submit", str(term), str(x), "--wait", "--out", str(out))
    with np.load(out) as z:
        assert np.allclose(z["value"], ct.evaluate(F, np.array([0.3, 0.6])))
        assert np.allclose(z["derivative"], np.cos([0.3, 0.6]))
    job_id = run("submit", str(term), str(x), "--mode", "value").strip()
    assert len(job_id) == 16
    assert run("result", job_id, "--timeout", "60").startswith("value:")
    assert job_id in run("status", job_id) and "done" in run("status", job_id)
    assert '"tasks"' in run("report", job_id, "--json")
    gantt = tmp_path / "g.png"
    assert "wall time" in run("report", job_id, "--gantt", str(gantt)) and gantt.stat().st_size > 1000
    assert job_id in run("jobs")
    bad = subprocess.run([*cli, "status", "ffffffffffffffff", *remote], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 1 and "no job" in bad.stderr


def test_non_loopback_bind_without_token_refuses_to_start(tmp_path):
    done = subprocess.run([sys.executable, "-m", "service", "serve", "--host", "0.0.0.0", "--data-dir",
                           str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "CATTERMS_TOKEN"})
    assert done.returncode != 0 and "refusing to listen on 0.0.0.0 without a token" in done.stderr
