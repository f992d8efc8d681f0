"""The ``__main__`` guard: a script that starts its own cluster must not start one in every worker.

An :class:`~workers.Executor` without an address starts worker processes, and Python's ``spawn`` start
method runs the main script again, from the top, in each of them. A script that creates the Executor at
its top level, outside ``if __name__ == "__main__":``, would start a cluster in every worker: Dask then
prints pages of Nanny tracebacks and ends in ``RuntimeError: Nanny failed to start``. This module finds
that case before any process starts — the statement of the main script running now, read from its source,
is not inside the guard — so the user gets one error saying what to add. It looks only at the main
script that ``spawn`` would run again: an interactive session or a notebook (no ``__main__.__file__``) and
a package run with ``python -m pkg`` (spawn leaves ``pkg.__main__`` alone) are never refused, and neither
is a script whose call is guarded.
"""

from __future__ import annotations

import ast
import os
import sys
from types import FrameType

from catterms import CattermsError


class UnguardedMainError(CattermsError, RuntimeError):
    """An Executor that would start its own worker processes was created by the top-level code of a script
    that each of those processes runs again (no ``if __name__ == "__main__":``)."""


def _is_guard(stmt: ast.stmt) -> bool:
    """Whether ``stmt`` is ``if __name__ == "__main__":`` (either way round)."""
    if not (isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Compare) and len(stmt.test.ops) == 1
            and isinstance(stmt.test.ops[0], ast.Eq)):
        return False
    sides = [stmt.test.left, stmt.test.comparators[0]]
    return (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


def _script_frame(path: str) -> FrameType | None:
    """The frame running the top level of the main script at ``path``, if it is on this thread's stack."""
    frame: FrameType | None = sys._getframe(2)
    found = None
    while frame is not None:
        code = frame.f_code
        if (code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__"
                and os.path.abspath(code.co_filename) == path):
            found = frame
        frame = frame.f_back
    return found


def unguarded_line() -> tuple[str, int] | None:
    """The main script and the line of its top-level statement running now, when that statement is not
    inside the ``__main__`` guard; None when it is, or when there is no script for ``spawn`` to run again."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    name = getattr(getattr(main, "__spec__", None), "name", "")
    if not path or name == "__main__" or name.endswith(".__main__"):
        return None  # nothing that spawn runs again (it leaves a package's __main__, `python -m pkg`, alone)
    path = os.path.abspath(path)
    frame = _script_frame(path)
    if frame is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None  # nothing to read: nothing to tell the user about
    line = frame.f_lineno
    for stmt in tree.body:
        if stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            guarded = (isinstance(stmt, ast.If) and _is_guard(stmt)
                       and stmt.body[0].lineno <= line <= (stmt.body[-1].end_lineno or line))
            return None if guarded else (path, line)
    return None


def require_main_guard() -> None:
    """Raise :class:`UnguardedMainError` when the Executor being made would start worker processes from
    unguarded top-level code of the main script (see the module docstring)."""
    where = unguarded_line()
    if where is None:
        return
    path, line = where
    raise UnguardedMainError(
        f"Executor() at {path}:{line} starts worker processes, and each of them runs {os.path.basename(path)} "
        "again from the top, so it would start a cluster in every worker. Put the code that creates the "
        "Executor (and what uses it) under `if __name__ == \"__main__\":`, or pass the address of a running "
        "scheduler, Executor(\"tcp://host:8786\")."
    )
