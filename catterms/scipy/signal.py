"""``catterms.scipy.signal``: scipy.signal's ``convolve`` and ``correlate`` of N-d arrays on traced arrays.

Both are the ``convolve`` primitive (:mod:`catterms.prims.signal`); ``correlate`` reverses its second
operand along every axis first, scipy's own identity for real arrays (its FFT path does the same), which
costs one copy of ``in2`` beside the convolution. Integer and boolean operands keep scipy's result dtype.
"""

from __future__ import annotations

from typing import Any

from ..errors import TraceError
from ..numpy._shapes import flip
from ..numpy._wrap import apply

__all__ = ["convolve", "correlate"]

_METHODS = ("auto", "direct", "fft")


def _method(name: str, method: str) -> None:
    """scipy's ``method`` picks an algorithm, not a result; the primitive makes scipy's ``auto`` choice."""
    if method not in _METHODS:
        raise TraceError(f"catterms.scipy.signal.{name}: method is 'auto', 'direct' or 'fft', got {method!r}")


def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """The N-d convolution of ``in1`` with ``in2`` (same number of axes): ``mode`` ``'full'``, ``'same'`` (the
    size of ``in1``, centred) or ``'valid'`` (where one covers the other). ``method`` is accepted; every
    method gives scipy's result up to rounding."""
    _method("convolve", method)
    return apply("convolve", (in1, in2), mode=mode)


def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """The N-d cross-correlation of real arrays, ``z[k] = Σₗ in1[l] in2[l − k + N − 1]`` (full), with
    ``convolve``'s modes: the convolution of ``in1`` with ``in2`` reversed along every axis."""
    _method("correlate", method)
    return apply("convolve", (in1, flip(in2)), mode=mode)
