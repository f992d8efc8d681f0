"""The README's examples of the term language run as written (docs that match the code)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import catterms as ct

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str) -> str:
    text = README.read_text()
    start = text.index(title)
    return text[start:text.index("\n### ", start + len(title))]


def test_the_term_language_examples_run() -> None:
    namespace: dict = {}
    blocks = re.findall(r"```python\n(.*?)```", _section("### The term language and AD"), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 (our own README)
    assert namespace["glabels"] is None and namespace["gW"].shape == (8, 3)
    x, f = namespace["x"], namespace["f"]
    assert np.allclose(ct.evaluate(namespace["g"], x), ct.grad(f, x))
    assert np.allclose(ct.evaluate(namespace["newton"], x), x - np.linalg.solve(ct.hessian(f, x), ct.grad(f, x)))
