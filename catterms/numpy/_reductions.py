"""Reductions with numpy's names and signatures (``axis``, ``keepdims``)."""

from __future__ import annotations

from ._wrap import reduction

__all__ = ["logsumexp", "max", "mean", "sum"]

sum = reduction("sum", floats=False)
mean = reduction("mean")
max = reduction("max", floats=False)
logsumexp = reduction("logsumexp")
