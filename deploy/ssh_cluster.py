"""Start a Dask cluster over SSH for catterms, and keep it up until Ctrl-C.

    python deploy/ssh_cluster.py head.example.org node1.example.org node2.example.org --workers-per-host 8

The first host runs the scheduler, the others run workers (``pip install asyncssh`` here; key-based ssh
to every host; the same catterms install on each, at the path ``--python`` names; ``deploy/dask.yaml``
copied to ``~/.config/dask/`` on each, which gives the worker processes their allocator settings before
they start). It prints the scheduler address; run the service next to it with
``catterms serve --scheduler ADDRESS --token ...``.
The scheduler port must not be reachable from outside the cluster's network: anyone who can reach it
can run code on the workers (use ``dask-tls.yaml`` for TLS between the hosts).
With ``--restart /path/to/deploy/supervise.sh`` (that file's path on the hosts) each host's Dask process runs
under it and starts again when it exits: a worker cut off from the scheduler exits, as Dask workers cannot
reconnect, and rejoins when the network is back (compose and Kubernetes restart their containers likewise).
"""

from __future__ import annotations

import argparse
import sys
import time


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("hosts", nargs="+", help="scheduler host first, then worker hosts")
    p.add_argument("--workers-per-host", type=int, default=1)
    p.add_argument("--python", default=None, help="python on the remote hosts (default: this one's path)")
    p.add_argument("--restart", metavar="SUPERVISE_SH", default=None,
                   help="deploy/supervise.sh's path on the hosts: restart each Dask process when it exits "
                        "(default: no restarts)")
    return p


def main() -> None:
    a = parser().parse_args()
    from dask.distributed import SSHCluster

    with SSHCluster(
        a.hosts,
        connect_options={"known_hosts": "~/.ssh/known_hosts"},
        scheduler_options={"port": 8786, "dashboard_address": ":8787"},
        worker_options={"n_workers": a.workers_per_host, "nthreads": 1},
        # SSHCluster runs "<remote_python> -m distributed.cli.dask_spec ...": the supervisor goes in front.
        remote_python=f"{a.restart} {a.python or sys.executable}" if a.restart else a.python,
    ) as cluster:
        print(f"scheduler: {cluster.scheduler_address}\ndashboard: {cluster.dashboard_link}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
