"""A multi-host Dask cluster on one machine: each "host" a Linux network namespace on a private bridge.

The scheduler, each worker and the catterms service run in namespaces of their own, joined by veth pairs to a
bridge that has an address of its own (``.1``), so this process reaches the service (and, for checks, the
scheduler) over the bridge as another host would. The namespaces get no default route: no traffic leaves
them. The processes are started with the compose file's commands and environment and ``deploy/dask.yaml``
plus ``deploy/dask-tls.yaml`` (certificates made here), so the recipe and this harness cannot drift; like the
compose file's ``restart:`` policy, a supervisor thread restarts a host process that exited on its own.
Used by tests/deploy (``import netns``) and by ``deploy/netns_cluster.py`` by hand. Needs root and iproute2.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent
SCHEDULER_PORT, SERVICE_PORT = 8786, 8765
TLS_FILES = ("ca", "scheduler", "worker", "client")  # the certificate names deploy/dask-tls.yaml uses
# What the compose recipe names that a namespace cluster has elsewhere.
COMPOSE_SCHEDULER, COMPOSE_DATA_DIR = "tcp://scheduler:8786", "/var/lib/catterms"


def missing() -> str | None:
    """Why the harness cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "needs iproute2's ip command"
    if subprocess.run(["ip", "netns", "list"], capture_output=True, timeout=10).returncode != 0:
        return "ip netns does not work here"
    return None


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=check)


def compose() -> dict[str, Any]:
    """deploy/docker-compose.yml, its anchors and merge keys resolved."""
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def recipe(service: str, replace: dict[str, str]) -> tuple[list[str], dict[str, str], bool]:
    """A compose service's command (the arguments in ``replace`` replaced, the executable from this
    virtualenv), its environment, and whether its restart policy restarts it after it exits."""
    spec = compose()["services"][service]
    command = [replace.get(arg, arg) for arg in spec["command"]]
    command[0] = str(BIN / command[0])
    env = {key: str(value) for key, value in spec["environment"].items()}
    return command, env, spec.get("restart", "no") in ("always", "unless-stopped", "on-failure")


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.231.x.0/24 that no address or route on this machine uses (x random: parallel runs differ)."""
    used = _ip("-o", "addr").stdout + _ip("route").stdout
    for x in secrets.SystemRandom().sample(range(1, 255), 254):
        if f"10.231.{x}." not in used:
            return ipaddress.IPv4Network(f"10.231.{x}.0/24")
    raise RuntimeError("no free 10.231.x.0/24 subnet on this machine")


def certificates(folder: Path) -> list[str]:
    """A throwaway CA and one certificate it signed, saved under each name dask-tls.yaml uses (Dask checks
    certificates against the CA but not host names); returns the service's ``--tls-*`` flags."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def cert(subject: str, key: Any, issuer: str, issuer_key: Any, ca: bool) -> bytes:
        now = datetime.datetime.now(datetime.timezone.utc)
        built = (x509.CertificateBuilder()
                 .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                 .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                 .public_key(key.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(now - datetime.timedelta(minutes=5))
                 .not_valid_after(now + datetime.timedelta(days=2))
                 .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                 .sign(issuer_key, hashes.SHA256()))
        return built.public_bytes(serialization.Encoding.PEM)

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    (folder / "ca.pem").write_bytes(cert("catterms-test-ca", ca_key, "catterms-test-ca", ca_key, True))
    leaf = cert("catterms-test", key, "catterms-test-ca", ca_key, False)
    for name in TLS_FILES[1:]:
        (folder / f"{name}.pem").write_bytes(leaf)
        (folder / f"{name}-key.pem").write_bytes(pem_key)
    return ["--tls-ca-file", str(folder / "ca.pem"), "--tls-cert", str(folder / "client.pem"),
            "--tls-key", str(folder / "client-key.pem")]


class Host:
    """One namespace and the one process (the compose service's command) that runs in it."""

    def __init__(self, ns: str, veth: str, ip: str, command: list[str], env: dict[str, str], restart: bool,
                 log: Path) -> None:
        self.ns, self.veth, self.ip, self.command, self.env, self.log = ns, veth, ip, command, env, log
        self.restart = restart  # the compose service's restart policy restarts it after an exit
        self.proc: subprocess.Popen | None = None
        self.wanted = False  # False after stop_host: the supervisor leaves it down
        self.restarts: list[float] = []  # monotonic times the supervisor restarted it

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *self.command], stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, env=self.env)
        self.wanted = True

    def kill(self) -> None:
        """SIGKILL every process in the namespace (its process group first, then anything else left in it)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # a nanny's worker may fork on until it is reached: repeat
            pids = _ip("netns", "pids", self.ns, check=False).stdout.split()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            time.sleep(0.05)
        if self.proc is not None:
            self.proc.wait(timeout=30)


class NetnsCluster:
    """Scheduler, ``n_workers`` workers (each with its nanny) and the service, each on a namespace "host"."""

    def __init__(self, workdir: Path, n_workers: int = 2, service_args: Sequence[str] = (),
                 supervise: bool = True) -> None:
        self.workdir, self.supervise, self.service_args = Path(workdir), supervise, list(service_args)
        self.run_id = secrets.token_hex(3)
        self.bridge = f"ct{self.run_id}br"
        self.net = _free_subnet()
        self.subnet = str(self.net)
        addresses = [str(a) for a in self.net.hosts()]
        names = ["scheduler", *(f"worker{i}" for i in range(n_workers)), "service"]
        self.ip = {"bridge": addresses[0], **{name: addresses[i + 1] for i, name in enumerate(names)}}
        self.scheduler_address = f"tls://{self.ip['scheduler']}:{SCHEDULER_PORT}"
        self.url = f"http://{self.ip['service']}:{SERVICE_PORT}"
        self.token = secrets.token_hex(24)
        self.tls = certificates(self.workdir / "certs")
        self.dask_config = self._dask_config()
        self.hosts = {name: Host(f"ct{self.run_id}-{name}", f"ct{self.run_id}v{i}", self.ip[name],
                                 *self._recipe(name), self.workdir / f"{name}.log") for i, name in enumerate(names)}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._old_sigterm: Any = None

    def _recipe(self, name: str) -> tuple[list[str], dict[str, str], bool]:
        """The compose recipe of this host, with this cluster's addresses, paths and environment."""
        command, env, restart = recipe(name.rstrip("0123456789"), {
            COMPOSE_SCHEDULER: self.scheduler_address, COMPOSE_DATA_DIR: str(self.workdir / "data")})
        env = {**os.environ, **env, "DASK_CONFIG": str(self.dask_config), "CATTERMS_TOKEN": self.token,
               "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
        return [*command, *self.tls, *self.service_args] if name == "service" else command, env, restart

    def _dask_config(self) -> Path:
        """A DASK_CONFIG folder: deploy/dask.yaml, and deploy/dask-tls.yaml pointed at this run's certificates
        instead of /certs."""
        config = self.workdir / "dask"
        config.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEPLOY / "dask.yaml", config / "dask.yaml")
        tls = (DEPLOY / "dask-tls.yaml").read_text().replace("/certs/", f"{self.workdir / 'certs'}/")
        (config / "dask-tls.yaml").write_text(tls)
        return config

    # --- life cycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> NetnsCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, timeout: float = 90) -> NetnsCluster:
        """Make the network, start every host's process, wait until the workers and the service answer."""
        if threading.current_thread() is threading.main_thread():
            # SIGTERM unwinds like Ctrl-C, so the teardown below runs.
            self._old_sigterm = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            self._network()
            for name, host in self.hosts.items():
                host.start()
                if name == "scheduler":
                    self._wait(lambda: self._port_open(host.ip, SCHEDULER_PORT), timeout, "the scheduler")
            self.wait_workers(len(self.hosts) - 2, timeout)
            self._wait(self._healthy, timeout, "the service's /v1/health")
        except BaseException:
            self.close()
            raise
        if self.supervise:
            self._supervisor = threading.Thread(target=self._supervise, name="netns-supervisor", daemon=True)
            self._supervisor.start()
        return self

    def close(self) -> None:
        """Stop every process and delete the namespaces, veths and bridge (safe to call twice)."""
        self._closed.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)
        with self._lock:
            for host in reversed(list(self.hosts.values())):
                host.wanted = False
                host.kill()
                _ip("netns", "del", host.ns, check=False)
                _ip("link", "del", host.veth, check=False)
            _ip("link", "del", self.bridge, check=False)
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None

    def _network(self) -> None:
        prefix = self.net.prefixlen
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.ip['bridge']}/{prefix}", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for host in self.hosts.values():
            _ip("netns", "add", host.ns)
            _ip("link", "add", host.veth, "type", "veth", "peer", "name", f"{host.veth}p")
            _ip("link", "set", f"{host.veth}p", "netns", host.ns)
            _ip("link", "set", host.veth, "master", self.bridge)
            _ip("link", "set", host.veth, "up")
            for args in (("link", "set", f"{host.veth}p", "name", "eth0"),
                         ("addr", "add", f"{host.ip}/{prefix}", "dev", "eth0"),
                         ("link", "set", "eth0", "up"), ("link", "set", "lo", "up")):
                _ip("-n", host.ns, *args)

    def _supervise(self) -> None:
        """The recipes' restart policy: restart, within about a second, a host process that exited on its own."""
        while not self._closed.wait(0.5):
            with self._lock:
                for host in self.hosts.values():
                    if host.restart and host.wanted and host.proc is not None and host.proc.poll() is not None:
                        host.kill()  # whatever it left in the namespace
                        host.start()
                        host.restarts.append(time.monotonic())

    # --- faults -------------------------------------------------------------------------------------------

    def link_down(self, host: str) -> None:
        """Cut a host off: its veth's bridge end goes down (no traffic-control drop modules on this kernel)."""
        _ip("link", "set", self.hosts[host].veth, "down")

    def link_up(self, host: str) -> None:
        _ip("link", "set", self.hosts[host].veth, "up")

    def kill_host(self, host: str) -> None:
        """SIGKILL every process on the host, as a machine failure would; the supervisor restarts it."""
        with self._lock:
            self.hosts[host].kill()

    def stop_host(self, host: str) -> None:
        """SIGTERM the host's process and wait (bounded); it stays down until start_host."""
        with self._lock:
            h = self.hosts[host]
            h.wanted = False
            if h.proc is not None and h.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(h.proc.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    h.proc.wait(timeout=30)
            h.kill()

    def start_host(self, host: str) -> None:
        with self._lock:
            self.hosts[host].kill()
            self.hosts[host].start()

    def exec(self, host: str, *cmd: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run a command inside a host's namespace."""
        return subprocess.run(["ip", "netns", "exec", self.hosts[host].ns, *cmd], capture_output=True, text=True,
                              timeout=timeout)

    def log(self, host: str) -> str:
        return self.hosts[host].log.read_text(errors="replace")

    # --- looking at it ------------------------------------------------------------------------------------

    def client(self, timeout: float = 60) -> Any:
        """A catterms Python client to the service, over the bridge."""
        from service import Client

        return Client(self.url, self.token, timeout=timeout)

    def workers(self, timeout: float = 5) -> list[str]:
        """The worker addresses the scheduler knows now ([] when it cannot be reached in ``timeout``)."""
        from distributed.core import rpc
        from distributed.security import Security

        security = Security(tls_ca_file=str(self.workdir / "certs/ca.pem"), require_encryption=True,
                            tls_client_cert=str(self.workdir / "certs/client.pem"),
                            tls_client_key=str(self.workdir / "certs/client-key.pem"))

        async def ask() -> list[str]:
            async with rpc(self.scheduler_address, connection_args=security.get_connection_args("client"),
                           timeout=timeout) as scheduler:
                return sorted((await scheduler.identity())["workers"])

        try:
            return asyncio.run(asyncio.wait_for(ask(), timeout))
        except (OSError, asyncio.TimeoutError):
            return []

    def wait_workers(self, n: int, timeout: float = 60) -> float:
        """Seconds until the scheduler has ``n`` workers (raises TimeoutError after ``timeout``)."""
        start = time.monotonic()
        self._wait(lambda: len(self.workers()) == n, timeout, f"{n} workers")
        return time.monotonic() - start

    @staticmethod
    def _port_open(ip: str, port: int) -> bool:
        import socket

        with contextlib.suppress(OSError), socket.create_connection((ip, port), timeout=1):
            return True
        return False

    def _healthy(self) -> bool:
        with contextlib.suppress(httpx.TransportError):
            return httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200
        return False

    @staticmethod
    def _wait(ready: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt("SIGTERM")
