"""Cases for ``catterms.scipy.signal``: N-d convolution and correlation of tiny arrays, each mode, either
operand larger, integer operands."""

from __future__ import annotations

from numpy_cases import Case
from prim_cases.gen import ints, normal, pair

SHAPES = [((5,), (3,)), ((2,), (4,)), ((3, 4), (2, 3)), ((2, 2), (3, 4)), ((2, 1, 3), (1, 1, 2))]

CASES = [
    *[Case(f"scipy.signal.{fn}", pair(normal(*a), normal(*b)), args=(mode,))
      for fn in ("convolve", "correlate") for a, b in SHAPES for mode in ("full", "same", "valid")],
    Case("scipy.signal.convolve", pair(normal(3, 3), ints(-3, 4, 2, 2)), kwargs={"mode": "same", "method": "direct"}),
    Case("scipy.signal.correlate", pair(ints(-3, 4, 2, 3), ints(-3, 4, 2, 2)), kwargs={"method": "fft"}),
    Case("scipy.signal.correlate", pair(normal(4, 3), normal(2, 2)), kwargs={"mode": "valid", "method": "auto"}),
]
