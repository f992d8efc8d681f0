"""The ``catterms`` command line: serve, submit and inspect jobs, run the demo and the benchmarks.

``catterms demo`` is the quickstart: it starts a service and a local cluster, sends a gradient job
through the Python client and checks it against the in-process gradient. The job commands talk to a
running service at ``--url`` (or ``CATTERMS_URL``) with ``--token`` (or ``CATTERMS_TOKEN``).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import signal
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from catterms import wire
from catterms.errors import CattermsError

from . import arrays, report
from .client import DEFAULT_URL, Client, JobResult
from .submission import MODES

#: Default port of ``catterms serve``.
PORT = 8765


def _default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("catterms"))


def _limit(text: str) -> tuple[str, int]:
    name, _, value = text.partition("=")
    names = [f.name for f in dataclasses.fields(wire.Limits)]
    if name not in names or not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=INTEGER with NAME one of {', '.join(names)}")
    return name, int(value)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument("--port", type=int, default=PORT, help="port (default %(default)s; 0 picks a free one)")
    p.add_argument("--data-dir", type=Path, default=None, help="job store directory (default: user data dir)")
    p.add_argument("--token", default=os.environ.get("CATTERMS_TOKEN"),
                   help="bearer token clients must send (default $CATTERMS_TOKEN); required off loopback")
    p.add_argument("--workers", type=_positive, default=2, help="workers of the embedded local cluster")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="use an existing Dask cluster (tcp:// or tls://) instead of a local one")
    p.add_argument("--tls-ca-file", help="CA certificate for a tls:// scheduler")
    p.add_argument("--tls-cert", help="client certificate for a tls:// scheduler")
    p.add_argument("--tls-key", help="client key for a tls:// scheduler")
    p.add_argument("--https-cert", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--https-key", help="private key for --https-cert")
    p.add_argument("--max-body-mb", type=float, default=32.0, help="largest request body (default %(default)s MiB)")
    p.add_argument("--limit", type=_limit, action="append", default=[], metavar="NAME=N",
                   help="a term/value limit of catterms.wire.Limits, e.g. max_nodes=100000 (repeatable)")
    p.add_argument("--queue-size", type=_positive, default=1000, help="queued jobs before 503 (default %(default)s)")
    p.add_argument("--runners", type=_positive, default=4, help="jobs in flight at once (default %(default)s)")
    p.add_argument("--timeout", type=float, default=600.0, help="per-job timeout in seconds (default %(default)s)")


def cmd_serve(a: argparse.Namespace) -> int:
    from .app import Service, Settings
    from .server import bind, check_exposure, dashboard, server, url_of
    from .store import Store

    check_exposure(a.host, a.token)
    max_body = int(a.max_body_mb * (1 << 20))
    limits = wire.Limits(**{"max_bytes": max_body, **dict(a.limit)})
    settings = Settings(a.token, max_body, limits, a.queue_size, a.runners, a.timeout)
    data_dir = a.data_dir or _default_data_dir()
    store = Store(data_dir)  # before the cluster: a locked data dir fails fast
    sock = bind(a.host, a.port)
    ssl = {"ssl_certfile": a.https_cert, "ssl_keyfile": a.https_key} if a.https_cert else {}
    with _executor(a) as executor:
        where = "scheduler given by --scheduler" if a.scheduler else f"{a.workers} local workers"
        print(f"catterms service at {url_of(sock, bool(ssl))} ({where}; data dir {data_dir})", flush=True)
        if not a.scheduler:
            print(f"Dask dashboard: {dashboard(executor.dashboard_link)}", flush=True)
        # uvicorn stops gracefully on SIGTERM and then re-raises it under the handler found here: make
        # that a no-op, so the cluster is closed below and the exit status is 0.
        signal.signal(signal.SIGTERM, lambda *_: None)
        server(Service(settings, executor, store), **ssl).run(sockets=[sock])
    return 0


def _executor(a: argparse.Namespace) -> Any:
    from workers import Executor, like_a_worker

    like_a_worker()  # this process times the baselines: give it the workers' allocator and BLAS settings

    if a.scheduler is None:
        return Executor(n_workers=a.workers)
    if a.tls_ca_file or a.tls_cert or a.tls_key:
        import dask

        # Dask's own TLS settings: the Executor's client reads them (as from dask-tls.yaml), and the
        # service itself never imports distributed.
        dask.config.set({
            "distributed.comm.require-encryption": True, "distributed.comm.tls.ca-file": a.tls_ca_file,
            "distributed.comm.tls.client.cert": a.tls_cert, "distributed.comm.tls.client.key": a.tls_key,
        })
    return Executor(a.scheduler)


def remote(command: Callable[[argparse.Namespace, Client], None]) -> Callable[[argparse.Namespace], int]:
    """A command that talks to a running service through a :class:`Client` from ``--url``/``--token``."""

    @functools.wraps(command)
    def run(a: argparse.Namespace) -> int:
        with Client(a.url, a.token) as client:
            command(a, client)
        return 0

    return run


def _print_status(info: dict[str, Any]) -> None:
    progress = info.get("progress") or {}
    line = f"{info['id']}  {info['state']:<9}  {info['mode']:<5}  tasks {progress.get('done')}/{progress.get('total')}"
    if info.get("error"):
        line += f"  {info['error']['code']}: {info['error']['message']}"
    print(line)


def _show_result(result: JobResult, out: Path | None) -> None:
    if out is not None:
        print(f"saved to {arrays.save(out, value=result.value, derivative=result.derivative)}")
        return
    for name, value in (("value", result.value), ("derivative", result.derivative)):
        if value is not None:
            print(f"{name}:")
            for path, arr in arrays.flatten(value, name).items():
                print(f"  {path} {arr.dtype}{list(arr.shape)}: {arr if arr.size <= 20 else arr.ravel()[:20]}")


@remote
def cmd_submit(a: argparse.Namespace, client: Client) -> None:
    term = wire.loads(Path(a.term).read_bytes())
    load = lambda p: None if p is None else arrays.load(p)  # noqa: E731
    job = client.submit(term, load(a.input), a.mode, load(a.tangent), load(a.cotangent), a.baseline)
    if a.wait:
        print(f"job {job.id}", file=sys.stderr)
        _show_result(job.result(timeout=a.timeout), a.out)
    else:
        print(job.id)


@remote
def cmd_status(a: argparse.Namespace, client: Client) -> None:
    _print_status(client.job(a.job).status())


@remote
def cmd_jobs(a: argparse.Namespace, client: Client) -> None:
    for job in client.jobs(a.state, a.limit):
        _print_status(job.info)


@remote
def cmd_result(a: argparse.Namespace, client: Client) -> None:
    _show_result(client.job(a.job).result(timeout=a.timeout), a.out)


@remote
def cmd_report(a: argparse.Namespace, client: Client) -> None:
    data = client.job(a.job).report()
    print(report.to_json(data) if a.json else report.table(data, f"job {a.job}"))
    if a.gantt:
        print(f"task timeline written to {report.gantt(data, a.gantt, f'job {a.job}')}", file=sys.stderr)


@remote
def cmd_cancel(a: argparse.Namespace, client: Client) -> None:
    _print_status(client.job(a.job).cancel())


def cmd_demo(a: argparse.Namespace) -> int:
    from .demo import demo

    return demo(workers=a.workers, models=a.models)


def cmd_bench(a: argparse.Namespace) -> int:
    from workers.bench import FAMILIES

    from .sweep import sweep

    names = a.families or list(FAMILIES)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown benchmark family {unknown[0]!r}; the families are {', '.join(FAMILIES)}")
    families = [FAMILIES[n](a.branches) for n in names]

    def progress(r: dict) -> None:
        ceiling = f"{r['ceiling_efficiency']:.2f}" if r["ceiling_efficiency"] else "-"
        print(f"{r['family']:<14} {r['mode']:<5} P={r['workers']:<3} tasks {r['tasks']:<4} serial {r['serial_s']:.3f} s  "
              f"wall {r['wall_s']:.3f} s  speedup {r['speedup']:.2f}  efficiency {r['efficiency']:.2f}  "
              f"ceiling {ceiling}", flush=True)

    print(f"report written to {sweep(a.workers, a.out, families, a.modes, a.reps, progress)}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="catterms", description=__doc__.split("\n\n")[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    remote = argparse.ArgumentParser(add_help=False)
    remote.add_argument("--url", default=os.environ.get("CATTERMS_URL", DEFAULT_URL),
                        help="service URL (default $CATTERMS_URL or %(default)s)")
    remote.add_argument("--token", default=os.environ.get("CATTERMS_TOKEN"), help="bearer token ($CATTERMS_TOKEN)")

    p = sub.add_parser("serve", help="run the job service")
    _serve_args(p)
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("submit", parents=[remote], help="submit a job: a term file and its input")
    p.add_argument("term", help="term file: catterms wire bytes, e.g. written with open(f, 'wb').write(ct.dumps(t))")
    p.add_argument("input", help="input value: .npy, .npz (tuples by dotted keys 0, 1.0, ...) or a wire value file")
    p.add_argument("--mode", default="grad", choices=MODES)
    p.add_argument("--tangent", help="tangent file (mode jvp; the vector v of mode hvp)")
    p.add_argument("--cotangent", help="cotangent file (mode vjp)")
    p.add_argument("--baseline", action="store_true", help="also time the job serially (efficiency report)")
    p.add_argument("--wait", action="store_true", help="wait for the result and print it (or --out it)")
    p.add_argument("--out", type=Path, help="with --wait: save value and derivative to this .npz")
    p.add_argument("--timeout", type=float, default=None, help="with --wait: give up after this many seconds")
    p.set_defaults(run=cmd_submit)

    for name, run, text in (("status", cmd_status, "a job's state and progress"), ("cancel", cmd_cancel, "cancel a job")):
        p = sub.add_parser(name, parents=[remote], help=text)
        p.add_argument("job")
        p.set_defaults(run=run)

    p = sub.add_parser("jobs", parents=[remote], help="list jobs, newest first")
    p.add_argument("--state", choices=("queued", "running", "done", "failed", "cancelled"))
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(run=cmd_jobs)

    p = sub.add_parser("result", parents=[remote], help="wait for a job's result; print it or save it")
    p.add_argument("job")
    p.add_argument("--out", type=Path, help="save value and derivative to this .npz")
    p.add_argument("--timeout", type=float, default=None)
    p.set_defaults(run=cmd_result)

    p = sub.add_parser("report", parents=[remote], help="a finished job's parallel-efficiency report")
    p.add_argument("job")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--gantt", type=Path, help="also draw the task timeline to this PNG")
    p.set_defaults(run=cmd_report)

    p = sub.add_parser("demo", help="start a service and cluster, run a gradient job, check it (the quickstart)")
    p.add_argument("--workers", type=_positive, default=2)
    p.add_argument("--models", type=_positive, default=8, help="models in the ensemble (default %(default)s)")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("bench", help="run the workers benchmark families over worker counts; markdown + PNGs")
    p.add_argument("--workers", type=lambda s: [_positive(w) for w in s.split(",")], default=[1, 2],
                   help="comma-separated worker counts (default 1,2)")
    p.add_argument("--families", nargs="*", default=None,
                   help="benchmark families of workers.bench to run (default: all)")
    p.add_argument("--branches", type=_positive, default=4, help="K: branches of the parallel families (default 4)")
    p.add_argument("--modes", nargs="*", default=["grad"], choices=MODES)
    p.add_argument("--reps", type=_positive, default=3, help="runs per measurement; the median is kept (default 3)")
    p.add_argument("--out", type=Path, default=Path("bench-report"), help="output folder (default %(default)s)")
    p.set_defaults(run=cmd_bench)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except TimeoutError as e:  # before OSError, its base class
        print(f"catterms {args.command}: {e}", file=sys.stderr)
        return 3
    except (CattermsError, OSError, ValueError) as e:
        print(f"catterms {args.command}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
