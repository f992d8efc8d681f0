"""``catterms serve --scheduler tls://…``: an existing Dask cluster behind mutual TLS (real ``dask scheduler`` and
``dask worker`` processes, certificates made with openssl), and its address never shows through the API."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

import catterms as ct
from service import Client, NotFound

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

F = ct.compose(ct.prim("sum"), ct.prim("sin"))


def certificates(folder: Path) -> list[str]:
    """A throwaway CA and one certificate it signed, for every process of the cluster."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=catterms-test-ca")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=127.0.0.1")
    openssl("x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "cert.pem", "-days", "2")
    return ["--tls-ca-file", str(folder / "ca.pem"), "--tls-cert", str(folder / "cert.pem"), "--tls-key",
            str(folder / "key.pem")]


def wait_for(log: Path, pattern: str) -> re.Match[str]:
    """The first match of ``pattern`` in a process's log, waiting (bounded) for it to appear."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text())
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{log.name} never showed {pattern!r}")


@contextlib.contextmanager
def tls_cluster(tmp_path: Path, tls: list[str]):
    """A TLS scheduler and one registered worker, each in its own process group; yields the scheduler address."""
    procs = []

    def start(name: str, *args: str) -> Path:
        log = tmp_path / f"{name}.log"
        with open(log, "w") as out:
            procs.append(subprocess.Popen([sys.executable, "-m", f"distributed.cli.dask_{name}", *args, "--no-dashboard",
                                           *tls], stderr=out, start_new_session=True))
        return log

    try:
        log = start("scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port", "0")
        address = wait_for(log, r"Scheduler at:\s+(tls://\S+)").group(1)
        wait_for(start("worker", address, "--nthreads", "1"), r"Registered to")
        yield address
    finally:
        for proc in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def test_existing_cluster_over_tls_and_its_address_stays_private(tmp_path, start_server):
    tls = certificates(tmp_path)
    with tls_cluster(tmp_path, tls) as address:
        server = start_server("--scheduler", address, *tls, token="tls-test")
        host_port = address.split("://", 1)[1]
        seen: list[str] = [httpx.get(f"{server.url}/v1/health").text]
        with Client(server.url, "tls-test") as client:
            x = np.array([0.5, 1.5])
            job = client.submit(F, x, baseline=True)
            value, grad = job.result(timeout=120)
            assert np.allclose(grad, np.cos(x)) and np.allclose(value, np.sum(np.sin(x)))
            report = job.report()
            assert report["workers"] == 1 and {t["worker"] for t in report["tasks_detail"]} == {"w0"}
            seen += [repr(report), repr(job.status()), repr([j.info for j in client.jobs()])]
            with pytest.raises(NotFound) as info:
                client.job("0000000000000000")
            seen.append(repr(info.value.to_dict()))
            metrics = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer tls-test"}).text
            seen.append(metrics)
        for text in seen:
            assert host_port not in text and "tls://" not in text and "tcp://" not in text
