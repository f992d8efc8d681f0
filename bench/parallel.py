"""How parallel-friendly is splitting terms at △, × and ▽? Wall, speedup and efficiency on P workers.

    python bench/parallel.py                      # P = 1, 2; every family; modes value and grad
    python bench/parallel.py --workers 1,2,4,8,16 --branches 16

Each row: the job on a LocalCluster of P single-threaded workers, against the serial in-process
baseline (same compiled computation, same allocator tuning) and against Dask's own ceiling measured in
the same run (the job's fused task bodies sent with ``client.map``, no dependencies). Also the tiny-term
overhead, what Dask itself charges a job (a round trip, an input, an output) and planning time. The
measuring code is :mod:`workers.bench`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from workers import Executor
from workers.bench import FAMILIES, Row, anchor, machine, measure, planning, serial_program, timed, tiny, transport


def table(rows: list[Row]) -> str:
    head = (f"{'family':<14}{'mode':<6}{'P':>3}{'K':>4}{'tasks':>6}{'serial ms':>11}{'wall ms':>9}{'speedup':>8}"
            f"{'eff':>6}{'ceil eff':>9}{'of ceil':>8}{'util':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        ce = f"{r.ceiling_efficiency:9.2f}" if r.ceiling_efficiency else f"{'-':>9}"
        oc = f"{r.of_ceiling:8.2f}" if r.of_ceiling else f"{'-':>8}"
        ut = f"{r.utilisation:6.2f}" if r.utilisation is not None else f"{'-':>6}"
        lines.append(f"{r.family:<14}{r.mode:<6}{r.workers:>3}{r.branches:>4}{r.tasks:>6}{r.serial_s * 1e3:11.1f}"
                     f"{r.wall_s * 1e3:9.1f}{r.speedup:8.2f}{r.efficiency:6.2f}{ce}{oc}{ut}")
    return "\n".join(lines)


def tiny_overhead(ex: Executor, reps: int) -> tuple[float, float, float]:
    """Median times of a tiny grad job: serial, the whole ``ex.run`` call for one job on its own (after a
    pause), and back to back (each job also meets the previous one's clean-up on the workers)."""
    f = tiny()
    serial = serial_program(f.term, f.x, "grad")
    job = lambda: ex.run(f.term, f.x, "grad")  # noqa: E731
    serial(), job()
    alone = []
    for _ in range(reps):
        time.sleep(0.05)
        alone.append(timed(job))
    return (statistics.median(timed(serial) for _ in range(reps)), statistics.median(alone),
            statistics.median(timed(job) for _ in range(reps)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", default="1,2", help="worker counts, e.g. 1,2,4,8,16")
    ap.add_argument("--branches", type=int, default=4, help="K: branches of the wide, data-parallel and tree terms")
    ap.add_argument("--families", nargs="+", default=list(FAMILIES), help="comma- or space-separated, as for "
                    "catterms bench (default: all)")
    ap.add_argument("--modes", nargs="+", default=["value", "grad"],
                    help="comma- or space-separated (default value,grad)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threshold", type=float, default=None, help="fusion threshold in seconds (default: planner's)")
    args = ap.parse_args()
    # the same spellings as catterms bench (service.cli.names, which this script, beside bench/service.py, cannot
    # import): "wide,tree", "wide tree", "wide, tree"
    families = [FAMILIES[name](args.branches) for name in " ".join(args.families).replace(",", " ").split()]
    modes = " ".join(args.modes).replace(",", " ").split()
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.2f}")
    plan_rates = planning()
    print(f"planning: {plan_rates['plan_ms_per_1k']:.2f} ms per 1,000 nodes (first plan of a {plan_rates['nodes']}-node "
          f"term, after the job's type check, {plan_rates['typecheck_ms_per_1k']:.1f} ms per 1,000, whose every "
          f"node's result it reads; both together {plan_rates['check_plan_ms_per_1k']:.1f}; plans are cached); "
          f"a vjp job: its derivative term {plan_rates['derive_ms_per_1k']:.1f} ms per 1,000 nodes of the term "
          f"(cached), then its plan {plan_rates['plan_vjp_ms_per_1k']:.1f}")
    for f in families:  # grow this process's heap once, before any serial baseline is timed
        for m in modes:
            serial_program(f.term, f.x, m)()
    rows: list[Row] = []
    for P in (int(p) for p in args.workers.split(",")):
        kw = {} if args.threshold is None else {"threshold_s": args.threshold}
        with Executor(n_workers=P, dashboard_address=None, **kw) as ex:
            a = anchor(ex, reps=args.reps)
            print(f"P={P}: anchor (8 x 200 ms matmul loops, client.map): serial {a['serial_s']:.2f} s, "
                  f"Dask {a['wall_s']:.2f} s, efficiency {a['efficiency']:.2f}")
            serial, alone, back_to_back = tiny_overhead(ex, max(5, 3 * args.reps))
            print(f"P={P}: tiny term (grad): serial {serial * 1e3:.2f} ms, on Dask {alone * 1e3:.2f} ms "
                  f"(overhead {1e3 * (alone - serial):.1f} ms; target <= 15), back to back {back_to_back * 1e3:.2f} ms")
            t = transport(ex)
            print(f"P={P}: Dask's own transport: a trivial task's round trip {t['round_trip_s'] * 1e3:.1f} ms; "
                  f"{t['nbytes'] >> 20} MiB more as its argument {t['argument_s'] * 1e3:.1f} ms, as its result "
                  f"{t['result_s'] * 1e3:.1f} ms")
            for f in families:
                for m in modes:
                    rows.append(measure(ex, f, m, args.reps))
                    print(table(rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(rows))
    print("eff = serial / (P x wall); ceil eff = the same for the task bodies sent with client.map; "
          "of ceil = eff / ceil eff; util = work / (P x wall) from Dask's records")


if __name__ == "__main__":
    main()
