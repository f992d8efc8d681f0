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
import re
import signal
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from catterms import wire
from catterms.errors import CattermsError
from workers.admission import JobLimits

from . import arrays, report
from .client import DEFAULT_URL, Client, JobResult
from .submission import MODES
from .version import installed

#: Default port of ``catterms serve``.
PORT = 8765

JOB_HELP = "job id, as submit printed it"

#: Elements of an array that the job commands print; ``--out`` saves all of them.
SHOWN = 20


def names(values: Sequence[str]) -> list[str]:
    """Names given comma- or space-separated, or both (``--families wide,tree`` or ``--families wide tree``)."""
    return [name for value in values for name in re.split(r"[\s,]+", value) if name]


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


def _above_zero(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
    return value


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument("--port", type=int, default=PORT, help="port (default %(default)s; 0 picks a free one)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="job store directory, made private (0700) (default: the user data dir, platformdirs)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--token", default=os.environ.get("CATTERMS_TOKEN"),
                     help="bearer token clients must send: one owner (default $CATTERMS_TOKEN); a token or "
                          "--tokens is required off loopback")
    who.add_argument("--tokens", type=Path, metavar="FILE",
                     help="several owners: 'owner token [admin]' per line, '#' comments; read again on SIGHUP "
                          "(default: none; overrides $CATTERMS_TOKEN)")
    p.add_argument("--workers", type=_positive, default=2,
                   help="workers of the embedded local cluster (default %(default)s)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="use an existing Dask cluster (tcp:// or tls://) instead of a local one (default: local)")
    p.add_argument("--tls-ca-file", help="CA certificate for a tls:// scheduler (default: none)")
    p.add_argument("--tls-cert", help="client certificate for a tls:// scheduler (default: none)")
    p.add_argument("--tls-key", help="client key for a tls:// scheduler (default: none)")
    p.add_argument("--https-cert", help="serve HTTPS with this certificate, PEM (default: plain HTTP)")
    p.add_argument("--https-key", help="private key for --https-cert (default: none)")
    p.add_argument("--max-body-mb", type=float, default=32.0, help="largest request body (default %(default)s MiB)")
    p.add_argument("--limit", type=_limit, action="append", default=[], metavar="NAME=N",
                   help="a term/value limit of catterms.wire.Limits, e.g. max_nodes=100000 (repeatable; "
                        "default: the Limits defaults)")
    p.add_argument("--queue-size", type=_positive, default=1000, help="queued jobs before 503 (default %(default)s)")
    p.add_argument("--runners", type=_positive, default=4, help="jobs in flight at once (default %(default)s)")
    p.add_argument("--timeout", type=float, default=600.0, help="per-job timeout in seconds (default %(default)s)")
    cost = JobLimits()  # a job over any of these is refused before it is stored (docs/service.md, admission)
    p.add_argument("--max-work-s", type=_above_zero, default=cost.work_s, metavar="S",
                   help="refuse a job whose estimated work is over S seconds of one worker (default %(default)s)")
    p.add_argument("--max-array-mb", type=_above_zero, default=cost.array_mb, metavar="MB",
                   help="refuse a job that makes an array over MB MiB (default %(default)s)")
    p.add_argument("--max-result-mb", type=_above_zero, default=cost.result_mb, metavar="MB",
                   help="refuse a job whose value and derivative take over MB MiB (default %(default)s)")
    p.add_argument("--max-tasks", type=_positive, default=cost.tasks, metavar="N",
                   help="refuse a job whose plan has over N Dask tasks (default %(default)s)")


def cmd_serve(a: argparse.Namespace) -> int:
    from .app import Service, Settings
    from .owners import Tokens
    from .server import bind, check_exposure, dashboard, reload_on_sighup, server, url_of
    from .store import Store

    tokens = Tokens.from_file(a.tokens) if a.tokens else None
    token = None if tokens else a.token
    check_exposure(a.host, bool(tokens or token))
    max_body = int(a.max_body_mb * (1 << 20))
    limits = wire.Limits(**{"max_bytes": max_body, **dict(a.limit)})
    cost = JobLimits(a.max_work_s, a.max_array_mb, a.max_result_mb, a.max_tasks)
    settings = Settings(token, max_body, limits, a.queue_size, a.runners, a.timeout, tokens=tokens, job_limits=cost)
    data_dir = a.data_dir or _default_data_dir()
    store = Store(data_dir)  # before the cluster: a locked data dir fails fast
    sock = bind(a.host, a.port)
    ssl = {"ssl_certfile": a.https_cert, "ssl_keyfile": a.https_key} if a.https_cert else {}
    with _executor(a) as executor:
        where = "scheduler given by --scheduler" if a.scheduler else report.plural(a.workers, "local worker")
        print(f"catterms service at {url_of(sock, bool(ssl))} ({where}; data dir {data_dir})", flush=True)
        if not a.scheduler:
            print(f"Dask dashboard: {dashboard(executor.dashboard_link)}", flush=True)
        # uvicorn stops gracefully on SIGTERM and then re-raises it under the handler found here: make
        # that a no-op, so the cluster is closed below and the exit status is 0.
        signal.signal(signal.SIGTERM, lambda *_: None)
        if tokens:
            reload_on_sighup(tokens)
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
    if info.get("phase"):
        line += f"  ({info['phase']})"
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
                print(f"  {path} {arr.dtype}{list(arr.shape)}: {_elements(arr)}")


def _elements(arr: Any) -> str:
    if arr.size <= SHOWN:
        return str(arr)
    return f"{arr.ravel()[:SHOWN]} ... (the first {SHOWN} of {arr.size:,} elements; --out FILE.npz saves them all)"


@remote
def cmd_submit(a: argparse.Namespace, client: Client) -> None:
    term = wire.loads(Path(a.term).read_bytes())
    load = lambda p: None if p is None else arrays.load(p)  # noqa: E731
    job = client.submit(term, load(a.input), a.mode, load(a.tangent), load(a.cotangent), a.baseline)
    if a.wait or a.out is not None or a.timeout is not None:  # both are about the result: they imply --wait
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

    chosen = names(a.families) if a.families else list(FAMILIES)
    modes = names(a.modes)
    for given, known, what in ((chosen, FAMILIES, "benchmark family"), (modes, MODES, "mode")):
        unknown = [n for n in given if n not in known]
        if unknown:
            raise ValueError(f"unknown {what} {unknown[0]!r}; choose from {', '.join(known)}")
    families = [FAMILIES[n](a.branches) for n in chosen]

    def progress(r: dict) -> None:
        ceiling = f"{r['ceiling_efficiency']:.2f}" if r["ceiling_efficiency"] else "-"
        print(f"{r['family']:<14} {r['mode']:<5} P={r['workers']:<3} tasks {r['tasks']:<4} serial {r['serial_s']:.3f} s  "
              f"wall {r['wall_s']:.3f} s  speedup {r['speedup']:.2f}  efficiency {r['efficiency']:.2f}  "
              f"ceiling {ceiling}", flush=True)

    print(f"report written to {sweep(a.workers, a.out, families, modes, a.reps, progress)}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="catterms", description=__doc__.split("\n\n")[0])
    top.add_argument("--version", action="version", version=f"%(prog)s {installed()}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    remote = argparse.ArgumentParser(add_help=False)
    remote.add_argument("--url", default=os.environ.get("CATTERMS_URL", DEFAULT_URL),
                        help="service URL (default $CATTERMS_URL or %(default)s)")
    remote.add_argument("--token", default=os.environ.get("CATTERMS_TOKEN"),
                        help="bearer token (default $CATTERMS_TOKEN; none on a loopback service without tokens)")

    p = sub.add_parser("serve", help="run the job service")
    _serve_args(p)
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("submit", parents=[remote], help="submit a job: a term file and its input")
    p.add_argument("term", help="term file: catterms wire bytes, e.g. written with open(f, 'wb').write(ct.dumps(t))")
    p.add_argument("input", help="input value: .npy, .npz (tuples by dotted keys 0, 1.0, ...) or a wire value file")
    p.add_argument("--mode", default="grad", choices=MODES,
                   help="what to compute: value, grad, jvp and hvp (need --tangent), vjp (needs --cotangent) "
                        "(default %(default)s)")
    p.add_argument("--tangent", metavar="FILE",
                   help="tangent file, like the input (modes jvp and hvp: for hvp the vector v; default: none)")
    p.add_argument("--cotangent", metavar="FILE", help="cotangent file, like the output (mode vjp; default: none)")
    p.add_argument("--baseline", action="store_true",
                   help="also time the job serially, for speedup and efficiency in its report (default: off)")
    p.add_argument("--wait", action="store_true",
                   help="wait for the result and print it (default: print the job id and return)")
    p.add_argument("--out", type=Path, metavar="FILE.npz",
                   help="save value and derivative to this .npz (implies --wait; default: print them)")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="give up waiting after S seconds, exit status 3 (implies --wait; default: no limit)")
    p.set_defaults(run=cmd_submit)

    for name, run, text in (("status", cmd_status, "a job's state and progress"), ("cancel", cmd_cancel, "cancel a job")):
        p = sub.add_parser(name, parents=[remote], help=text)
        p.add_argument("job", help=JOB_HELP)
        p.set_defaults(run=run)

    p = sub.add_parser("jobs", parents=[remote], help="list jobs, newest first")
    p.add_argument("--state", choices=("queued", "running", "done", "failed", "cancelled"),
                   help="only jobs in this state (default: all)")
    p.add_argument("--limit", type=_positive, default=20, help="at most this many jobs (default %(default)s)")
    p.set_defaults(run=cmd_jobs)

    p = sub.add_parser("result", parents=[remote], help="wait for a job's result; print it or save it")
    p.add_argument("job", help=JOB_HELP)
    p.add_argument("--out", type=Path, metavar="FILE.npz", help="save value and derivative to this .npz "
                   f"(default: print them, at most {SHOWN} elements of each array)")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="give up after S seconds, exit status 3 (default: no limit)")
    p.set_defaults(run=cmd_result)

    p = sub.add_parser("report", parents=[remote], help="a finished job's parallel-efficiency report")
    p.add_argument("job", help=JOB_HELP)
    p.add_argument("--json", action="store_true", help="print the report as JSON (default: a table)")
    p.add_argument("--gantt", type=Path, metavar="FILE.png",
                   help="also draw the task timeline to this PNG (default: none)")
    p.set_defaults(run=cmd_report)

    p = sub.add_parser("demo", help="start a service and cluster, run a gradient job, check it (the quickstart)")
    p.add_argument("--workers", type=_positive, default=2, help="workers of the local cluster (default %(default)s)")
    p.add_argument("--models", type=_positive, default=8, help="models in the ensemble (default %(default)s)")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("bench", help="run the workers benchmark families over worker counts; markdown + PNGs")
    p.add_argument("--workers", type=lambda s: [_positive(w) for w in s.split(",")], default=[1, 2],
                   help="comma-separated worker counts (default 1,2)")
    p.add_argument("--families", nargs="+", default=None, metavar="NAME",
                   help="benchmark families of workers.bench to run, comma- or space-separated (default: all)")
    p.add_argument("--branches", type=_positive, default=4, help="K: branches of the parallel families (default 4)")
    p.add_argument("--modes", nargs="+", default=["grad"], metavar="MODE",
                   help=f"modes to measure, comma- or space-separated, of {', '.join(MODES)} (default grad)")
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
