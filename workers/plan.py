"""The planner: a term split into tasks big enough for Dask, as one more interpretation of the term.

A morphism of the :class:`Planner` category maps an input *wire* (:mod:`workers.wires`) to an output
wire, emitting :class:`Step` s — a subterm and the wire it reads — on the way. Plumbing (``id``,
projections, ``dup``, injections, constants) only rearranges wires and emits nothing. Branches of
``△``, ``×`` and ``▽`` are planned independently, so a step depends exactly on the steps its wire
names. Fusion follows catterms' costs in seconds (:mod:`workers.estimate`): a subterm is split only where that
frees at least ``threshold_s`` of work to run beside its critical path (``work − span``) and there are
workers to run it on (the heavy branches of a fork share the workers of the node above them); otherwise
it becomes one step. Inside a split chain, consecutive stages are cut into chunks of at least the
threshold; light branches are grouped the same way. A term with less work than the threshold is one
step.

Types and costs are read off the type check a job has already paid for (each node remembers its own,
:class:`~catterms.typecheck.Typed`), and the term is interpreted on demand
(:func:`~catterms.category.on_demand`): the planner goes into a node only to split it, so a plan costs
in proportion to the nodes it splits and the parts they have, not to the whole term.

Every mode is planned as a value: a job in mode jvp, vjp, grad or hvp runs the *value* of its derivative
term (:func:`catterms.engine.job_term`), so the cluster's reverse pass is the one catterms' construction
derives — its forward and backward halves are subterms like any other, split at the same forks, and a
backward step reads the residuals of its forward step as an ordinary wire (Dask runs it where they are).
After planning (and fusion: :mod:`workers.fuse`), light steps that combine what tasks computed and feed
only the output (e.g. the final sum of an ensemble, or of a weight's cotangents over data shards) form
the *tail*: the Executor runs them itself, on the tasks' outputs it fetches anyway, as it assembles the
result — a task on the cluster would first pull those outputs, whole, to one worker.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate
from typing import Any, NamedTuple, cast

from catterms import Term, Type, compose, cross, fork, jamn
from catterms.engine import (
    Category,
    Fold,
    Location,
    Rule,
    Typed,
    boundary,
    checked,
    job_term,
    label,
    on_demand,
    summed,
    trees,
)
from catterms.modes import Mode, modes

from .demand import DEMAND, merged
from .estimate import Rates, Seconds, priced
from .fuse import fuse, link, trimmed
from .loops import loop_span, unrolled
from .wires import INPUT, Lit, Mask, Wire, Zero, expand, filled, full, narrow, origins, read_from

#: The modes the planner plans: every job's (each as the value of its derivative term).
MODES = modes(job=True)

#: Default fusion threshold: tasks of at least this long pay for Dask's per-task and per-hop costs
#: (1–3 ms and 6–7 ms measured on small machines).
THRESHOLD_S = 0.05

#: Steps this light (at the output) run in the Executor instead of on the cluster.
INLINE_S = 0.002

#: ... and reading at most this many arrays: compiling a step costs in proportion to the arrays it
#: touches, which its estimate does not count (a 100,000-way ``jam`` took 18 s and 1 GB to compile), and
#: the Executor's process (a service's) must not do heavy work on user data.
INLINE_ARRAYS = 256


@dataclass
class Step:
    """One task of the plan: ``term`` applied to the arrays named by ``wire``."""

    index: int
    term: Term
    wire: Wire
    dom: Type
    cod: Type
    name: str
    at: Location
    suffix: str
    est_s: float
    consumers: list[int] = field(default_factory=list)
    output: bool = False  # the job's output reads it
    tail: bool = False  # run by the Executor as it assembles the result, not on the cluster

    @property
    def where(self) -> str:
        """The step's path in the whole term, e.g. ``compose[1] > fork[0] > compose``."""
        return str(self.at) + self.suffix

    @cached_property
    def origins(self) -> list[int]:
        """Where the arrays this step reads come from, without repeats: steps, or ``INPUT``."""
        return origins(self.wire)

    @cached_property
    def sources(self) -> list[int]:
        """The steps this one reads (``INPUT`` excluded)."""
        return [i for i in self.origins if i != INPUT]


@dataclass
class Plan:
    """A job's steps in dependency order, with the wire of its output and the planner's estimates:
    ``term`` on ``dom`` is what the job evaluates (for a derivative mode, the derivative term of the
    term it was asked for, :func:`~catterms.engine.job_term`), ``mode`` what it was asked for."""

    term: Term
    dom: Type
    cod: Type
    mode: Mode
    steps: dict[int, Step]
    output: Wire
    threshold_s: float
    inline_s: float
    rates: Rates
    est_work_s: float
    est_span_s: float
    plan_s: float
    derive_s: float  # building the derivative term (cached per term, input type and mode)

    @property
    def tasks(self) -> int:
        """How many Dask tasks the plan becomes: one per step, but for the tail."""
        return sum(not s.tail for s in self.steps.values())

    @property
    def tail(self) -> list[Step]:
        """The steps the Executor runs itself, in dependency order."""
        return [s for s in self.steps.values() if s.tail]


#: How a node decomposes: its input wire and type to its output wire. Both are tuples for a product,
#: which the node knows and a type checker cannot, hence ``Any``.
Split = Callable[["Stage", Any, Any], Wire]


class Stage:
    """A node of the term as the planner sees it: how it decomposes into wires and steps, and its place.

    The planner interprets the term on demand (:func:`~catterms.category.on_demand`): a node gets a
    stage only when the planner goes into its parent, so a subterm too light to split costs one stage,
    not one per node. Types and costs come from the type check (:class:`Typed`), which a job has
    already paid for. The planner's recursions are plain Python calls, which Python 3.11 runs without
    growing the C stack, so a term as deep as catterms accepts plans without crashing.
    """

    __slots__ = ("split", "parts", "node", "at", "plumbing")
    node: Term
    at: Location
    plumbing: bool  # computes nothing: only rearranges wires

    def __init__(self, split: Split | None, parts: Sequence[Stage] = ()) -> None:
        self.split = split  # how the node decomposes into wires and steps; None: it cannot
        self.parts = parts  # the children of compose, cross, fork and join

    def rewire(self, w: Wire, t: Type) -> Wire:
        """The output wire of plumbing, which always decomposes (it computes nothing)."""
        assert self.split is not None, "plumbing without a split"
        return self.split(self, w, t)


class Item(NamedTuple):
    """Part ``pos`` of a node (a stage of a chain or a branch of a product), with its input and output
    types, its work in seconds and whether it is plumbing. Its own stage is made only if asked for."""

    of: Stage
    pos: int
    dom: Type
    cod: Type
    work: float
    plumbing: bool

    @property
    def node(self) -> Term:
        return self.of.node.args[self.pos]

    @property
    def stage(self) -> Stage:
        return self.of.parts[self.pos]


#: ``Item``'s fields as a tuple, without its ``__new__`` (a Python call): a fork may have thousands of
#: light branches, each an item
_item = tuple.__new__


def _constants(node: Term) -> bool:
    return any(n.op == "const" for n in node.nodes())


class Planner(Category[Stage]):
    """Terms as planners: a morphism maps an input wire to an output wire, emitting steps."""

    def __init__(self, typing: Fold[Typed], rates: Rates, threshold_s: float, workers: float) -> None:
        self.typing = typing.of
        self.secs = rates.pricing()  # seconds of (element operations, BLAS flops, calls)
        self.threshold_s = threshold_s
        self.budget = workers  # how many workers the subterm being planned may keep busy at once
        self.steps: list[Step] = []
        self.reads: dict[int, Callable[[Mask], Mask]] = {}  # a subterm's Demand, by node: asked again to emit it

    # --- the generators: how each decomposes -------------------------------------------------------

    def id(self) -> Stage:
        return Stage(lambda s, w, t: w)

    def compose(self, fs: Sequence[Stage]) -> Stage:
        return Stage(self._chain, fs)

    def cross(self, fs: Sequence[Stage]) -> Stage:
        return Stage(self._cross, fs)

    def fork(self, fs: Sequence[Stage]) -> Stage:
        return Stage(self._fork, fs)

    def join(self, fs: Sequence[Stage]) -> Stage:
        return Stage(self._join, fs)

    def proj(self, i: int, n: int) -> Stage:
        return Stage(lambda s, w, t: w[i])

    def dup(self, n: int) -> Stage:
        return Stage(lambda s, w, t: (w,) * n)

    def jam(self, n: int) -> Stage:
        return Stage(None)

    def inj(self, i: int, n: int, like: tuple | None) -> Stage:
        def split(s: Stage, w: Wire, t: Type) -> Wire:
            return tuple(w if j == i else filled(t if like is None else like[j], Zero) for j in range(n))

        return Stage(split)

    def prim(self, rule: Rule, params: dict[str, Any]) -> Stage:
        # a scan splits into its steps where its body pays to split (workers/loops.py); no other primitive can
        return Stage(lambda s, w, t: unrolled(self, s, w, t)) if rule.name == "scan" else Stage(None)

    def const(self, value: Any) -> Stage:
        return Stage(lambda s, w, t: Lit(value))

    def at(self, m: Stage, node: Term, where: Location) -> Stage:
        m.node, m.at = node, where
        m.plumbing = self.plumbing(node)
        return m

    # --- what a node costs, reads and is -----------------------------------------------------------

    def price(self, node: Term, t: Type) -> tuple[Type, Seconds]:
        """``node``'s codomain on ``t`` and its cost in seconds."""
        cod, c = self.typing[id(node)].check(t)
        return cod, loop_span(self, node, t, priced(self.secs, c))

    def plumbing(self, node: Term) -> bool:
        """Computes nothing (no primitive, no sum): only rearranges wires."""
        return not self.typing[id(node)].computes

    def demand(self, node: Term, m: Mask) -> Mask:
        """Which arrays of its input the subterm ``node`` reads when ``m`` of its output is needed
        (:class:`~workers.demand.Demand`)."""
        reads = self.reads.get(id(node))
        if reads is None:
            reads = self.reads[id(node)] = on_demand(node, DEMAND)
        return reads(m)

    def shared_demand(self, branches: Iterable[tuple[Term, Mask]]) -> Mask:
        """What branches that share an input read of it, each ``(node, what of its output is needed)``: the
        union (:func:`~workers.demand.merged`)."""
        return merged(self.demand(f, m) for f, m in branches)

    # --- planning ------------------------------------------------------------------------------------

    def parallel(self, c: Seconds) -> bool:
        """Whether splitting pays: it frees at least a threshold of work to run beside the critical path,
        and there are workers to run it on that the branches around this subterm do not already keep busy
        (splitting further only adds hops and moves data between workers)."""
        return self.budget > 1 and c.work - c.span >= self.threshold_s

    def apply(self, stage: Stage, w: Wire, t: Type) -> Wire:
        if stage.plumbing:
            return stage.rewire(w, t)
        cod, c = self.price(stage.node, t)
        if stage.split is not None and self.parallel(c):
            return stage.split(stage, w, t)
        return self.emit_stage(stage, t, cod, c.work, w)

    def emit(self, term: Term, at: Location, suffix: str, w: Wire, reads: Mask, t: Type, cod: Type, est_s: float,
             name: str | None = None) -> Wire:
        """A step running ``term`` on ``w``; the arrays it does not ``read`` are not sent to it."""
        i = len(self.steps)
        self.steps.append(Step(i, term, narrow(w, reads, t), t, cod, name or label(term), at, suffix, est_s))
        return expand(i, cod)

    def emit_stage(self, stage: Stage, t: Type, cod: Type, work_s: float, w: Wire) -> Wire:
        node = stage.node
        return self.emit(node, stage.at, "", w, self.demand(node, full(cod, True)), t, cod, work_s)

    def chunks(self, items: list[Item], side_by_side: float = 1) -> list[list[Item]]:
        """Cut a run of stages (or light branches) into about ``total / threshold`` groups of balanced
        cost, each therefore about the threshold or more; with a zero threshold, one per computing item
        (plumbing joins the next one). Groups that run ``side_by_side`` on that many workers come in
        whole rounds of them when there are more groups than workers (3 groups on 2 workers would leave
        one worker idle while the other runs the third)."""
        if not items:
            return []
        plumbing = [i.plumbing for i in items]
        computing = len(items) - sum(plumbing)
        if self.threshold_s > 0:
            weights = [i.work for i in items]
            total = sum(weights)
            n = max(1, min(computing, int(total // self.threshold_s)))
            if math.isfinite(side_by_side) and n > side_by_side > 1:
                n -= n % int(side_by_side)
        else:
            weights = [0.0 if p else 1.0 for p in plumbing]
            total = n = max(1, computing)
        # cut after the first computing item at which the running total reaches k/n of the whole
        running = list(accumulate(weights))
        out: list[list[Item]] = []
        start = 0
        while len(out) + 1 < n:
            j = bisect_left(running, (len(out) + 1) * total / n * (1 - 1e-9), start)
            while j < len(items) and plumbing[j]:
                j += 1
            if j >= len(items) - 1:
                break
            out.append(items[start:j + 1])
            start = j + 1
        out.append(items[start:])
        return out

    def _chain(self, stage: Stage, w: Wire, t: Type) -> Wire:
        run: list[Item] = []
        for pos, f in enumerate(stage.parts):
            cod, c = self.price(f.node, t)
            # a light product reading several steps is split too, its branches by what they read: fused
            # whole it would wait for all of them (a derivative term's per-member coefficients, between
            # the members' forward and backward halves, would join every member); fusion (workers.fuse)
            # then puts each part back into the step it reads
            if not f.plumbing and f.split is not None and (
                    self.parallel(c) or not run and f.node.op in ("fork", "cross") and _spread(w)):
                w = f.split(f, self._run(run, w), t)
                run = []
            else:
                run.append(Item(stage, pos, t, cod, c.work, f.plumbing))
            t = cod
        return self._run(run, w)

    def _run(self, run: list[Item], w: Wire) -> Wire:
        for chunk in self.chunks(run):
            # plumbing at either end of a chunk rearranges wires outside the task; but constants that
            # feed the chunk stay in its subterm, which is shipped to the workers once, where on a wire
            # they would travel inside every job's graph
            computes = not all(i.plumbing for i in chunk)
            while chunk and chunk[0].plumbing and not (computes and _constants(chunk[0].node)):
                first = chunk.pop(0)
                w = first.stage.rewire(w, first.dom)
            after: list[Item] = []
            while chunk and chunk[-1].plumbing:
                after.insert(0, chunk.pop())
            if len(chunk) == 1:
                w = self.emit_item(chunk[0], w)
            elif chunk:
                first, last = chunk[0], chunk[-1]
                reads = full(last.cod, True)
                for i in reversed(chunk):
                    reads = self.demand(i.node, reads)
                w = self.emit(compose(*reversed([i.node for i in chunk])), first.stage.at, f" … {label(last.node)}",
                              w, reads, first.dom, last.cod, sum(i.work for i in chunk),
                              f"{label(first.node)}..{label(last.node)}")
            for f in after:
                w = f.stage.rewire(w, f.dom)
        return w

    def emit_item(self, item: Item, w: Wire) -> Wire:
        return self.emit_stage(item.stage, item.dom, item.cod, item.work, w)

    def _cross(self, stage: Stage, w: Any, t: Any) -> tuple:
        return self._branches(stage, True, w, t)

    def _fork(self, stage: Stage, w: Any, t: Any) -> tuple:
        return self._branches(stage, False, w, t)

    def _branches(self, stage: Stage, crossed: bool, w: Any, t: Any) -> tuple:
        # the branches' own stages are made only for those split or rewired: light ones are read off
        # the type check, and a thousand of them grouped into a few steps cost no stage each
        args = stage.node.args
        outs: list[Wire | None] = [None] * len(args)
        light: list[Item] = []
        heavy: list[tuple[Stage, Wire, Type, int, float]] = []
        typing, secs, threshold_s = self.typing, self.secs, self.threshold_s
        ti = t
        for pos, node in enumerate(args):  # the planner's hot loop: once per branch of a fork of thousands
            if crossed:
                ti = t[pos]
            typed = typing[id(node)]
            first = typed.first  # what Typed.check answers first, without the call: the type it was checked at
            cod, ops = first[1] if first is not None and first[0] is ti else typed.check(ti)
            if not ops.calls:  # plumbing: it calls nothing (Typed.computes, read off the cost at hand)
                f = stage.parts[pos]
                outs[pos] = f.rewire(w[pos] if crossed else w, ti)
                continue
            work = secs(ops[0], ops[2], ops[3])
            if work >= threshold_s:
                heavy.append((stage.parts[pos], w[pos] if crossed else w, ti, pos, work))
            else:
                light.append(_item(Item, (stage, pos, ti, cod, work, False)))
        # heavy branches run side by side: they share the workers this node may use, in proportion to
        # their work (a light loss beside K members' backward passes does not take half of two workers)
        budget, total = self.budget, sum(h[4] for h in heavy)
        for f, wi, ti, pos, work in heavy:
            self.budget = budget * work / total
            outs[pos] = self.apply(f, wi, ti)
        self.budget = budget
        runs, apart = self._by_sources(light, crossed, w)
        for i in apart:  # light, but reading several steps: split where its parts read them (see _chain)
            f = i.stage
            outs[i.pos] = f.split(f, w[i.pos] if crossed else w, i.dom) if f.split else self.emit_item(
                i, w[i.pos] if crossed else w)
        for group in (g for same in runs for g in self.chunks(same, 1 if heavy else self.budget)):
            if len(group) == 1:
                item = group[0]
                outs[item.pos] = self.emit_item(item, w[item.pos] if crossed else w)
                continue
            _, poss, doms, cods, works, _ = zip(*group)  # the items' fields side by side, in one pass
            nodes = [args[p] for p in poss]
            out = cast(tuple, self.emit(
                cross(*nodes) if crossed else fork(*nodes), stage.at, f"[{','.join(map(str, poss))}]",
                tuple([w[p] for p in poss]) if crossed else w,
                tuple([self.demand(i.node, full(i.cod, True)) for i in group]) if crossed
                else self.shared_demand((i.node, full(i.cod, True)) for i in group),
                doms if crossed else t, cods, sum(works)))
            for p, o in zip(poss, out):
                outs[p] = o
        return tuple(outs)

    def _by_sources(self, items: list[Item], crossed: bool, w: Any) -> tuple[list[list[Item]], list[Item]]:
        """Light branches in runs that read the same steps — grouped across them, a task would wait for
        every step any of its branches reads — and apart, those that read several steps themselves (a sum
        over the members of a derivative term's per-member products: whole, it would pull every member's
        activations to one place). A product whose input comes from one place (the bulk of the planning
        work: a wide fork of the job's input) is one run, found without a demand per branch."""
        if not items or not _spread(w):
            return [items], []
        runs: dict[frozenset[int], list[Item]] = {}
        apart: list[Item] = []
        for i in items:
            wi = w[i.pos] if crossed else w
            reads = frozenset(read_from(wi, self.demand(i.node, full(i.cod, True))))
            if sum(j != INPUT for j in reads) > 1 and i.node.op in ("compose", "fork", "cross", "join"):
                apart.append(i)
            else:
                runs.setdefault(reads, []).append(i)
        return list(runs.values()), apart

    def _join(self, stage: Stage, w: Any, t: Any) -> Wire:
        # ▽ = jam ∘ ×: the branches as a cross, then their sum as one more (light) step
        outs = self._branches(stage, True, w, t)
        cod, _ = self.price(stage.node, t)
        n = len(stage.parts)
        return self.emit(jamn(n), stage.at, " > jam", outs, full((cod,) * n, True), (cod,) * n, cod,
                         priced(self.secs, summed(n, cod)).work)


def _spread(w: Wire) -> bool:
    """Whether ``w`` reads more than one step."""
    return sum(i != INPUT for i in origins(w)) > 1


def _mark_tail(steps: dict[int, Step], inline_s: float) -> None:
    for s in steps.values():
        # it combines what tasks computed, for the output alone: one light step on their results, not a
        # chain of them (a job's only step, or a loop's light steps, still run on the cluster)
        s.tail = (bool(s.sources) and not s.consumers and s.est_s <= inline_s
                  and trees.at_most(s.dom, INLINE_ARRAYS))  # not listing the 100,000 arrays a fork's sum reads


def _reachable(all_steps: list[Step], output: Wire) -> dict[int, Step]:
    live: set[int] = set()
    stack = [i for i in origins(output) if i != INPUT]
    while stack:
        i = stack.pop()
        if i not in live:
            live.add(i)
            stack.extend(all_steps[i].sources)
    return {s.index: s for s in all_steps if s.index in live}


def _span(steps: dict[int, Step]) -> float:
    finish: dict[int, float] = {}
    for s in steps.values():
        finish[s.index] = s.est_s + max((finish[j] for j in s.sources), default=0.0)
    return max(finish.values(), default=0.0)


@boundary
def plan(term: Term, dom: Type, mode: str = "value", threshold_s: float = THRESHOLD_S,
         rate: Rates | None = None, inline_s: float = INLINE_S, workers: float = math.inf,
         fused: bool = True) -> Plan:
    """Split the job ``term`` on input type ``dom`` in ``mode`` (value, jvp, vjp, grad or hvp) into steps:
    the steps of the value of its derivative term (:func:`~catterms.engine.job_term`).

    ``threshold_s`` is the smallest task worth sending to Dask; ``rate`` says how fast a worker computes
    (see :func:`workers.estimate.measure_rates`); steps lighter than ``inline_s`` at the output run in
    the Executor; ``workers`` is how many the cluster has: below a fork whose heavy branches already
    keep every worker busy, a branch is not split further; ``fused=False`` leaves out the fusion of
    :mod:`workers.fuse` (the split as it is, step by step, to inspect it). An ill-typed term raises
    :class:`~catterms.errors.TermTypeError` naming the node; a term a job has just type-checked (see
    :func:`catterms.api.prepare`) is not checked again: the planner reads that check.
    """
    if mode not in MODES:  # so that it is a Mode
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    t0 = time.perf_counter()
    term, dom = job_term(term, dom, cast(Mode, mode))
    t1 = time.perf_counter()
    rates = rate or Rates()
    # a hit when the job has just been checked: every node knows its types (and, an entry point itself, it
    # raises the recursion limit for the derivative term, which may be deeper than the term given to plan)
    typing = checked(term, dom)
    cod, _ = typing.morphism.check(dom)
    planner = Planner(typing, rates, threshold_s, workers)
    root = on_demand(typing.root, planner)
    output = planner.apply(root, expand(INPUT, dom), dom)
    steps = _reachable(planner.steps, output)
    # free the per-node stages while the collector is off (this is an entry point, :func:`boundary`):
    # alive at its return they would be scanned by the first collection after it, one by one
    del root, planner
    for i in origins(output):
        if i != INPUT:
            steps[i].output = True
    link(steps)
    if fused:
        steps, output = fuse(steps, output, threshold_s, workers)
        steps, output = trimmed(steps, output)  # paths change, not what reads what: consumers stay
    _mark_tail(steps, inline_s)
    return Plan(term, dom, cod, cast(Mode, mode), steps, output, threshold_s, inline_s, rates,
                sum(s.est_s for s in steps.values()), _span(steps), time.perf_counter() - t1, t1 - t0)
