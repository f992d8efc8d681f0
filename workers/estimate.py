"""Time and size estimates for the planner: catterms' costs, in seconds of one worker's time; values'
sizes, in bytes.

The type check prices every node (:mod:`catterms.cost`) in element operations, keeping apart the two
kinds one rate does not turn into seconds: numpy's elementwise loops run at about 10⁹ operations a
second, BLAS matmul at about 10¹⁰–10¹¹ flops, and every primitive call pays a few microseconds of
interpretation whatever its size. :meth:`Rates.seconds` prices each kind at its measured rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from catterms import Array, Cost, Type, compose, const, fork, identity, prim
from catterms.engine import leaves, program
from catterms.modes import SPECS

Pricing = Callable[[float, float, float], float]


def array_bytes(a: Array) -> int:
    return a.size * np.dtype(a.dtype).itemsize


def nbytes(t: Type, derivative: bool = False) -> int:
    """Bytes of a value of type ``t``; ``derivative``: of its tangent (parts without one weigh nothing)."""
    return sum(array_bytes(a) for a in leaves(t) if a.differentiable or not derivative)


class Seconds(NamedTuple):
    """A cost in seconds of one worker: all its work, and along its longest dependent path."""

    work: float
    span: float


@dataclass(frozen=True)
class Rates:
    """How fast one worker computes: elementwise ops/s, matmul flops/s, seconds per primitive call, and
    how much longer forward mode (jvp) and reverse mode (vjp, grad) take than the value alone."""

    elementwise: float = 2e9
    matmul: float = 5e10
    call: float = 3e-6
    forward: float = 2.0
    reverse: float = 2.5

    def factor(self, mode: str) -> float:
        """A job's time in ``mode`` over its value's time; hvp is forward mode over the gradient."""
        spec = SPECS[mode]
        return (self.forward if spec.forward else 1.0) * (self.reverse if spec.reverse else 1.0)

    def pricing(self, factor: float = 1.0) -> Pricing:
        """Seconds of ``(element operations, of which BLAS flops, calls)``, ``factor`` × the value's (see
        :meth:`factor`)."""
        e, m, k = factor / self.elementwise, factor / self.matmul, factor * self.call
        return lambda ops, flops, calls: (ops - flops) * e + flops * m + calls * k

    def seconds(self, c: Cost, factor: float = 1.0) -> Seconds:
        """``c`` in seconds (see :meth:`pricing`)."""
        return priced(self.pricing(factor), c)


def priced(pricing: Pricing, c: Cost) -> Seconds:
    """``c``'s work and span at ``pricing`` (:meth:`Rates.pricing`)."""
    return Seconds(pricing(c.work, c.flops, c.calls), pricing(c.span, c.span_flops, c.span_calls))


def _best(f: Any, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_rates(reps: int = 5) -> Rates:
    """Calibrate :class:`Rates` in this process in about 100 ms (run it where the tasks run).

    On arrays the size of real work: measured on a 128-row layer the reverse-mode factor came out at
    1.5, where real layers take 2–2.5 × their value, and plans fused branches that deserved a worker each."""
    # 4M elements (32 MB a temporary), beyond any core's L2: real work streams its arrays from memory,
    # and priced at the rate of in-cache arrays (1M elements: 2-4 x faster) the demo's ensemble gradient,
    # 5-7 x its estimate on its workers, looked too light to split
    x = np.linspace(-1.0, 1.0, 1 << 22)
    elementwise = (x.size + 8 * x.size) / _best(lambda: np.tanh(x * x), reps)
    a = np.linspace(-1.0, 1.0, 256 * 256).reshape(256, 256)
    matmul = 2 * 256 ** 3 / _best(lambda: a @ a, reps)
    vector = Array((1,))
    chain = program(compose(*[prim("neg")] * 200), vector, "value")
    call = _best(lambda: chain(np.ones(1)), reps) / 200
    # a layer and a loss, the shape of most work: mean(tanh(X @ W)²) as a function of W
    X, W = np.tile(a[:, :128] * 0.1, (8, 1)), a[:128, :128]
    layer = compose(prim("mean"), prim("pow", p=2.0), prim("tanh"), prim("matmul"), fork(const(X), identity))
    value = _best(lambda: program(layer, Array(W.shape), "value")(W), reps)
    forward = _best(lambda: program(layer, Array(W.shape), "jvp")(W, W), reps) / value
    reverse = _best(lambda: program(layer, Array(W.shape), "grad")(W), reps) / value
    return Rates(elementwise, matmul, call, forward, reverse)
