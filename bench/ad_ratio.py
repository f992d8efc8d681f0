"""What does a gradient cost relative to the function? Side-by-side ratios, one process, one run.

For Rosenbrock (n = 10 … 10⁶), a 2-layer tanh MLP loss (batch 256, width 64/256/1024, gradient with
respect to the weights, data constant), and three objectives that need the wider numpy surface — the
Gaussian-mixture negative log-likelihood of ADBench/GradBench (gathers into lower-triangular factors,
logsumexp), softmax cross-entropy with integer labels (``take_along_axis``) and a Gaussian log-likelihood
through ``cholesky`` and ``solve`` (``catterms.examples``) — it times the numpy function ``f`` and, against
it:

* ``eval/f``   — evaluating the term (interpretive overhead);
* ``rev/f``    — value and gradient by reverse mode (``ct.value_and_grad``);
* ``jvp/f``    — value and one directional derivative by forward mode (a full forward-mode gradient needs
  one of these per input element; ``fwd grad/f`` shows it where that is affordable);
* ``gterm/rev`` — evaluating the value-and-gradient *term* (``ct.value_and_grad_term``, a derivative recorded
  as a term and compiled like any term) over ``ct.value_and_grad`` (the same construction compiled directly);
* ``hvp/rev``  — a Hessian-vector product (``ct.hvp``: forward mode over the gradient term) over value+grad;
* ``mem``      — peak memory of reverse mode over the peak of ``f`` (tracemalloc, numpy allocations);
* the same value-and-gradient ratio for the gradient written out by hand in numpy (checked against ours:
  what a gradient costs without any AD system), and for autograd, torch (eager, CPU) and jax, when they
  are installed.

Every ratio divides two timings taken back to back in this run (best of several repeats), because the
machines are shared and noisy. BLAS is pinned to one thread and the allocator tuned as in our workers
(``workers.alloc``), for catterms and the anchors alike. Run: ``python bench/ad_ratio.py [--quick]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import tracemalloc  # noqa: E402
import types  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

import catterms as ct  # noqa: E402
from catterms.examples import gaussian_loglik, gmm_objective, mlp_loss, rosenbrock, softmax_cross_entropy  # noqa: E402
from timing import best_time, machine  # noqa: E402
from workers.alloc import tune_allocator  # noqa: E402


def peak_bytes(fn: Callable[[], Any]) -> int:
    fn()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def by_hand(kind: str, data: dict[str, Any]) -> Callable[[Any], Any]:
    """Value and gradient written out by hand in numpy: what the gradient costs without any AD system."""
    if kind == "rosenbrock":
        def rosenbrock_vg(x: np.ndarray) -> tuple[float, np.ndarray]:
            a, b = x[:-1], x[1:]
            d = b - a * a
            r = 1 - a
            value = np.sum(100 * d * d + r * r)
            d *= 200
            g = np.zeros_like(x)
            g[1:] = d
            g[:-1] -= 2 * (a * d + r)
            return value, g

        return rosenbrock_vg
    X, y = data["X"], data["y"]

    def mlp_vg(p: tuple) -> tuple[float, tuple]:
        W1, b1, W2, b2 = p
        h = np.tanh(X @ W1 + b1)
        r = h @ W2 + b2 - y
        dr = r * (2 / r.size)
        dz = (dr @ W2.T) * (1 - h * h)
        return np.mean(r * r), (X.T @ dz, dz.sum(0), h.T @ dr, dr.sum(0))

    return mlp_vg


def anchors() -> dict[str, Callable[[str, Any, Any], Callable[[Any], Any] | None]]:
    """value-and-gradient makers ``make(kind, data, example)`` for the hand-written numpy gradient and the AD
    systems that are installed, by name; a maker gives None where it has no version of a case."""
    found: dict[str, Callable[[str, Any, Any], Callable[[Any], Any] | None]] = {
        "by hand": lambda kind, data, ex: None if kind == "objective" else by_hand(kind, data)}
    try:
        import autograd
        import autograd.numpy
        from autograd.scipy.special import logsumexp as alse

        # autograd defines no VJP of take_along_axis: the same gather (axis 1, as the objectives use it) by
        # fancy indexing, which it does differentiate
        anp = types.ModuleType("autograd_numpy_for_bench")
        anp.__dict__.update(vars(autograd.numpy))
        anp.take_along_axis = lambda a, idx, axis: a[np.arange(a.shape[0])[:, None], idx]
        found["autograd"] = lambda kind, data, ex: autograd.value_and_grad(_program(kind, data, anp, ex, alse))
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(1)

        def torch_vg(kind: str, data: Any, ex: Any) -> Callable[[Any], Any] | None:
            if kind == "objective":
                return None
            f = _program(kind, {k: torch.from_numpy(np.array(v)) for k, v in data.items()}, torch, ex, None)

            def run(x: Any) -> Any:
                xs = tuple(torch.tensor(a, requires_grad=True) for a in (x if isinstance(x, tuple) else (x,)))
                y = f(xs if isinstance(x, tuple) else xs[0])
                y.backward()
                return y.item(), [a.grad for a in xs]

            return run

        found["torch"] = torch_vg
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp
        from jax.scipy.special import logsumexp as jlse

        jax.config.update("jax_enable_x64", True)
        found["jax"] = lambda kind, data, ex: jax.jit(jax.value_and_grad(_program(kind, data, jnp, ex, jlse)))
    except ImportError:
        pass
    return found


def _program(kind: str, data: dict[str, Any], xp: Any, ex: Any, lse: Any) -> Callable[[Any], Any]:
    """The benchmark functions once more, for an anchor's array module ``xp`` (an objective brings its own
    program, written once for every array module)."""
    if kind == "objective":
        program = ex.program(xp, lse)
        return lambda p: program(*p)
    if kind == "rosenbrock":
        return lambda x: xp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    X, y = data["X"], data["y"]

    def mlp(p: Any) -> Any:
        W1, b1, W2, b2 = p
        r = xp.tanh(X @ W1 + b1) @ W2 + b2 - y
        return xp.mean(r * r)

    return mlp


def cases(quick: bool) -> list[tuple[str, str, Any, Any, dict[str, Any]]]:
    """(label, kind, term example, input, data for anchors)."""
    out = []
    for n in (10, 1_000, 100_000) if quick else (10, 1_000, 100_000, 1_000_000):
        ex = rosenbrock(n)
        out.append((f"rosenbrock n={n:,}", "rosenbrock", ex, ex.example_input, {}))
    for width in (64, 256) if quick else (64, 256, 1024):
        ex = mlp_loss(batch=256, width=width, features=width)
        X, y = _data(ex)
        out.append((f"mlp width={width}", "mlp", ex, ex.example_input, {"X": X, "y": y}))
    for label, make in (("gmm n=1000 d=10 k=25", gmm_objective), ("softmax xent 512×100", softmax_cross_entropy),
                        ("gauss loglik n=2000 d=20", gaussian_loglik)):
        ex = make()
        out.append((label, "objective", ex, ex.example_input, {}))
    return out


def _data(ex: Any) -> tuple[np.ndarray, np.ndarray]:
    """The constants X (batch × features) and y (batch × 1) of an MLP term, in the order they appear."""
    consts = [n.value for n in ex.term.nodes() if n.op == "const" and n.value.ndim == 2]
    X = next(c for c in consts if c.shape[1] > 1)
    y = next(c for c in consts if c.shape[1] == 1)
    return X, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and shorter timings")
    parser.add_argument("--no-tune", action="store_true", help="keep glibc's default malloc thresholds")
    args = parser.parse_args()
    tuned = False if args.no_tune else tune_allocator()
    budget = 0.3 if args.quick else 1.0
    found = anchors()
    print(f"# catterms AD cost ratios — {machine()}, allocator tuned: {tuned}")
    head = (f"{'case':<26}{'f':>11}{'eval/f':>8}{'rev/f':>8}{'jvp/f':>8}{'fwd grad/f':>12}{'gterm/rev':>10}"
            f"{'hvp/rev':>9}{'mem':>7}")
    print(head + "".join(f"{name + '/f':>12}" for name in found))
    for label, kind, ex, x, data in cases(args.quick):
        term, ref = ex.term, ex.reference
        y, g = ct.value_and_grad(term, x)
        assert np.isclose(y, ref(x), rtol=1e-10), label
        checks = {name: make(kind, data, ex) for name, make in found.items()}
        for name, vg in checks.items():
            if vg is not None and name != "torch":  # torch's gradients come back as a list of tensors
                _, other = vg(x)
                for a, b in zip(other if isinstance(other, tuple) else (other,), g if isinstance(g, tuple) else (g,)):
                    np.testing.assert_allclose(np.asarray(a), b, rtol=1e-8, atol=1e-10, err_msg=f"{label}: {name}")
        t_f = best_time(lambda: ref(x), budget)
        t_eval = best_time(lambda: ct.evaluate(term, x), budget)
        t_rev = best_time(lambda: ct.value_and_grad(term, x), budget)
        tangent = tuple(np.ones_like(a) for a in x) if isinstance(x, tuple) else np.ones_like(x)
        t_jvp = best_time(lambda: ct.jvp(term, x, tangent), budget)
        fwd_grad = f"{t_jvp * x.size / t_f:12.1f}" if kind == "rosenbrock" and x.size <= 1_000 else f"{'—':>12}"
        vg_term = ct.value_and_grad_term(term, x)
        assert np.allclose(ct.evaluate(vg_term, x)[0], y, rtol=1e-12), label
        t_gterm = best_time(lambda: ct.evaluate(vg_term, x), budget)
        t_hvp = best_time(lambda: ct.hvp(term, x, tangent), budget)
        mem = peak_bytes(lambda: ct.value_and_grad(term, x)) / max(peak_bytes(lambda: ref(x)), 1)
        row = (f"{label:<26}{t_f * 1e6:9.1f}µs{t_eval / t_f:8.2f}{t_rev / t_f:8.2f}{t_jvp / t_f:8.2f}{fwd_grad}"
               f"{t_gterm / t_rev:10.2f}{t_hvp / t_rev:9.2f}{mem:7.1f}")
        for vg in checks.values():
            row += f"{best_time(lambda: vg(x), budget) / t_f:12.2f}" if vg is not None else f"{'—':>12}"
        print(row, flush=True)
    print("targets (rev/f): ≤ 2.5 for n ≥ 1e5 and width ≥ 256; ≤ 3 for width 64; ≤ 5 for n ≤ 1e3; "
          "≤ 3 and below autograd for the gmm, softmax and gauss objectives; gterm/rev ≤ 1.10; "
          "hvp/rev ≤ 4 for Rosenbrock n = 1e5 and the MLPs")


if __name__ == "__main__":
    main()
