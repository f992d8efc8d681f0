"""Does compiling a program cost time linear in its length? Term size and compile time of an unrolled loop.

The program is a recurrence unrolled by Python, ``h ← tanh(h·w + xₜ)`` on a vector of 7, for 10², 10³ and
10⁴ steps, with two losses: the sum over the steps of ``sum(h)`` (every state is shared, by the next step
and by its term of the loss — the case that used to make the term quadratic, issue 11 point 5) and
``sum`` of the final state only. For each it prints

* ``nodes``        — distinct nodes of the compiled term, and ``nodes/step``;
* ``compile+1st``  — ``ct.compile`` plus the first ``ct.grad`` (tracing, lowering, type check, generating
  and compiling the gradient's code, one run), in seconds, per step (µs) and per term node (µs);
* ``steady``       — a later ``ct.grad`` of the same term (best of several repeats), in ms;
* and, where jax is installed, the same Python function written with ``jax.numpy`` under
  ``jax.jit(jax.value_and_grad(f, argnums=(0, 1)))``: its first call (tracing, XLA compilation, one run)
  and its steady call, side by side. XLA's compile time grows faster than linearly on a long unrolled
  program (about 17 s at 300 steps and more than 3 minutes at 1,000 on a 2-core machine), so jax runs only at
  the step counts of ``--jax-steps`` (default 100); the others print a dash.

A second table takes the issue's other case, an LSTM-like cell of width 4 (``catterms.examples.lstm``: four
weight matrices read at every step) at ``--lstm-steps`` (default 128 and 1,024): term nodes, compile + first
``ct.grad``, and the time and node count of its derivative *term* ``ct.value_and_grad_term`` (the reverse
pass as a term, which parks every step's residuals).

Targets checked at the end: nodes per step constant; compile+1st per step within ±30 % from 10³ to 10⁴
steps; at most 100 µs of compile+1st per term node. The compile+1st column is one measurement per row
(``--repeat`` takes the best of several), so on a shared machine expect noise of ±20 %. BLAS is pinned to
one thread and the allocator tuned as in our workers (``workers.alloc``), for catterms and jax alike.

A third table writes both programs as one ``ct.scan`` (issue 12) at ``--scan-steps`` (default 10², 10⁴, 10⁶
for the recurrence; the LSTM at those up to 10⁴ and at 1,024): term nodes (bodies included), compile + first
gradient, the compile overhead (that minus one steady gradient), the steady gradient per step beside the
unrolled program's (up to 10⁴ steps) and, where jax is installed, ``jax.lax.scan`` under ``jax.jit``. Targets:
overhead ≤ 0.5 s whatever the step count; steady gradient per step ≤ 2 × the unrolled program's; the LSTM
gradient compiles in under 2 s.

Run: ``python bench/compile_scaling.py [--steps 100,1000,10000] [--jax-steps 100] [--scan-steps …]
[--scan-programs recurrence,lstm] [--no-jax] [--repeat 1]`` (``--steps '' --lstm-steps ''`` for the scan table alone).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from typing import Any, NamedTuple  # noqa: E402

import numpy as np  # noqa: E402

import catterms as ct  # noqa: E402
from catterms.examples import lstm, lstm_loop, recurrence, recurrence_loop  # noqa: E402
from timing import best_time, machine  # noqa: E402
from workers.alloc import tune_allocator  # noqa: E402

WIDTH = 7
LOSSES = ("summed", "final")
#: The ct.scan table's programs: each as one loop, and unrolled.
SCAN_PROGRAMS = {"recurrence": (recurrence_loop, recurrence), "lstm": (lstm_loop, lstm)}


class Row(NamedTuple):
    steps: int
    loss: str
    nodes: int
    first_s: float  # compile + first gradient
    steady_s: float
    jax_first_s: float | None
    jax_steady_s: float | None


def catterms_row(steps: int, loss: str, x: tuple, repeat: int, budget: float) -> tuple[float, int, float, Any]:
    """(compile + first gradient, term nodes, steady gradient, the gradient)."""
    f = recurrence(steps, loss == "summed")
    first = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        term = ct.compile(f, ct.Array((WIDTH,)), ct.Array((steps, WIDTH)))  # a fresh term: nothing cached
        grad = ct.grad(term, x)
        first = min(first, time.perf_counter() - t0)
    nodes = sum(1 for _ in term.nodes())
    assert np.isclose(ct.evaluate(term, x), f(*x), rtol=1e-10), (steps, loss)
    return first, nodes, best_time(lambda: ct.grad(term, x), budget), grad


def jax_row(steps: int, loss: str, x: tuple, budget: float, want: Any) -> tuple[float, float]:
    import jax
    import jax.numpy as jnp

    vg = jax.jit(jax.value_and_grad(recurrence(steps, loss == "summed", jnp), argnums=(0, 1)))
    t0 = time.perf_counter()
    _, grad = jax.block_until_ready(vg(*x))
    first = time.perf_counter() - t0
    for a, b in zip(grad, want):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-8, atol=1e-10, err_msg=f"jax, {steps} steps, {loss}")
    return first, best_time(lambda: jax.block_until_ready(vg(*x)), budget)


def have_jax() -> str | None:
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax.__version__


def steps_list(text: str) -> list[int]:
    return [int(s.replace("_", "")) for s in text.split(",") if s.strip()]


def programs_list(text: str) -> list[str]:
    names = [s for s in text.split(",") if s.strip()]
    unknown = [n for n in names if n not in SCAN_PROGRAMS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown program {', '.join(unknown)}: choose from "
                                         f"{', '.join(SCAN_PROGRAMS)}")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=steps_list, default=[100, 1_000, 10_000], help="step counts, e.g. 100,1000")
    parser.add_argument("--jax-steps", type=steps_list, default=[100],
                        help="the step counts at which jax runs too ('' for none)")
    parser.add_argument("--lstm-steps", type=steps_list, default=[128, 1_024],
                        help="step counts of the LSTM table ('' for none)")
    parser.add_argument("--scan-steps", type=steps_list, default=[100, 10_000, 1_000_000],
                        help="step counts of the ct.scan table ('' for none)")
    parser.add_argument("--scan-programs", type=programs_list, default=list(SCAN_PROGRAMS),
                        help="the programs of the ct.scan table, e.g. recurrence")
    parser.add_argument("--no-jax", action="store_true", help="leave jax out even where it is installed")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many compile+1st measurements")
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per steady timing")
    parser.add_argument("--no-tune", action="store_true", help="keep glibc's default malloc thresholds")
    args = parser.parse_args()
    tuned = False if args.no_tune else tune_allocator()
    jax_version = None if args.no_jax else have_jax()
    print(f"# catterms compile scaling — {machine()}, jax {jax_version or 'not installed'}, allocator tuned: {tuned}")
    print(f"# program: h ← tanh(h·w + x[t]) on R^{WIDTH}, unrolled; loss summed over the steps, or of the final "
          "state; gradient with respect to (w, xs)")
    head = (f"{'steps':>7} {'loss':<7}{'nodes':>9}{'nodes/step':>11}{'compile+1st':>13}{'µs/step':>9}"
            f"{'µs/node':>9}{'steady':>10}{'jax 1st':>10}{'jax steady':>12}")
    if args.steps:
        print(f"{head}\n{'-' * len(head)}")
    rows: list[Row] = []
    skipped: list[int] = []
    rng = np.random.default_rng(0)
    for steps in args.steps:
        x = (rng.uniform(-0.9, 0.9, WIDTH), rng.standard_normal((steps, WIDTH)))
        for loss in LOSSES:
            first, nodes, steady, grad = catterms_row(steps, loss, x, max(1, args.repeat), args.budget)
            jfirst = jsteady = None
            if jax_version and steps in args.jax_steps:
                jfirst, jsteady = jax_row(steps, loss, x, args.budget, grad)
            elif jax_version and steps not in skipped:
                skipped.append(steps)
            row = Row(steps, loss, nodes, first, steady, jfirst, jsteady)
            rows.append(row)
            jax_cols = (f"{jfirst:9.2f}s{jsteady * 1e3:10.2f}ms" if jfirst is not None else f"{'—':>10}{'—':>12}")
            print(f"{steps:>7} {loss:<7}{nodes:>9,}{nodes / steps:>11.1f}{first:>12.2f}s{first / steps * 1e6:>9.0f}"
                  f"{first / nodes * 1e6:>9.1f}{steady * 1e3:>8.2f}ms{jax_cols}", flush=True)
    if skipped:
        print(f"# jax not run at {', '.join(f'{s:,}' for s in skipped)} steps: XLA's compile time grows faster than "
              "linearly in an unrolled program's length (pass --jax-steps to include them)")
    if rows:  # --steps '' leaves the unrolled table out
        targets(rows)
    if args.lstm_steps:
        lstm_table(args.lstm_steps)
    if args.scan_steps:
        scan_table(args.scan_steps, jax_version is not None, args.scan_programs)


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _loop_times(f: Any, specs: tuple, x: tuple) -> tuple[float, float, Any]:
    """(compile + first gradient, steady gradient: the better of two, the gradient) of a function."""
    t0 = time.perf_counter()
    term = ct.compile(f, *specs)
    grad = ct.grad(term, x)
    first = time.perf_counter() - t0
    return first, min(_timed(lambda: ct.grad(term, x)) for _ in range(2)), grad


def _jax_loop(f: Any, x: tuple, want: Any) -> tuple[float, float]:
    import jax

    vg = jax.jit(jax.value_and_grad(f, argnums=(0, 1)))
    first = _timed(lambda: jax.block_until_ready(vg(*x)))
    grad = vg(*x)[1]
    for a, b in zip(jax.tree_util.tree_leaves(grad), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-8, atol=1e-10)
    return first, min(_timed(lambda: jax.block_until_ready(vg(*x))) for _ in range(2))


def scan_table(steps_counts: list[int], with_jax: bool, programs: list[str]) -> None:
    """The recurrence (summed loss) and the LSTM as one ``ct.scan``: compile overhead (compile + first
    gradient − one steady gradient) and the steady gradient per step, beside the unrolled program (up to
    10⁴ steps) and ``jax.lax.scan``."""
    print("# the same programs as one loop: ct.scan (issue 12), beside the unrolled program and jax.lax.scan")
    head = (f"{'program':<12}{'steps':>9}{'nodes':>7}{'compile+1st':>13}{'overhead':>10}{'µs/step':>9}"
            f"{'unrolled µs/step':>18}{'scan/unrolled':>15}{'jax overhead':>14}{'jax µs/step':>13}")
    print(head)
    print("-" * len(head))
    rng = np.random.default_rng(2)
    lx = rng.uniform(-0.5, 0.5, (4, WIDTH, WIDTH))
    rows = []
    for name in programs:
        make, unrolled = SCAN_PROGRAMS[name]
        for steps in steps_counts if name == "recurrence" else [s for s in steps_counts if s <= 10_000] + [1_024]:
            xs = rng.standard_normal((steps, WIDTH)) * 0.5
            p = rng.uniform(-0.9, 0.9, WIDTH) if name == "recurrence" else tuple(lx)
            pspec = ct.Array((WIDTH,)) if name == "recurrence" else (ct.Array((WIDTH, WIDTH)),) * 4
            x, specs = (p, xs), (pspec, ct.Array((steps, WIDTH)))
            first, steady, grad = _loop_times(make(True), specs, x)
            nodes = sum(1 for _ in ct.compile(make(True), *specs).nodes(bodies=True))
            un = ratio = "—"
            if steps <= 10_000:
                _, u_steady, u_grad = _loop_times(unrolled(steps, True), specs, x)
                np.testing.assert_allclose(np.concatenate([np.ravel(v) for v in _leaves(grad)]),
                                           np.concatenate([np.ravel(v) for v in _leaves(u_grad)]), rtol=1e-8,
                                           atol=1e-10, err_msg=f"{name}, {steps} steps")
                un, ratio = f"{u_steady / steps * 1e6:.1f}", f"{steady / u_steady:.2f}"
            rows.append((name, make, steps, x, grad, nodes, first, steady, un, ratio))
    # jax last: once it is imported, numpy code compiled afterwards in this process ran 1.4–4 × slower here
    for name, make, steps, x, grad, nodes, first, steady, un, ratio in rows:
        jcols = f"{'—':>14}{'—':>13}"
        if with_jax and steps <= 10_000:
            import jax
            import jax.numpy as jnp

            jf, js = _jax_loop(make(True, jax.lax.scan, jnp), x, grad)
            jcols = f"{jf - js:>13.2f}s{js / steps * 1e6:>13.2f}"
        print(f"{name:<12}{steps:>9,}{nodes:>7}{first:>12.2f}s{first - steady:>9.2f}s{steady / steps * 1e6:>9.1f}"
              f"{un:>18}{ratio:>15}{jcols}", flush=True)
    print("targets: overhead ≤ 0.5 s whatever the step count; scan/unrolled (steady gradient per step) ≤ 2; "
          "the LSTM's compile + first gradient < 2 s at 1,024 steps")


def _leaves(v: Any) -> list[Any]:
    return [a for c in v for a in _leaves(c)] if isinstance(v, tuple) else [v]


def lstm_table(steps_counts: list[int]) -> None:
    """Compile + first gradient, and the derivative term, of the LSTM at each step count."""
    width = 4
    print(f"# LSTM-like cell, width {width}, loss sum(h²) of the last step; gradient with respect to the weights and xs")
    head = (f"{'steps':>7}{'nodes':>9}{'compile+1st':>13}{'µs/node':>9}{'vg term nodes':>15}{'nodes/step':>11}"
            f"{'made in':>9}{'µs/node':>9}")
    print(head)
    print("-" * len(head))
    rng = np.random.default_rng(1)
    for steps in steps_counts:
        specs = ((ct.Array((width, width)),) * 4, ct.Array((steps, width)))
        x = (tuple(rng.uniform(-0.5, 0.5, (width, width)) for _ in range(4)), rng.uniform(-0.8, 0.8, (steps, width)))
        t0 = time.perf_counter()
        term = ct.compile(lstm(steps), *specs)
        ct.grad(term, x)
        first = time.perf_counter() - t0
        nodes = sum(1 for _ in term.nodes())
        t0 = time.perf_counter()
        vgt = ct.value_and_grad_term(term, specs)
        made = time.perf_counter() - t0
        dnodes = sum(1 for _ in vgt.nodes())
        print(f"{steps:>7}{nodes:>9,}{first:>12.2f}s{first / nodes * 1e6:>9.1f}{dnodes:>15,}{dnodes / steps:>11.0f}"
              f"{made:>8.2f}s{made / dnodes * 1e6:>9.1f}", flush=True)


def targets(rows: list[Row]) -> None:
    """The checks the table is read against, each with its verdict."""
    print("targets:")
    for loss in LOSSES:
        mine = [r for r in rows if r.loss == loss]
        per = [r.nodes / r.steps for r in mine]
        if len(per) >= 2:
            spread = max(per) / min(per)
            # the fixed part (inputs, the loss) weighs on short programs: compare the increments too
            incr = [(b.nodes - a.nodes) / (b.steps - a.steps) for a, b in zip(mine, mine[1:]) if b.steps != a.steps]
            flat = len(incr) < 2 or max(incr) / min(incr) <= 1.1
            print(f"  nodes per step constant ({loss}): {min(per):.1f} … {max(per):.1f} per step, increments "
                  f"{', '.join(f'{i:.2f}' for i in incr)} per added step — {'ok' if flat else 'MISSED'}"
                  f" (spread {spread:.2f}×)")
        big = sorted((r for r in mine if r.steps >= 1_000), key=lambda r: r.steps)
        if len(big) >= 2:
            a, b = big[0], big[-1]
            ratio = (b.first_s / b.steps) / (a.first_s / a.steps)
            print(f"  compile+1st per step within ±30 % from {a.steps:,} to {b.steps:,} steps ({loss}): "
                  f"{ratio:.2f}× — {'ok' if 0.7 <= ratio <= 1.3 else 'MISSED'}")
        else:
            print(f"  compile+1st per step within ±30 % from 10³ to 10⁴ steps ({loss}): not measured "
                  "(needs two step counts ≥ 1,000)")
    worst = max(rows, key=lambda r: r.first_s / r.nodes)
    per_node = worst.first_s / worst.nodes * 1e6
    print(f"  ≤ 100 µs of compile+1st per term node: worst {per_node:.1f} µs ({worst.steps:,} steps, {worst.loss}) — "
          f"{'ok' if per_node <= 100 else 'MISSED'}")


if __name__ == "__main__":
    main()
