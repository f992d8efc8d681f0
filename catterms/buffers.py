"""Buffer reuse in generated code: numpy's temporary elision, done on a whole straight-line program.

numpy evaluates ``a - b**2`` into the buffer of the temporary ``b**2`` because nothing else refers to
it. In generated code every intermediate has a name, so numpy cannot see that — but this pass can. It
knows each line's inputs and outputs and what the function returns, so for every elementwise ufunc
line it looks for an input whose buffer the program allocated itself (``FRESH`` producers), has the
output's shape and dtype, and is dead afterwards (no name aliasing it is read later); the line then
writes its result there with ``out=``. Names are also deleted after their last use, so large
temporaries are freed as early as numpy would free them. At 10⁵–10⁶ elements this, not Python
overhead, decides what a gradient costs relative to the function (see workers/alloc.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

#: Callables known to return a newly allocated array (never a view of an argument).
FRESH: set[Any] = {np.zeros}


class Line(NamedTuple):
    lhs: str  # assignment target text
    outs: tuple[str, ...]
    fn: Any
    call: str  # "f_name(args...)"
    uses: tuple[str, ...]  # names read, positional ufunc inputs first, in order
    origin: Any  # the Location of the primitive that emitted the line, or None
    args: tuple = ()  # the call's positional arguments (Syms, constants), for rewriting (catterms.batching)
    kwargs: Any = None  # its keyword arguments, a dict, or None for none


def _fresh(fn: Any) -> bool:
    return (isinstance(fn, np.ufunc) and fn.nout == 1) or fn in FRESH


#: Callables that may write their result over one operand, passed as ``out=``: the callable -> which of its
#: positional arguments that is (``update`` writes into a copy of its array, or into the array itself
#: when the program allocated it and nothing reads it afterwards).
OVER_OPERAND: dict[Any, Callable[[tuple], Any]] = {}


def _writes_in_place(fn: Any) -> bool:
    # gufuncs such as matmul may not write over an operand they are still reading
    return isinstance(fn, np.ufunc) and fn.nout == 1 and fn.signature is None


def _candidates(line: Line) -> tuple[str, ...]:
    """The operands whose buffer ``line`` could write its result into."""
    if _writes_in_place(line.fn):
        return line.uses
    pick = OVER_OPERAND.get(line.fn)
    operand = pick(line.args) if pick is not None and line.args else None
    name = getattr(operand, "name", None)
    return (name,) if name in line.uses else ()


def render(lines: list[Line], result_uses: set[str], syms: dict[str, Any]) -> list[tuple[str, Any]]:
    """Source lines ``(code, origin)`` for ``lines`` (already in order, dead lines removed)."""
    last: dict[str, float] = {}
    for i, line in enumerate(lines):
        for u in line.uses:
            last[u] = i
    for u in result_uses:
        last[u] = float("inf")

    buffer: dict[str, str] = {}  # name -> the allocation it lives in
    reusable: dict[str, bool] = {}  # allocation -> allocated here and never viewed
    until: dict[str, float] = {}  # allocation -> last line reading any name living in it

    out: list[tuple[str, Any]] = []
    for i, line in enumerate(lines):
        code = f"{line.lhs} = {line.call}"
        target = syms.get(line.outs[0]) if len(line.outs) == 1 else None
        into = None
        if target is not None and target.shape != ():
            for u in _candidates(line):
                b, s = buffer.get(u), syms.get(u)
                if (b and reusable[b] and s is not None and s.shape == target.shape and s.dtype == target.dtype
                        and until[b] <= i):
                    into = b
                    code = f"{line.outs[0]} = {line.call[:-1]}, out={u})"
                    break
        if into is not None:
            buffer[line.outs[0]] = into
            until[into] = max(until[into], last.get(line.outs[0], -1))
        else:
            fresh = target is not None and target.shape != () and _fresh(line.fn)
            if not fresh:
                # anything else may return a view of its inputs: their buffers are never reused
                for u in line.uses:
                    if u in buffer:
                        reusable[buffer[u]] = False
            for o in line.outs:
                buffer[o], reusable[o], until[o] = o, fresh, last.get(o, -1)
        out.append((code, line.origin))
        gone = [u for u in dict.fromkeys(line.uses + line.outs) if u in syms and last.get(u, -1) <= i]
        if gone:
            out.append((f"del {', '.join(gone)}", line.origin))
    return out
