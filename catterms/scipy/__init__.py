"""scipy-named functions for :func:`catterms.compile`: ``catterms.scipy.special`` and ``catterms.scipy.linalg``,
with scipy's names and signatures, as :mod:`catterms.numpy` is for numpy."""

from __future__ import annotations

from . import linalg, special

__all__ = ["linalg", "special"]
