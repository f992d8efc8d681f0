"""``python -m catterms``: the paper's examples, differentiated in both modes, in one screen.

For each of ``sqr``, ``magSqr`` and ``cosSinProd`` it prints the point-free term, a value, a forward-mode
and a reverse-mode derivative; then the straight-line code reverse mode compiles ``cosSinProd`` into.
(The service demo, with a Dask cluster and parallel-efficiency report, is ``catterms demo``.)
"""

from __future__ import annotations

import numpy as np

import catterms as ct
from catterms.compiler import program
from catterms.examples import cosSinProd, magSqr, sqr
from catterms.types import type_of


def main() -> None:
    print("catterms: Elliott's Simple Essence of AD as categorical terms\n")
    for name, term, x, dx in (("sqr", sqr, 3.0, 1.0), ("magSqr", magSqr, (3.0, 4.0), (1.0, 0.0)),
                              ("cosSinProd", cosSinProd, (0.5, 2.0), (1.0, 0.0))):
        y, dy = ct.jvp(term, x, dx)
        ct_in = np.ones(()) if not isinstance(y, tuple) else tuple(np.ones(()) for _ in y)
        _, g = ct.vjp(term, x, ct_in)
        print(f"{name} = {ct.pretty(term)}")
        print(f"  f{x} = {_show(y)}   jvp along {dx}: {_show(dy)}   vjp of ones: {_show(g)}")
    code = program(cosSinProd, type_of((0.5, 2.0)), "vjp").__catterms_source__  # type: ignore[attr-defined]
    print("\nreverse mode of cosSinProd, compiled (no tape: the term, interpreted in D over Dual):\n")
    print(code)


def _show(v: object) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(_show(c) for c in v) + ")"
    return f"{float(np.asarray(v)):.6g}"


if __name__ == "__main__":
    main()
