"""The supported numpy surface as a page: ``python -m catterms.surface > docs/numpy.md``.

Generated from the code — :mod:`catterms.numpy`'s and :mod:`catterms.scipy`'s exports, the traced arrays'
methods and the primitive table — so the page cannot drift from what compiles (a test compares them).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from . import numpy as cnp
from . import scipy as csp
from .frontend.tracer import METHODS
from .prims import TABLE

REWRITES = """\
The front end rewrites a few spellings so that the term (and so the plan on Dask) is the one a person
would write by hand:

- `x * c` and `c * x` for a traced float array `x` and a scalar constant `c` of its dtype is the paper's
  `scale c`; constant factors anywhere in a product gather into one `scale` outside it
  (`(2 * u) * v * 3` is `scale 6.0 ∘ mul`), and `scale s ∘ scale t` is `scale (s·t)`.
- `x / c` for a constant `c` is multiplication by `1 / c`: `loss / N` is `scale (1/N)` (the quotient may
  differ from numpy's in the last bit).
- `x + 0` is `x`, so Python's `sum` of traced arrays starts cleanly; `x ** p` for a constant `p` is the
  primitive `pow p`, and `c ** x` for a constant `c > 0` is `exp(x · ln c)`.
- The same primitive on the same operands is one node (hash-consing): a value written twice is computed
  once and shared with `dup`.
"""


def _summary(fn: Any) -> str:
    doc = inspect.getdoc(fn) or ""
    first = doc.split("\n\n")[0].replace("\n", " ").strip()
    return first.replace("``", "`").replace("|", "\\|")


def _functions(module: ModuleType, prefix: str, nested: bool = False) -> list[str]:
    """A row per exported name; with ``nested``, exported namespaces (scipy.stats' distributions) are
    listed method by method."""
    rows = []
    for name in module.__all__:
        value = getattr(module, name)
        if isinstance(value, ModuleType):
            if nested:
                rows += _functions(value, f"{prefix}{name}.")
            continue
        rows.append(f"| `{prefix}{name}` | {_summary(value)} |")
    return rows


def _section(title: str, module: ModuleType, prefix: str, nested: bool = False) -> list[str]:
    rows = _functions(module, prefix, nested)
    if not rows:
        return []
    return [f"## {title}", "", f"{len(rows)} functions.", "", "| function | what it is |", "|---|---|", *rows, ""]


def _rule_kind(rule: Any) -> str:
    if rule.linear:
        return "linear (its own derivative; has a transpose)"
    deriv: Callable[..., Any] | None = rule.deriv
    return "no derivative (constant, or a result without tangent)" if getattr(deriv, "__name__", "") == \
        "no_derivative" else "derivative rule"


def markdown() -> str:
    """The page."""
    out = [
        "# The numpy surface",
        "",
        "What `ct.compile` accepts, generated from the code by `python -m catterms.surface > docs/numpy.md` "
        "(`tests/catterms/test_surface_page.py` checks that this page matches). Write functions with "
        "`import catterms.numpy as cnp` — the documented spelling — or with plain `import numpy as np`: numpy's "
        "own protocols (`__array_ufunc__`, `__array_function__`) hand `np.sin(x)`, `np.sum(x, axis=0)` or "
        "`np.linalg.norm(x)` on traced arrays to the function of the same name below, which compiles to the same "
        "term. A numpy function that is not listed raises `TraceError` naming it.",
        "",
        "Dtypes: float64 and float32 (with tangents), int64, int32 and bool (values without tangents: their "
        "tangents and cotangents are `None`). Python numbers are weakly typed (NEP 50): `x32 * 2` stays float32.",
        "",
    ]
    out += _section("catterms.numpy", cnp, "cnp.")
    out += _section("catterms.numpy.linalg", cnp.linalg, "cnp.linalg.")
    out += _section("catterms.scipy.special", csp.special, "catterms.scipy.special.")
    out += _section("catterms.scipy.linalg", csp.linalg, "catterms.scipy.linalg.")
    out += _section("catterms.scipy.signal", csp.signal, "catterms.scipy.signal.")
    out += _section("catterms.scipy.stats", csp.stats, "catterms.scipy.stats.", nested=True)
    out += [
        "## Traced arrays",
        "",
        "Operators: `+ - * / // % ** @`, `divmod`, unary `- + abs ~`, `round()`, comparisons "
        "`< <= > >= == !=` (boolean arrays), `& | ^` on booleans; indexing `x[idx]` with numpy's rules and "
        "functional updates `x.at[idx].set(v)` / `.add` / `.multiply` / `.min` / `.max` (JAX's names).",
        "",
        "Attributes: `shape`, `ndim`, `size`, `dtype`, `itemsize`, `nbytes`, `T`, `mT`, `real`, `imag`, `at`.",
        "",
        "Methods (each the `cnp` function of the same name): "
        + ", ".join(f"`{m}`" for m in sorted((*METHODS, "reshape", "transpose", "flatten",
                                                "copy"))) + ".",
        "",
        "## Front-end rewrites",
        "",
        REWRITES,
        "## The primitive table",
        "",
        "Every function above compiles to these primitives (`catterms.prims.TABLE`), each defined once with its "
        "implementation, shape rule, derivative or transpose, and cost. Internal rows (the linear maps "
        "derivatives are made of) never appear in a term and are not listed.",
        "",
        "| primitive | kind | what it is |",
        "|---|---|---|",
    ]
    for name, rule in sorted(TABLE.items()):
        if rule.public:
            out.append(f"| `{name}` | {_rule_kind(rule)} | {rule.doc.replace('|', chr(92) + '|')} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
