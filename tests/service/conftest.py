"""Fixtures of the service tests: a shared real executor, in-process services, a real server process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import AsyncIterator, Iterator

import httpx
import pytest

import catterms as ct

from service import AsyncClient
from service.app import Service, Settings
from service.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def executor():
    """One real local cluster (a worker process) for every in-process API test: it takes seconds to start."""
    from workers import Executor

    with Executor(n_workers=1) as ex:
        yield ex


@pytest.fixture
def in_process(tmp_path, executor):
    """``async with in_process(**settings) as client``: a service on a fresh data dir in this process and an
    AsyncClient talking to it through ASGI (``client.service`` is the service)."""

    @contextlib.asynccontextmanager
    async def serve(token: str | None = None, **settings) -> AsyncIterator[AsyncClient]:
        service = Service(Settings(token=token, **settings), executor, Store(tmp_path / "data"))
        async with service:
            async with AsyncClient("http://service", token, transport=httpx.ASGITransport(service.app)) as client:
                client.service = service
                yield client

    return serve


@pytest.fixture(scope="session")
def slow_term():
    """``slow_term(k)``: R^3 -> R taking about k × 20 ms to evaluate on this machine (broadcast to 10⁶×3,
    k alternating sin/cos, sum): a job that is still running when the test looks at it."""

    def make(k: int) -> ct.Term:
        term = ct.prim("broadcast_to", shape=(1_000_000, 3))
        for i in range(k):
            term = term >> ct.prim("sin" if i % 2 == 0 else "cos")
        return term >> ct.prim("sum")

    return make


class Server:
    """A ``python -m service serve`` process on 127.0.0.1, in its own process group."""

    def __init__(self, data_dir: Path, *args: str, token: str | None = None, env: dict | None = None) -> None:
        self.data_dir, self.token = data_dir, token
        cmd = [sys.executable, "-m", "service", "serve", "--port", "0", "--data-dir", str(data_dir), *args]
        if token:
            cmd += ["--token", token]
        self.log = open(data_dir.parent / f"{data_dir.name}-server.log", "ab")
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=self.log, start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        self.url = self._read_url()

    def _read_url(self, limit: float = 90.0) -> str:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                raise RuntimeError(f"the server exited with {self.proc.wait()}; see {self.log.name}")
            if line.startswith("catterms service at "):
                url = line.split()[3]
                self._wait_healthy(url, deadline)
                return url
        raise RuntimeError("the server did not start in time")

    @staticmethod
    def _wait_healthy(url: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not answer /v1/health in time")

    def kill(self) -> None:
        """SIGKILL the server and every process it started (its cluster), as a machine failure would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()

    def stop(self) -> int:
        """SIGTERM, wait for a clean exit (then make sure nothing of it is left)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        finally:
            self.kill()
        return code


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[Server]:
    """One server per test module: 2 local workers, 2 runners, a bearer token (``live_server.token``)."""
    server = Server(tmp_path_factory.mktemp("live") / "data", "--workers", "2", "--runners", "2",
                    token="t0ken-for-tests")
    yield server
    assert server.stop() == 0, "SIGTERM shuts the service down cleanly"


@pytest.fixture
def start_server(tmp_path) -> Iterator:
    """Start real server processes; each is killed at the end of the test whatever happened."""
    started: list[Server] = []

    def start(*args: str, data_dir: Path | None = None, **kw) -> Server:
        server = Server(data_dir or tmp_path / "data", *args, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
