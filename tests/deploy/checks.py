"""What the deploy tests check and print: results against the in-process interpreter, and figures."""

from __future__ import annotations

from typing import Any

import numpy as np

import catterms as ct


def assert_same(result: Any, term: ct.Term, x: np.ndarray) -> None:
    """A grad job's result equals ``ct.value_and_grad`` here, to rounding (the branches' sums may be
    added in another order on the cluster)."""
    value, grad = ct.value_and_grad(term, x)
    np.testing.assert_allclose(result.value, value, rtol=1e-12)
    np.testing.assert_allclose(result.derivative, grad, rtol=1e-12)


def figure(name: str, **figures: float) -> None:
    """Print a fault's figures on one line (``pytest -s`` shows them; deploy/README.md quotes them)."""
    print(f"\n[netns] {name}: " + ", ".join(f"{k} {v:.3g}" for k, v in figures.items()), flush=True)
