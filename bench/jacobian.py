"""What does a whole Jacobian cost relative to one directional derivative? Side-by-side ratios, one run.

``ct.jacobian`` runs forward mode once on the stack of all input basis vectors (``fwd``) or reverse mode
once on the stack of all output basis vectors (``rev``): the primal code runs once and every tangent-side
numpy call acts on the whole batch (:mod:`catterms.batching`). Before that, it ran one ``jvp`` per input
element (or one ``vjp`` per output element) and stacked them: the "loop" columns below do exactly that,
through the public ``ct.jvp``/``ct.vjp``.

Cases:

* ``hand`` — a hand-tracking-shaped forward kinematics: 28 parameters (global rotation and translation,
  two wrist angles, four angles for each of five fingers), 32 keypoints out (96 numbers): rotation
  matrices from ``sin``/``cos``, chains of 3×3 matrix products, sums — a few dozen numpy operations on
  arrays of a few dozen elements, where the per-call overhead, not arithmetic, decides the cost;
* ``mlp`` — one tanh MLP block ``tanh(x W₁ + b₁) W₂``, its Jacobian with respect to the input ``x``
  (32 in, 16 out; weights constant).

Columns: ``jvp`` — one value and directional derivative (``ct.jvp``), the unit; ``fwd``/``rev`` — the
batched Jacobian (``ct.jacobian``); ``loop fwd``/``loop rev`` — the old one pass per basis vector; the
ratios ``fwd/jvp``, ``rev/jvp`` and ``loop/batched`` (each loop over its own mode); and, when jax imports,
``jax.jit(jax.jacfwd)``/``jacrev`` over ``jax.jit(jax.jvp)`` (float64). Target: the batched Jacobian costs
≤ 5 × one value+jvp on ``hand`` (the loop is 28 passes).

Every ratio divides timings taken back to back in this run (best of several repeats), because the
machines are shared and noisy; BLAS is pinned to one thread and the allocator tuned as in our workers.
A second table takes the same Jacobians inside ``ct.compile`` (a Newton step, a Gauss–Newton model): the
batched pass recorded once, against one recorded ``ct.jvp``/``ct.vjp`` per basis vector — term sizes, and
evaluation times over the concrete ``ct.jacobian``.

Run: ``python bench/jacobian.py [--quick]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import catterms as ct  # noqa: E402
import catterms.numpy as cnp  # noqa: E402
from timing import best_time, machine  # noqa: E402
from workers.alloc import tune_allocator  # noqa: E402


# --- the functions, written once over a numpy-like module ---------------------------------------------------

_RNG = np.random.default_rng(0)
BONES = _RNG.uniform(0.2, 0.4, (4, 5, 3))  # per joint level, per finger: the bone in its parent's frame
BASES = _RNG.uniform(-0.5, 0.5, (5, 3))  # finger roots in the wrist frame
PALM = _RNG.uniform(-0.5, 0.5, (6, 3))  # palm surface points in the wrist frame
W1, B1, W2 = _RNG.standard_normal((32, 64)) / 6, _RNG.standard_normal(64) / 6, _RNG.standard_normal((64, 16)) / 8


def _rot(xp: Any, a: Any, axis: str) -> Any:
    """Rotations about ``axis`` by the angles ``a`` (n,): (n, 3, 3)."""
    c, s = xp.cos(a), xp.sin(a)
    z = a * 0.0
    o = z + 1.0
    rows = {"x": [o, z, z, z, c, -s, z, s, c], "y": [c, z, s, z, o, z, -s, z, c],
            "z": [c, -s, z, s, c, z, z, z, o]}[axis]
    return xp.stack(rows, axis=-1).reshape(a.shape[0], 3, 3)


def hand(xp: Any, theta: Any) -> Any:
    """28 pose parameters to 32 keypoints (96 numbers)."""
    g, trans, wrist, fingers = theta[0:3], theta[3:6], theta[6:8], theta[8:28].reshape(5, 4)
    glob = _rot(xp, g[0:1], "z")[0] @ _rot(xp, g[1:2], "y")[0] @ _rot(xp, g[2:3], "x")[0]
    frame = glob @ _rot(xp, wrist[0:1], "x")[0] @ _rot(xp, wrist[1:2], "z")[0]
    root = trans
    points = [root[None, :], PALM @ glob.T + root, BASES @ frame.T + root]
    pos = BASES @ frame.T + root  # (5, 3)
    rot = frame @ _rot(xp, fingers[:, 0], "z")  # (5, 3, 3): spread of each finger
    for k in range(4):
        rot = rot @ _rot(xp, fingers[:, k] * (1.0 if k else 0.3), "x")  # flexion at each joint
        pos = pos + xp.sum(rot * BONES[k][:, None, :], axis=-1)
        points.append(pos)
    return xp.concatenate(points, axis=0).reshape(-1)


def mlp(xp: Any, x: Any) -> Any:
    return xp.tanh(x @ W1 + B1) @ W2


CASES = {"hand": (hand, 28), "mlp": (mlp, 32)}


# --- the measurements -----------------------------------------------------------------------------------


def loop_jacobian(term: ct.Term, x: np.ndarray, mode: str) -> np.ndarray:
    """The old way: one ``ct.jvp`` per input element (columns) or one ``ct.vjp`` per output element."""
    if mode == "fwd":
        return np.stack([ct.jvp(term, x, e)[1] for e in np.eye(x.size)], axis=-1)
    y = ct.evaluate(term, x)
    return np.stack([ct.vjp(term, x, e)[1] for e in np.eye(y.size)])


def jax_times(fn: Callable[..., Any], x: np.ndarray, budget: float) -> tuple[float, float, float] | None:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    f = lambda v: fn(jnp, v)  # noqa: E731
    xj, tj = jnp.asarray(x), jnp.asarray(np.ones_like(x))
    jvp = jax.jit(lambda v, t: jax.jvp(f, (v,), (t,)))
    fwd, rev = jax.jit(jax.jacfwd(f)), jax.jit(jax.jacrev(f))
    np.testing.assert_allclose(np.asarray(fwd(xj)), np.asarray(rev(xj)), rtol=1e-10, atol=1e-12)
    return tuple(best_time(lambda g=g, a=a: jax.block_until_ready(g(*a)), budget)  # type: ignore[return-value]
                 for g, a in ((jvp, (xj, tj)), (fwd, (xj,)), (rev, (xj,))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing budgets")
    parser.add_argument("--no-tune", action="store_true", help="leave the allocator at glibc's defaults")
    args = parser.parse_args()
    tuned = False if args.no_tune else tune_allocator()
    budget = 0.2 if args.quick else 1.0
    print(f"# catterms batched Jacobians — {machine()}, allocator tuned: {tuned}")
    head = (f"{'case':>5} {'in':>3} {'out':>3} {'jvp µs':>8} {'fwd µs':>8} {'rev µs':>8} {'loop fwd':>9} "
            f"{'loop rev':>9} {'fwd/jvp':>8} {'rev/jvp':>8} {'loop/fwd':>9} {'loop/rev':>9} "
            f"{'jax fwd/jvp':>12} {'jax rev/jvp':>12}")
    rows = []
    for name, (fn, n) in CASES.items():
        x = np.random.default_rng(1).uniform(-1, 1, n)
        term = ct.compile(lambda v, fn=fn: fn(cnp, v), ct.Array((n,)))
        want = loop_jacobian(term, x, "fwd")
        for mode in ("fwd", "rev"):
            np.testing.assert_allclose(ct.jacobian(term, x, mode), want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ct.evaluate(term, x), fn(np, x), rtol=1e-12, atol=1e-12)
        t = np.ones(n)
        jvp = best_time(lambda: ct.jvp(term, x, t), budget)
        fwd = best_time(lambda: ct.jacobian(term, x, "fwd"), budget)
        rev = best_time(lambda: ct.jacobian(term, x, "rev"), budget)
        loop_fwd = best_time(lambda: loop_jacobian(term, x, "fwd"), budget)
        loop_rev = best_time(lambda: loop_jacobian(term, x, "rev"), budget)
        rows.append((name, fn, x, want.shape[0], jvp, fwd, rev, loop_fwd, loop_rev))
    inside = traced(budget)
    # jax last: once it is imported, numpy code compiled afterwards in this process ran 1.4–4 × slower here
    print(head)
    for name, fn, x, m, jvp, fwd, rev, loop_fwd, loop_rev in rows:
        jx = jax_times(fn, x, budget)
        anchor = f"{jx[1] / jx[0]:>12.2f} {jx[2] / jx[0]:>12.2f}" if jx else f"{'—':>12} {'—':>12}"
        print(f"{name:>5} {x.size:>3} {m:>3} {jvp * 1e6:>8.1f} {fwd * 1e6:>8.1f} {rev * 1e6:>8.1f} "
              f"{loop_fwd * 1e6:>9.1f} {loop_rev * 1e6:>9.1f} {fwd / jvp:>8.2f} {rev / jvp:>8.2f} "
              f"{loop_fwd / fwd:>9.1f} {loop_rev / rev:>9.1f} {anchor}", flush=True)
        if jx:
            print(f"{'':>5} jax µs: jvp {jx[0] * 1e6:.1f}, jacfwd {jx[1] * 1e6:.1f}, jacrev {jx[2] * 1e6:.1f}")
    print("target: the batched Jacobian (fwd or rev) ≤ 5 × one value+jvp on hand (28 inputs; the loop is 28 passes)")
    print("\n# inside ct.compile: ct.jacobian recorded as one batched pass vs one traced pass per basis vector")
    print(f"{'case':>5} {'mode':>4} {'nodes':>7} {'loop nodes':>10} {'µs':>8} {'loop µs':>8} {'/concrete':>9} "
          f"{'loop/batched':>12}")
    for line in inside:
        print(line)


def traced_loop(fn: Callable[..., Any], v: Any, n: int, mode: str) -> Any:
    """Inside ``ct.compile``, the old way: one traced ``ct.jvp`` per input, or ``ct.vjp`` per output."""
    if mode == "fwd":
        return cnp.stack([ct.jvp(fn, v, e)[1] for e in np.eye(n)], axis=-1)
    m = ct.evaluate(fn, v).shape[0]
    return cnp.stack([ct.vjp(fn, v, e)[1] for e in np.eye(m)])


def traced(budget: float) -> list[str]:
    """A Jacobian taken inside a compiled function: recorded as one batched pass (the term does not grow with
    the basis) against one recorded pass per basis vector; both timed as evaluations of their terms, over the
    concrete ``ct.jacobian`` of the same function. The table's rows."""
    rows = []
    for name, (fn, n) in CASES.items():
        x = np.random.default_rng(1).uniform(-1, 1, n)
        inner = ct.compile(lambda v, fn=fn: fn(cnp, v), ct.Array((n,)))
        for mode in ("fwd", "rev"):
            # timed before the loop's big term exists: the collector's scans of it would slow the others
            want = ct.jacobian(inner, x, mode)
            concrete = best_time(lambda m=mode: ct.jacobian(inner, x, m), budget)
            one = ct.compile(lambda v, m=mode: ct.jacobian(inner, v, m), ct.Array((n,)))
            np.testing.assert_allclose(ct.evaluate(one, x), want, rtol=1e-10, atol=1e-12)
            t_one = best_time(lambda: ct.evaluate(one, x), budget)
            loop = ct.compile(lambda v, m=mode: traced_loop(inner, v, n, m), ct.Array((n,)))
            np.testing.assert_allclose(ct.evaluate(loop, x), want, rtol=1e-10, atol=1e-12)
            t_loop = best_time(lambda: ct.evaluate(loop, x), budget)
            rows.append(f"{name:>5} {mode:>4} {one.size:>7} {loop.size:>10} {t_one * 1e6:>8.1f} {t_loop * 1e6:>8.1f} "
                        f"{t_one / concrete:>9.2f} {t_loop / t_one:>12.1f}")
    return rows


if __name__ == "__main__":
    main()
