"""The house rules of issue 14, point 5, checked on the source: catterms' modules import one another
without cycles (the node type at the bottom), the collector's pause is safe to nest and share, and the
process-wide switches are set where a call enters catterms (:func:`catterms.boundary.boundary`)."""

from __future__ import annotations

import ast
import gc
import sys
import threading
from pathlib import Path

import numpy as np

import catterms as ct
import catterms.numpy as cnp
from catterms.boundary import boundary, gc_paused
from catterms.compiler import program

PACKAGE = Path(__file__).resolve().parents[2] / "catterms"

def _modules() -> dict[str, tuple[Path, bool]]:
    """Each module of catterms by dotted name: its file and whether it is a package's ``__init__``."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """``{module: {imported module: line}}`` inside catterms, from every import statement — at the top of a
    module or inside a function (a deferred import hides a cycle from Python, not from the design)."""
    modules = _modules()
    graph: dict[str, dict[str, int]] = {m: {} for m in modules}
    for name, (path, package) in modules.items():
        here = name if package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                # ``from pkg import sub`` imports the submodule; ``from pkg import name``, the package
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # a name inside a module: the module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].setdefault(target, node.lineno)
    return graph


def _cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle (``[a, b, …, a]``), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in graph:
        if root in state:
            continue
        path, stack = [root], [iter(graph[root])]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph[nxt]))
    return None


def _shown(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    return " → ".join(f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])) + f" → {cycle[-1]}"


def test_catterms_has_no_import_cycles() -> None:
    graph = import_graph()
    cycle = _cycle(graph)
    assert cycle is None, f"import cycle in catterms: {_shown(graph, cycle)}"


def test_the_node_type_imports_nothing_above_it() -> None:
    graph = import_graph()
    reached, todo = set(), ["catterms.terms"]
    while todo:
        for m in graph[todo.pop()]:
            if m not in reached:
                reached.add(m)
                todo.append(m)
    assert reached <= {"catterms.types", "catterms.trees", "catterms.errors"}, sorted(reached)


def test_the_cycle_finder_names_a_cycle() -> None:
    graph = {"a": {"b": 3}, "b": {"c": 5}, "c": {"a": 7}, "d": {"a": 1}}
    cycle = _cycle(graph)
    assert cycle is not None and _shown(graph, cycle) == "a (line 3) → b (line 5) → c (line 7) → a"


def test_collector_pauses_nest_and_the_last_one_to_end_resumes_it() -> None:
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause ending does not cut the outer one short
    assert gc.isenabled()


def test_collector_stays_off_while_any_thread_is_paused() -> None:
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with gc_paused():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert entered.wait(10)
        with gc_paused():
            pass
        assert not gc.isenabled()  # this thread's pause ended, the other's has not
    finally:
        release.set()
        thread.join(10)
    assert gc.isenabled()


def test_a_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_entry_point_pauses_the_collector_and_a_nested_one_leaves_it_to_the_outer() -> None:
    seen = []

    @boundary
    def inner() -> None:
        seen.append(gc.isenabled())

    @boundary
    def outer() -> None:
        inner()
        seen.append(gc.isenabled())

    outer()
    assert seen == [False, False] and gc.isenabled()


def test_tracing_runs_inside_a_boundary() -> None:
    seen = []

    def f(x):  # traced under ct.compile, and under ct.grad when it compiles f
        seen.append(gc.isenabled())
        return cnp.sum(cnp.sin(x) * x)

    x = np.linspace(0.0, 1.0, 3)
    ct.compile(f, x)
    ct.grad(f, x)
    assert seen == [False, False] and gc.isenabled()


def test_a_nested_entry_raises_the_recursion_limit_for_its_own_term() -> None:
    term = ct.identity
    for _ in range(600):  # f_{k+1} = add ∘ (f_k △ sin), 1,200 deep
        term = ct.compose(ct.prim("add"), ct.fork(term, ct.prim("sin")))
    before = sys.getrecursionlimit()

    @boundary
    def outer() -> None:
        sys.setrecursionlimit(1000)  # as if this thread had not met the term before
        program(term, ct.Array((2,)), "value")  # a term the outer entry was not given

    try:
        outer()
        assert sys.getrecursionlimit() >= 10 * term.depth
    finally:
        sys.setrecursionlimit(max(before, sys.getrecursionlimit()))


def test_a_compiled_loop_runs_with_the_collector_paused() -> None:
    """A loop keeps every step's results; its program is an entry point, so no collection interrupts it."""
    term = ct.compile(lambda x: ct.scan(lambda c, _: (c + 1.0, c * 2.0), x, length=5000)[1], ct.Array(()))
    run = program(term, ct.Array(()), "value")
    collections: list[str] = []

    def count(phase: str, info: dict) -> None:
        collections.append(phase)

    gc.callbacks.append(count)
    try:
        ys = run(np.float64(1.0))
    finally:
        gc.callbacks.remove(count)
    assert ys.shape == (5000,) and collections == [] and gc.isenabled()
