"""Fusing a step into a neighbour: one task where a hop would buy nothing.

The planner splits a term where its forks free work to run side by side; a derivative term's forward and
backward halves then come out as separate steps, joined by wires: a member of an ensemble computes its
loss, then a light coefficient from it, then its backward pass, each a task reading the one before — two
dependent hops (6–7 ms each on small machines) and its residuals moved between them. Fusing puts such a
chain back into one task, so the residuals stay on the worker that made them.

``B`` (reading step ``A``) is fused into ``A`` when the fused task cannot delay anything that could have
run beside it:

* ``B`` reads no other step: it could not start before ``A`` ends anyway; and either ``B`` is light
  (a quarter of the planner's threshold: not worth a task of its own) or nothing else waits for ``A``
  (so nothing is held back while ``B`` runs);
* or ``A`` is light and ``B`` is the only task that reads it: ``A``'s work moves to where it is used;
* and a light step that reads no other step is computed again by each task that reads it.

"Nothing else waits" counts steps lighter than a hop (:data:`HOP_S`) that only the output waits for (a
loss summed over the members, say): run after the fused task, they cost less than the hop; and steps that
read ``B`` too, directly or later (they wait for ``B`` anyway). Fusion comes before the tail is marked, so it
sees every step.

Side by side, steps that wait for the same steps are put in one task (:func:`_siblings`) when a later step
reads both and there are more of them than workers: a tree's leaves, computed pairwise on one worker, let the
join of each pair — and the reverse pass of the pair, which reads their residuals — run where their arrays
are, instead of moving activations between workers at every level. Only while each task stays within a fair
share of the group's work, and at least as many tasks as workers are left.

A step lighter than a task (the threshold) that a few heavier steps read, no more of them than workers and
none reading a step it does not, is computed again by each (:func:`_recomputed`): they would wait for it side
by side anyway, and each then reads its inputs instead of its result, one hop sooner. A tree's root is one:
its halves' reverse passes each compute it from both joins, so the joins cross between the workers at once,
instead of one join going to the root's worker and a cotangent coming back. Only where no more bytes move:
its inputs weigh no more than what its readers read of it.

The fused step is a term again, in the same vocabulary: ``(a, r) ↦ (f a, g (mix (f a, r)))``, where
``mix`` is plumbing that rebuilds ``B``'s input from ``A``'s output and the rest of ``B``'s wire — so a fused
step type-checks, prints and runs like any other, and keeps ``A``'s output only if somebody else reads it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from catterms import Term, Type, compose, cross, exl, exr, fork, identity, proj
from catterms.engine import trees

from .estimate import nbytes
from .wires import INPUT, Leaf, Ref, Unused, Wire

Path = tuple[int, ...]

if TYPE_CHECKING:
    from .plan import Step

#: A step this much under the fusion threshold is *light*: fused, it holds nothing back for long.
LIGHT = 0.25

#: What a dependent hop costs a job (6–7 ms measured on small machines): a step that only the output waits
#: for and that is lighter than this is better run after a fused neighbour than beside it, a hop later.
HOP_S = 0.005


def _at(ty: Type, path: tuple[int, ...]) -> Term:
    """The projections that take a value of type ``ty`` to its part at ``path`` (``id`` for ``()``)."""
    out = []
    for i in path:
        parts = cast(tuple, ty)
        out.append(proj(i, len(parts)))
        ty = parts[i]
    return compose(*reversed(out)) if out else identity


def _mix(wire: Wire, a: int, a_cod: Type, rest: Type, position: tuple[int, ...] = ()) -> Term:
    """``(A's output, rest) ↦`` the input ``wire`` describes: its arrays from ``A`` read off ``A``'s output,
    the others off ``rest`` (``wire`` with those from ``A`` unused), at the same position."""
    if isinstance(wire, tuple):
        return fork(*(_mix(w, a, a_cod, rest, position + (i,)) for i, w in enumerate(wire)))
    if isinstance(wire, Ref) and wire.source == a:
        return compose(_at(a_cod, wire.path), exl)
    return compose(_at(rest, position), exr)


def _rewired(steps: dict[int, Step], output: Wire, moved: dict[int, Callable[[Path], Ref]]) -> Wire:
    """Every :class:`Ref` to a step in ``moved`` made to point where its array went (``moved[step](path)``):
    in the steps' wires, in place, and in the output wire, returned."""

    def leaf(q: Path, w: Leaf) -> Leaf:
        return moved[w.source](w.path) if isinstance(w, Ref) and w.source in moved else w

    for s in list(steps.values()):
        if any(i in moved for i in s.origins):
            steps[s.index] = replace(s, wire=trees.build(s.wire, leaf))
    return trees.build(output, leaf)


def fused(a: Step, b: Step, keep_a: bool) -> Step:
    """The step computing ``a`` and then ``b`` in one task (``b`` reads ``a``); its output is ``(a's, b's)``
    when ``keep_a`` (somebody else reads ``a``), else ``b``'s."""
    rest = trees.build(b.wire, lambda q, w: Unused(cast(Any, trees.pick(b.dom, q)))
                       if isinstance(w, Ref) and w.source == a.index else w)
    first = fork(compose(a.term, exl), exr)  # (a's input, rest) ↦ (a's output, rest)
    then = compose(b.term, _mix(b.wire, a.index, a.cod, b.dom))
    term = compose(fork(exl, then) if keep_a else then, first)
    return replace(b, term=term, wire=(a.wire, rest), dom=(a.dom, b.dom), cod=(a.cod, b.cod) if keep_a else b.cod,
                   name=f"{a.name}+{b.name}", est_s=a.est_s + b.est_s, consumers=[],
                   output=b.output or (keep_a and a.output))


def fuse(steps: dict[int, Step], output: Wire, threshold_s: float,
         workers: float = math.inf) -> tuple[dict[int, Step], Wire]:
    """``steps`` (in dependency order, consumers known: :func:`link`) with every pair that the module's
    rules allow fused, and the output wire pointing into the fused steps; ``workers`` is how many the
    cluster has. A zero threshold fuses nothing: it asks for every computing part as a step of its own."""
    if threshold_s <= 0:
        return steps, output
    steps = dict(steps)
    light = LIGHT * threshold_s
    changed = True
    while changed:
        changed = False
        for i in list(steps):
            b = steps.get(i)  # a step renamed by an earlier fusion is a new object
            if b is None:
                continue
            if not b.sources and not b.output and b.est_s < light and b.consumers:
                # light and waiting for nothing: each reader computes it again rather than wait for a hop
                for c in dict.fromkeys(b.consumers):
                    steps[c] = fused(b, steps[c], False)
                del steps[b.index]
            else:
                a = _partner(steps, b, light)
                if a is None:
                    continue
                output = _merge(steps, steps[a], b, output)
            link(steps)
            changed = True
        pair = None if changed else _siblings(steps, workers)
        if pair is not None:
            output = _beside(steps, steps[pair[0]], steps[pair[1]], output)
            link(steps)
            changed = True
        shared = None if changed else _recomputed(steps, workers, threshold_s)
        if shared is not None:
            output = _into_readers(steps, shared, output)
            link(steps)
            changed = True
    return _ordered(steps), output


def _siblings(steps: dict[int, Step], workers: float) -> tuple[int, int] | None:
    """Two steps to put in one task (module docstring): they read the same steps, their group outnumbers
    the workers, a step reads both but not the whole group (one that reads all of it, as the output's sums
    do, gathers from every worker anyway), and together they stay within the group's work per worker. The
    lightest such pair, or None."""
    if not math.isfinite(workers):
        return None
    groups: dict[tuple[int, ...], list[Step]] = {}
    for s in steps.values():
        groups.setdefault(tuple(sorted(s.sources)), []).append(s)
    best: tuple[float, int, int] | None = None
    for group in groups.values():
        if len(group) <= workers:
            continue
        share = sum(s.est_s for s in group) / workers * (1 + 1e-9)
        members = {s.index for s in group}
        for c in {c for s in group for c in s.consumers}:
            both = [j for j in dict.fromkeys(steps[c].sources) if j in members]
            if len(both) == len(members):
                continue
            for i, j in zip(both, both[1:]):  # neighbours in what it reads: linear in the reads, not quadratic
                est = steps[i].est_s + steps[j].est_s
                if est <= share and (best is None or est < best[0]):
                    best = (est, i, j)
    return None if best is None else best[1:]


def _recomputed(steps: dict[int, Step], workers: float, threshold_s: float) -> Step | None:
    """A step to compute again in each of its readers (module docstring), or None: it reads other steps
    (one that reads none is another rule's), is lighter than the threshold, its readers are between two and
    the workers in number, each heavier than it and reading no step it does not (so none starts later for
    computing it first), and the arrays it reads of other steps weigh no more than what its readers read of
    it, each counted."""
    for s in steps.values():
        readers = list(dict.fromkeys(s.consumers))
        if (not s.sources or s.est_s >= threshold_s or not 2 <= len(readers) <= workers
                or any(steps[c].est_s <= s.est_s or not set(steps[c].sources) - {s.index} <= set(s.sources)
                       for c in readers)):
            continue
        # each reader on a worker of its own: what it reads of the step moves to it, or then the step's inputs
        read = sum(nbytes(trees.pick(s.cod, p)) for c in readers for p in _refs(steps[c].wire, s.index).values())
        if sum(nbytes(trees.pick(s.dom, q)) for q in _refs(s.wire)) <= read:
            return s
    return None


def _refs(wire: Wire, source: int | None = None) -> dict[Path, Path]:
    """The arrays ``wire`` reads from steps (or from step ``source``): their place in the wire → their path
    in the step's result."""
    return {q: w.path for q, w in trees.paths(wire)
            if isinstance(w, Ref) and w.source != INPUT and (source is None or w.source == source)}


def _into_readers(steps: dict[int, Step], a: Step, output: Wire) -> Wire:
    """Replace ``a`` by a copy of it fused into each of its readers; the first also returns ``a``'s output
    when the job's output reads it. The output wire, renamed."""
    readers = list(dict.fromkeys(a.consumers))
    del steps[a.index]
    for k, c in enumerate(readers):
        steps[c] = fused(a, steps[c], a.output and k == 0)
    return _rewired(steps, output, _paired(a.index, readers[0])) if a.output else output


def _beside(steps: dict[int, Step], a: Step, b: Step, output: Wire) -> Wire:
    """Replace ``a`` and ``b`` (independent) by one step computing both, ``(a's output, b's)``, at ``b``'s
    number; the output wire, renamed."""
    same = a.wire == b.wire  # both read the same arrays: one input, forked
    term = fork(a.term, b.term) if same else cross(a.term, b.term)
    del steps[a.index]
    steps[b.index] = replace(b, term=term, wire=a.wire if same else (a.wire, b.wire),
                             dom=a.dom if same else (a.dom, b.dom), cod=(a.cod, b.cod), name=f"{a.name}|{b.name}",
                             est_s=a.est_s + b.est_s, consumers=[], output=a.output or b.output)
    return _rewired(steps, output, _paired(a.index, b.index))


def _merge(steps: dict[int, Step], a: Step, b: Step, output: Wire) -> Wire:
    """Replace ``a`` and ``b`` by their fused step, at ``b``'s number; the output wire, renamed."""
    keep_a = a.output or any(c != b.index for c in a.consumers)
    del steps[a.index]
    steps[b.index] = fused(a, b, keep_a)
    if not keep_a:
        return output
    return _rewired(steps, output, _paired(a.index, b.index))


def _paired(a: int, b: int) -> dict[int, Callable[[Path], Ref]]:
    """Where the arrays of steps ``a`` and ``b`` went once one step at ``b``'s number returns both
    outputs, ``(a's, b's)``."""
    return {a: lambda p: Ref(b, (0,) + p), b: lambda p: Ref(b, (1,) + p)}


def _late(steps: dict[int, Step], i: int, limit: float, seen: dict[int, bool]) -> bool:
    """Whether step ``i`` is under ``limit`` with only such steps (or the output) waiting for it: delaying
    it by a fused neighbour's work delays nothing heavy after it."""
    if i not in seen:
        s = steps[i]
        seen[i] = s.est_s < limit and all(_late(steps, c, limit, seen) for c in s.consumers)
    return seen[i]


def _after(steps: dict[int, Step], i: int) -> set[int]:
    """The steps that wait for step ``i``, directly or later."""
    seen: set[int] = set()
    stack = list(steps[i].consumers)
    while stack:
        c = stack.pop()
        if c not in seen:
            seen.add(c)
            stack.extend(steps[c].consumers)
    return seen


def _partner(steps: dict[int, Step], b: Step, light: float) -> int | None:
    """The step ``b`` may be fused into (module docstring), or None."""
    srcs = b.sources
    if len(srcs) == 1:
        a = steps[srcs[0]]
        if b.est_s < light:
            return a.index
        # what else waits for a may be pushed back by b's work if it is lighter than the hop it saves
        others = [c for c in a.consumers if c != b.index]
        after = _after(steps, b.index) if others else set()
        limit, seen = max(light, HOP_S), dict[int, bool]()
        if all(_late(steps, c, limit, seen) for c in others if c not in after):
            return a.index
    for i in srcs:
        a = steps[i]
        if not a.output and a.est_s < light and a.consumers == [b.index]:
            return a.index
    return None


def trimmed(steps: dict[int, Step], output: Wire) -> tuple[dict[int, Step], Wire]:
    """Each step made to return only the arrays somebody reads: a fused step's first half returns all its
    variables, residuals among them, and Dask moves a task's result whole — to the Executor that fetches an
    output, to a worker whose task reads one array of it. The step's term is followed by the projections
    of what is read (``ex[i] △ ex[j] △ …``), and every wire renamed to match."""
    read: dict[int, dict[tuple[int, ...], None]] = {}
    for wire in [output, *(s.wire for s in steps.values())]:
        for w in trees.leaves(wire):
            if isinstance(w, Ref) and w.source != INPUT:
                read.setdefault(w.source, {})[w.path] = None
    moved: dict[int, Callable[[Path], Ref]] = {}
    out = dict(steps)
    for i, s in steps.items():
        # all of it read, or none: counted (a Ref names an array) without the paths of a thousand outputs
        if len(read.get(i, ())) in (0, len(trees.leaves(s.cod))):
            continue
        kept = [p for p, _ in trees.paths(s.cod) if p in read[i]]
        picks = [_at(s.cod, p) for p in kept]
        term = compose(picks[0] if len(picks) == 1 else fork(*picks), s.term)
        cod = trees.pick(s.cod, kept[0]) if len(kept) == 1 else tuple(trees.pick(s.cod, p) for p in kept)
        moved[i] = _picked(i, {p: (() if len(kept) == 1 else (k,)) for k, p in enumerate(kept)})
        out[i] = replace(s, term=term, cod=cod)
    return out, _rewired(out, output, moved) if moved else output


def _picked(i: int, to: dict[Path, Path]) -> Callable[[Path], Ref]:
    """Where array ``path`` of step ``i`` went once the step returns only what is read."""
    return lambda path: Ref(i, to[path])


def link(steps: dict[int, Step]) -> None:
    """Each step's ``consumers``: the steps that read it."""
    for s in steps.values():
        s.consumers = []
    for s in steps.values():
        for i in s.sources:
            if i != INPUT:
                steps[i].consumers.append(s.index)


def _ordered(steps: dict[int, Step]) -> dict[int, Step]:
    """``steps`` in an order where each comes after the steps it reads (a fused step takes the place of the
    later of its two, which a reader of the earlier one may precede)."""
    done: dict[int, Step] = {}
    for s in steps.values():
        stack = [s]
        while stack:
            top = stack[-1]
            if top.index in done:
                stack.pop()
                continue
            waiting = [steps[i] for i in top.sources if i not in done]
            if waiting:
                stack.extend(waiting)
                continue
            done[top.index] = stack.pop()
    return done
