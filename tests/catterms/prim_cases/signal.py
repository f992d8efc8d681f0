"""Cases for :mod:`catterms.prims.signal`: tiny 1-d and 2-d operands, each mode, either operand larger."""

from __future__ import annotations

import numpy as np

from .gen import ints, normal, pair


def _full(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The full convolution as a sum of shifted copies of ``a``, one per entry of ``b``."""
    out = np.zeros(tuple(p + q - 1 for p, q in zip(a.shape, b.shape)), np.result_type(a, b))
    for k in np.ndindex(b.shape):
        out[tuple(slice(i, i + n) for i, n in zip(k, a.shape))] += b[k] * a
    return out


def conv(mode: str):
    """An independent reference for ``convolve`` in ``mode``: the full result's centred part (``same``: the
    size of ``a``; ``valid``: where one operand covers the other)."""
    def ref(x: tuple) -> np.ndarray:
        a, b = x
        full = _full(a, b)
        if mode == "full":
            return full
        if mode == "same":
            starts, sizes = [(q - 1) // 2 for q in b.shape], a.shape
        else:
            starts = [min(p, q) - 1 for p, q in zip(a.shape, b.shape)]
            sizes = [abs(p - q) + 1 for p, q in zip(a.shape, b.shape)]
        return full[tuple(slice(s, s + n) for s, n in zip(starts, sizes))]
    return ref


CASES = {
    "convolve": [
        ({}, pair(normal(5), normal(3)), conv("full")),
        ({"mode": "same"}, pair(normal(2), normal(5)), conv("same")),
        ({"mode": "valid"}, pair(normal(2), normal(4)), conv("valid")),
        ({"mode": "same"}, pair(normal(3, 4), normal(2, 3)), conv("same")),
        ({"mode": "valid"}, pair(normal(4, 3), normal(2, 2)), conv("valid")),
        ({"mode": "full"}, pair(normal(2, 1, 3), normal(2, 2, 2)), conv("full")),
        ({"mode": "same"}, pair(normal(4), ints(-3, 4, 2)), conv("same")),
        ({}, pair(ints(-3, 4, 3), ints(-3, 4, 2)), conv("full")),
    ],
}
