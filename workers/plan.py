"""The planner: a term split into tasks big enough for Dask, as one more interpretation of the term.

A morphism of the :class:`Planner` category maps an input *wire* (:mod:`workers.wires`) to an output
wire, emitting :class:`Step` s — a subterm and the wire it reads — on the way. Plumbing (``id``,
projections, ``dup``, injections, constants) only rearranges wires and emits nothing. Branches of
``△``, ``×`` and ``▽`` are planned independently, so a step depends exactly on the steps its wire
names. Fusion follows the cost functor (:mod:`workers.estimate`): a subterm is split only where that
frees at least ``threshold_s`` of work to run beside its critical path (``work − span``) and there are
workers to run it on (the heavy branches of a fork share the workers of the node above them); otherwise
it becomes one step. Inside a split chain, consecutive stages are cut into chunks of at least the
threshold; light branches are grouped the same way. A term with less work than the threshold is one
step.

Each node's cost is memoized per input type, so planning is linear in the term.

After the fold, roles are assigned per mode. Light affine steps feeding only the output (e.g. the final
sum of an ensemble) form the *tail*: the Executor runs them itself, when it assembles the result, and in
reverse mode transposes them before submitting — their derivative does not depend on the point. In
reverse mode a step whose cotangent is therefore known before anything runs is a ``vjp`` step (forward
and backward in one task); every other step is ``split`` into a forward task, a value extractor and a
backward task (the Dual of the plan: its dependencies are the forward ones reversed).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable, NamedTuple, Sequence

from catterms.category import Category, Location, gc_paused, headroom, interpret, label
from catterms.cost import Cost, CostFn
from catterms.prims import Rule
from catterms.terms import Term, compose, cross, fork, jamn
from catterms.types import Array, Type

from .estimate import Estimate, Rates
from .wires import INPUT, Lit, Mask, Ref, Wire, Zero, expand, filled, full, leaves, narrow, needed, union

MODES = ("value", "jvp", "vjp", "grad")

#: Default fusion threshold: tasks of at least this long pay for Dask's per-task and per-hop costs
#: (1–3 ms and 6–7 ms measured on small machines; see ref/dask.md).
THRESHOLD_S = 0.05

#: Steps this light (and affine, at the output) run in the Executor instead of on the cluster.
INLINE_S = 0.002


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
    affine: bool
    consumers: list[int] = field(default_factory=list)
    output: bool = False
    role: str = "task"
    to_input: bool = False  # reads the job's input, directly or through other steps

    @property
    def where(self) -> str:
        """The step's path in the whole term, e.g. ``compose[1] > fork[0] > compose``."""
        return str(self.at) + self.suffix

    @cached_property
    def sources(self) -> list[int]:
        """The steps this one reads, without repeats (``INPUT`` excluded)."""
        seen: dict[int, None] = {}
        for _, leaf in leaves(self.wire):
            if isinstance(leaf, Ref) and leaf.source != INPUT:
                seen[leaf.source] = None
        return list(seen)


@dataclass
class Plan:
    """A term's steps in dependency order, with the wire of its output and the planner's estimates."""

    term: Term
    dom: Type
    cod: Type
    mode: str
    steps: dict[int, Step]
    output: Wire
    threshold_s: float
    inline_s: float
    rates: Rates
    est_work_s: float
    est_span_s: float
    plan_s: float

    @property
    def tasks(self) -> int:
        """How many Dask tasks the plan becomes in its mode."""
        per_role = {"task": 1, "tail": 0, "vjp": 1, "split": 2}
        return sum(per_role[s.role] + (s.role == "split" and s.to_input) for s in self.steps.values())

    def role(self, role: str) -> list[Step]:
        return [s for s in self.steps.values() if s.role == role]


class Item(NamedTuple):
    """A stage of a chain or a branch of a product, with its input and output types and its cost."""

    stage: Stage
    dom: Type
    cod: Type
    cost: Cost
    pos: int


Split = Callable[["Stage", Wire, Type], Wire]
Demand = Callable[["Stage", Type, Mask], Mask]


class Stage:
    """A node of the term as the planner sees it: how it costs, decomposes and reads, and its place.

    One small object per node and no per-node containers beyond the closures each generator needs: the
    fold creates one for every node of a term, so its size is the planner's speed. The planner's
    recursions (``split``, ``demand``, ``cost``) are plain Python calls — no ``functools.partial``, no
    ``__call__`` — which Python 3.11 runs without growing the C stack, so a term as deep as catterms
    accepts plans without crashing.
    """

    __slots__ = ("price", "split", "reads", "plumbing", "affine", "parts", "node", "at", "seen", "known", "more")

    def __init__(self, price: CostFn, split: Split | None, reads: Demand, plumbing: bool, affine: bool,
                 parts: Sequence[Stage] = ()) -> None:
        self.price = price  # input type → (output type, cost)
        self.split = split  # how the node decomposes into wires and steps; None: it cannot
        self.reads = reads  # which input arrays the node reads, given which output arrays are needed
        self.plumbing = plumbing  # computes nothing: only rearranges wires
        self.affine = affine  # built from plumbing, constants and linear primitives: a constant derivative
        self.parts = parts  # the children of compose, cross, fork and join
        self.seen: Type | None = None  # the first input type costed (a node nearly always sees one)
        self.more: dict[Type, tuple[Type, Cost]] | None = None  # any others

    def cost(self, t: Type) -> tuple[Type, Cost]:
        if self.seen is t or (self.seen is not None and self.seen == t):
            return self.known
        if self.seen is None:
            self.seen, self.known = t, self.price(t)
            return self.known
        # a shared node used at another type too: memoized all the same, or a DAG that alternates types
        # at every level would be priced exponentially often
        if self.more is None:
            self.more = {}
        known = self.more.get(t)
        if known is None:
            known = self.more[t] = self.price(t)
        return known

    def demand(self, t: Type, m: Mask) -> Mask:
        return self.reads(self, t, m)


def _chain_types(fs: Sequence[Stage], t: Type) -> list[Type]:
    ts = [t]
    for f in fs[:-1]:
        ts.append(f.cost(ts[-1])[0])
    return ts


def _constants(node: Term) -> bool:
    return any(n.op == "const" for n in node.nodes())


def _fork_demand(t: Type, branches: Iterable[tuple[Stage, Mask]]) -> Mask:
    """What branches that share an input of type ``t`` read of it, each ``(stage, what of its output is
    needed)``. A single array is read as soon as one branch reads it: the rest need not be asked."""
    if isinstance(t, Array):
        for f, m in branches:
            if f.demand(t, m):
                return True
        return False
    return union(t, [f.demand(t, m) for f, m in branches])


def _all(flags: list[bool]) -> bool:
    return False not in flags


class Planner(Category[Stage]):
    """Terms as planners: a morphism maps an input wire to an output wire, emitting steps."""

    def __init__(self, rates: Rates, threshold_s: float, factor: float, workers: float) -> None:
        self.costs = Estimate(rates)
        self.threshold_s = threshold_s
        self.budget = workers  # how many workers the subterm being planned may keep busy at once
        self.scale = factor / rates.elementwise  # element-op equivalents → seconds in this mode
        self.steps: list[Step] = []

    # --- the generators: cost, decomposition and demand of each --------------------------------------

    def id(self) -> Stage:
        return Stage(self.costs.id(), lambda s, w, t: w, lambda s, t, m: m, True, True)

    def compose(self, fs: Sequence[Stage]) -> Stage:
        def demand(s: Stage, t: Type, m: Mask) -> Mask:
            for f, ti in reversed(list(zip(fs, _chain_types(fs, t)))):
                m = f.demand(ti, m)
            return m

        return Stage(self.costs.compose([f.cost for f in fs]), self._chain, demand,
                     _all([f.plumbing for f in fs]), _all([f.affine for f in fs]), fs)

    def cross(self, fs: Sequence[Stage]) -> Stage:
        return Stage(self.costs.cross([f.cost for f in fs]), self._cross,
                     lambda s, t, m: tuple([f.demand(ti, mi) for f, ti, mi in zip(fs, t, m)]),
                     _all([f.plumbing for f in fs]), _all([f.affine for f in fs]), fs)

    def fork(self, fs: Sequence[Stage]) -> Stage:
        return Stage(self.costs.fork([f.cost for f in fs]), self._fork,
                     lambda s, t, m: _fork_demand(t, zip(fs, m)),
                     _all([f.plumbing for f in fs]), _all([f.affine for f in fs]), fs)

    def join(self, fs: Sequence[Stage]) -> Stage:
        return Stage(self.costs.join([f.cost for f in fs]), self._join,
                     lambda s, t, m: tuple([f.demand(ti, m) for f, ti in zip(fs, t)]),
                     False, _all([f.affine for f in fs]), fs)

    def proj(self, i: int, n: int) -> Stage:
        return Stage(self.costs.proj(i, n), lambda s, w, t: w[i],
                     lambda s, t, m: tuple(m if j == i else full(c, False) for j, c in enumerate(t)), True, True)

    def dup(self, n: int) -> Stage:
        return Stage(self.costs.dup(n), lambda s, w, t: (w,) * n, lambda s, t, m: union(t, list(m)), True, True)

    def jam(self, n: int) -> Stage:
        return Stage(self.costs.jam(n), None, lambda s, t, m: (m,) * n, False, True)

    def inj(self, i: int, n: int, like: tuple | None) -> Stage:
        def split(s: Stage, w: Wire, t: Type) -> Wire:
            return tuple(w if j == i else filled(t if like is None else like[j], Zero) for j in range(n))

        return Stage(self.costs.inj(i, n, like), split, lambda s, t, m: m[i], True, True)

    def prim(self, rule: Rule, params: dict[str, Any]) -> Stage:
        return Stage(self.costs.prim(rule, params), None, lambda s, t, m: full(t, needed(m)), False, rule.linear)

    def const(self, value: Any) -> Stage:
        return Stage(self.costs.const(value), lambda s, w, t: Lit(value), lambda s, t, m: full(t, False), True, True)

    def at(self, m: Stage, node: Term, where: Location) -> Stage:
        m.node, m.at = node, where
        return m

    # --- planning ------------------------------------------------------------------------------------

    def seconds(self, ops: float) -> float:
        return ops * self.scale

    def parallel(self, c: Cost) -> bool:
        """Whether splitting pays: it frees at least a threshold of work to run beside the critical path,
        and there are workers to run it on that the branches around this subterm do not already keep busy
        (splitting further only adds hops and moves data between workers)."""
        return self.budget > 1 and self.seconds(c.work - c.span) >= self.threshold_s

    def apply(self, stage: Stage, w: Wire, t: Type) -> Wire:
        if stage.plumbing:
            return stage.split(stage, w, t)
        cod, c = stage.cost(t)
        if stage.split is not None and self.parallel(c):
            return stage.split(stage, w, t)
        return self.emit_item(Item(stage, t, cod, c, 0), w)

    def emit(self, term: Term, at: Location, suffix: str, w: Wire, reads: Mask, t: Type, cod: Type, ops: float,
             affine: bool, name: str | None = None) -> Wire:
        """A step running ``term`` on ``w``; the arrays it does not ``read`` are not sent to it."""
        i = len(self.steps)
        self.steps.append(Step(i, term, narrow(w, reads, t), t, cod, name or label(term), at, suffix,
                               self.seconds(ops), affine))
        return expand(i, cod)

    def emit_item(self, item: Item, w: Wire) -> Wire:
        s = item.stage
        return self.emit(s.node, s.at, "", w, s.demand(item.dom, full(item.cod, True)), item.dom, item.cod,
                         item.cost.work, s.affine)

    def chunks(self, items: list[Item], side_by_side: float = 1) -> list[list[Item]]:
        """Cut a run of stages (or light branches) into about ``total / threshold`` groups of balanced
        cost, each therefore about the threshold or more; with a zero threshold, one per computing item
        (plumbing joins the next one). Groups that run ``side_by_side`` on that many workers come in
        whole rounds of them when there are more groups than workers (3 groups on 2 workers would leave
        one worker idle while the other runs the third)."""
        costs = [self.seconds(i.cost.work) for i in items]
        computing = sum(not i.stage.plumbing for i in items)
        total = sum(costs)
        if self.threshold_s > 0:
            n = max(1, min(computing, int(total // self.threshold_s)))
            if math.isfinite(side_by_side) and n > side_by_side > 1:
                n -= n % int(side_by_side)
        else:
            n = max(1, computing)
        out: list[list[Item]] = [[]]
        acc, seen = 0.0, 0
        for item, c in zip(items, costs):
            out[-1].append(item)
            acc += c
            seen += not item.stage.plumbing
            cut = seen >= len(out) if self.threshold_s <= 0 else acc >= len(out) * total / n * (1 - 1e-9)
            if cut and len(out) < n and not item.stage.plumbing:
                out.append([])
        if not out[-1]:
            out.pop()
        return out

    def _chain(self, stage: Stage, w: Wire, t: Type) -> Wire:
        run: list[Item] = []
        for pos, f in enumerate(stage.parts):
            cod, c = f.cost(t)
            if not f.plumbing and f.split is not None and self.parallel(c):
                w = f.split(f, self._run(run, w), t)
                run = []
            else:
                run.append(Item(f, t, cod, c, pos))
            t = cod
        return self._run(run, w)

    def _run(self, run: list[Item], w: Wire) -> Wire:
        for chunk in self.chunks(run):
            # plumbing at either end of a chunk rearranges wires outside the task; but constants that
            # feed the chunk stay in its subterm, which is shipped to the workers once, where on a wire
            # they would travel inside every job's graph
            computes = not all(i.stage.plumbing for i in chunk)
            while chunk and chunk[0].stage.plumbing and not (computes and _constants(chunk[0].stage.node)):
                f = chunk.pop(0)
                w = f.stage.split(f.stage, w, f.dom)
            after: list[Item] = []
            while chunk and chunk[-1].stage.plumbing:
                after.insert(0, chunk.pop())
            if len(chunk) == 1:
                w = self.emit_item(chunk[0], w)
            elif chunk:
                first, last = chunk[0], chunk[-1]
                reads = full(last.cod, True)
                for i in reversed(chunk):
                    reads = i.stage.demand(i.dom, reads)
                w = self.emit(compose(*reversed([i.stage.node for i in chunk])), first.stage.at,
                              f" … {label(last.stage.node)}", w, reads, first.dom, last.cod,
                              sum(i.cost.work for i in chunk), all(i.stage.affine for i in chunk),
                              f"{label(first.stage.node)}..{label(last.stage.node)}")
            for f in after:
                w = f.stage.split(f.stage, w, f.dom)
        return w

    def _cross(self, stage: Stage, w: Wire, t: Type) -> tuple:
        return self._branches(stage, True, w, t)

    def _fork(self, stage: Stage, w: Wire, t: Type) -> tuple:
        return self._branches(stage, False, w, t)

    def _branches(self, stage: Stage, crossed: bool, w: Wire, t: Type) -> tuple:
        fs = stage.parts
        outs: list[Wire] = [None] * len(fs)
        light: list[Item] = []
        heavy: list[tuple[Stage, Wire, Type, int]] = []
        for pos, f in enumerate(fs):
            wi, ti = (w[pos], t[pos]) if crossed else (w, t)
            if f.plumbing:
                outs[pos] = f.split(f, wi, ti)
                continue
            cod, c = f.cost(ti)
            if self.seconds(c.work) >= self.threshold_s:
                heavy.append((f, wi, ti, pos))
            else:
                light.append(Item(f, ti, cod, c, pos))
        # heavy branches run side by side: they share the workers this node may use
        budget = self.budget
        self.budget = budget / max(1, len(heavy))
        for f, wi, ti, pos in heavy:
            outs[pos] = self.apply(f, wi, ti)
        self.budget = budget
        for group in self.chunks(light, 1 if heavy else self.budget):
            if len(group) == 1:
                item = group[0]
                outs[item.pos] = self.emit_item(item, w[item.pos] if crossed else w)
                continue
            nodes = [i.stage.node for i in group]
            wanted = [(i.stage, full(i.cod, True)) for i in group]
            out = self.emit(
                cross(*nodes) if crossed else fork(*nodes), stage.at, f"[{','.join(str(i.pos) for i in group)}]",
                tuple(w[i.pos] for i in group) if crossed else w,
                tuple([f.demand(i.dom, m) for (f, m), i in zip(wanted, group)]) if crossed else _fork_demand(t, wanted),
                tuple(i.dom for i in group) if crossed else t, tuple(i.cod for i in group),
                sum(i.cost.work for i in group), all(i.stage.affine for i in group))
            for j, i in enumerate(group):
                outs[i.pos] = out[j]
        return tuple(outs)

    def _join(self, stage: Stage, w: Wire, t: Type) -> Wire:
        # ▽ = jam ∘ ×: the branches as a cross, then their sum as one more (light, affine) step
        outs = self._branches(stage, True, w, t)
        cod, _ = stage.cost(t)
        n = len(stage.parts)
        _, sums = self.costs.jam(n)((cod,) * n)
        return self.emit(jamn(n), stage.at, " > jam", outs, full((cod,) * n, True), (cod,) * n, cod, sums.work, True)


def _assign_roles(steps: dict[int, Step], output: Wire, mode: str, inline_s: float) -> None:
    for _, leaf in leaves(output):
        if isinstance(leaf, Ref) and leaf.source != INPUT:
            steps[leaf.source].output = True
    for s in steps.values():
        for src in s.sources:
            steps[src].consumers.append(s.index)
        s.to_input = any(isinstance(w, Ref) and (w.source == INPUT or steps[w.source].to_input)
                         for _, w in leaves(s.wire))
    reverse = mode in ("vjp", "grad")
    for s in reversed(list(steps.values())):
        at_output = all(steps[c].role == "tail" for c in s.consumers)
        if at_output and s.affine and s.est_s <= inline_s:
            s.role = "tail"
        elif reverse:
            s.role = "vjp" if at_output else "split"


def _reachable(all_steps: list[Step], output: Wire) -> dict[int, Step]:
    live: set[int] = set()
    stack = [leaf.source for _, leaf in leaves(output) if isinstance(leaf, Ref) and leaf.source != INPUT]
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


def plan(term: Term, dom: Type, mode: str = "value", threshold_s: float = THRESHOLD_S,
         rate: Rates | None = None, inline_s: float = INLINE_S, workers: float = math.inf) -> Plan:
    """Split ``term`` on input type ``dom`` into steps for ``mode`` (value, jvp, vjp or grad).

    ``threshold_s`` is the smallest task worth sending to Dask; ``rate`` says how fast a worker computes
    (see :func:`workers.estimate.measure_rates`); steps lighter than ``inline_s`` at the output run in
    the Executor; ``workers`` is how many the cluster has: below a fork whose heavy branches already
    keep every worker busy, a branch is not split further. The term must be well typed on ``dom`` (see
    :func:`catterms.api.prepare`).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    t0 = time.perf_counter()
    rates = rate or Rates()
    headroom(term)
    planner = Planner(rates, threshold_s, rates.factor(mode), workers)
    with gc_paused():
        root = interpret(term, planner)
        cod, _ = root.cost(dom)
        output = planner.apply(root, expand(INPUT, dom), dom)
        steps = _reachable(planner.steps, output)
        # free the per-node stages while the collector is off: alive at its return they would be
        # scanned by the first collection after it, one by one (as long as the fold itself took)
        del root, planner
        _assign_roles(steps, output, mode, inline_s)
    return Plan(term, dom, cod, mode, steps, output, threshold_s, inline_s, rates,
                sum(s.est_s for s in steps.values()), _span(steps), time.perf_counter() - t0)

