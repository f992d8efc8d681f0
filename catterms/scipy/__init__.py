"""scipy-named functions for :func:`catterms.compile`: ``catterms.scipy.special``, ``.linalg``, ``.stats`` and
``.signal``, with scipy's names and signatures, as :mod:`catterms.numpy` is for numpy."""

from __future__ import annotations

from . import linalg, signal, special, stats

__all__ = ["linalg", "signal", "special", "stats"]
