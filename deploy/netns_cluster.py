"""Run the multi-host test cluster of tests/deploy by hand: a Dask scheduler, workers (each with its nanny)
and the catterms service, each in a Linux network namespace of its own on a private bridge, over mutual TLS,
started with docker-compose.yml's commands and dask.yaml (tests/deploy/netns.py does the work).

    sudo .venv/bin/python deploy/netns_cluster.py --workers 2

Needs root and iproute2. It prints the service's URL and token and the commands that cut a host off or
kill it; Ctrl-C or SIGTERM tears everything down (processes, namespaces, veths, bridge). Nothing leaves the
namespaces: they have no default route.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "deploy"))

import netns  # noqa: E402  (the harness lives with the tests that use it)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=2, help="worker hosts (default %(default)s)")
    p.add_argument("--dir", type=Path, default=None, help="certificates, logs, job store (default: a new temp dir)")
    p.add_argument("--service-arg", action="append", default=[], metavar="ARG",
                   help="one more argument for catterms serve, e.g. --service-arg=--timeout=20 (repeatable)")
    return p


def main() -> int:
    a = parser().parse_args()
    reason = netns.missing()
    if reason:
        print(f"netns_cluster.py: {reason}", file=sys.stderr)
        return 1
    workdir = a.dir or Path(tempfile.mkdtemp(prefix="catterms-netns-"))
    try:
        with netns.NetnsCluster(workdir, a.workers, a.service_arg) as cluster:
            print(f"service:   {cluster.url}  "
                  f"(CATTERMS_URL={cluster.url} CATTERMS_TOKEN={cluster.token} catterms jobs)")
            print(f"scheduler: {cluster.scheduler_address}  (client certificate {workdir}/certs/client.pem)")
            for name, host in cluster.hosts.items():
                print(f"  {name:10} {host.ip:15} netns {host.ns}; cut off: ip link set {host.veth} down; "
                      f"log {host.log}")
            print("kill a host: ip netns pids NS | xargs kill -9 (it restarts, as compose's restart policy does)")
            print("Ctrl-C to tear it all down", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
