"""Gathers with numpy's names: ``take``, ``take_along_axis`` (indexing itself is ``x[idx]`` and ``x.at``,
:mod:`catterms.frontend.indexing`)."""

from __future__ import annotations

__all__: list[str] = []
