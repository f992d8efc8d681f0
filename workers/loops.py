"""Loops in the plan: a ``scan`` whose body forks is unrolled in the Dask graph, one plan of its body per step.

The term keeps its loop (a ``scan`` node holds its body, :mod:`catterms.control`); only the plan unrolls it.
Where the body, priced as the planner prices any subterm, frees at least a threshold of work per step
beside its own critical path and there are workers to run it on, step ``j`` is the body planned on a wire:
the carries come from step ``j − 1``'s output, the constants from the loop's input, and the index and the
rows ``x[j]`` from one light step that cuts every input into its rows (constant inputs are cut here, and
need no step). The ``y`` s of every step, and with ``save`` the carries each step started from, are stacked
by one more light step. A loop whose body does not pay to split stays one task; so does a loop that would
unroll into more than :data:`MAX_TASKS` tasks, and a ``while`` loop, whose trip count is the data's.

A derivative term's loops are ``scan`` s too (the backward loop is a reversed scan of the body's reverse
mode): a gradient job's loop splits where its body's derivative forks.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, cast

import numpy as np

from catterms import Term, Type, compose, const, cross, fork, identity, infer, prim, proj
from catterms.control import Layout, leaves_of, packed
from catterms.engine import Location, checked, on_demand
from catterms.typecheck import cost

from .estimate import Seconds, priced
from .wires import Lit, Ref, Unused, Wire, Zero, full, needed, part

if TYPE_CHECKING:
    from .plan import Planner, Stage

#: At most this many tasks for one unrolled loop: Dask pays 1–3 ms of scheduler time per task, so a longer
#: loop stays one task.
MAX_TASKS = 2000


class Body:
    """A scan node's body on the input type ``t``, planned by a copy of ``planner`` that reads the body's
    own type check and shares its steps."""

    def __init__(self, planner: Planner, node: Term, t: Type) -> None:
        params = dict(node.data[1])
        self.length: int = params["length"]
        self.nconst, self.ncarry = params["nconst"], params["ncarry"]
        self.reverse, self.save = params["reverse"], params["save"]
        self.layout = Layout(t, self.nconst, self.ncarry, self.length)
        typing = checked(params["body"], self.layout.body_dom)
        self.planner = copy.copy(planner)  # the same steps, budget and pricing; the body's types
        self.planner.typing = typing.of
        self.term = typing.root
        self.stage = on_demand(typing.root, self.planner)
        self.cod, self.cost = self.planner.price(typing.root, self.layout.body_dom)

    def pays(self) -> bool:
        """Whether each step splits (the planner's own test, on one step) and the unrolled loop could fit
        in :data:`MAX_TASKS` (at least two tasks a step)."""
        return (2 <= self.length <= MAX_TASKS // 2 and not self.stage.plumbing and self.stage.split is not None
                and self.planner.parallel(self.cost))


def _scan(node: Term) -> bool:
    return node.op == "prim" and node.data[0] == "scan"


def loop_span(planner: Planner, node: Term, t: Type, c: Seconds) -> Seconds:
    """``node``'s cost ``c`` as the plan runs it: a scan whose body pays to split spans its steps' spans, one
    after the other (any other node, or a loop run as one task, spans what the type check says)."""
    if not _scan(node) or planner.budget <= 1 or c.work < planner.threshold_s:
        return c
    body = Body(planner, node, t)
    return Seconds(c.work, body.length * body.cost.span) if body.pays() else c


def unrolled(planner: Planner, stage: Stage, w: Wire, t: Type) -> Wire:
    """The output wire of the scan ``stage`` on ``w``: its steps planned one by one; or one task if its first
    step is one task (its light branches fused into one chunk) or shows that the whole loop would take more
    than :data:`MAX_TASKS` tasks."""
    body = Body(planner, stage.node, t)
    lay, n, nk, nc, start = body.layout, body.length, body.nconst, body.ncarry, len(planner.steps)
    parts = list(leaves_of(w))
    consts, carry = parts[1:1 + nk], parts[1 + nk:1 + nk + nc]
    # the steps' places name the loop "scan", not its label, which prints the whole body (in every task's report)
    at, suffix = (stage.at, "") if stage.at.parent is None else (stage.at.parent, f"[{stage.at.index}] > scan")
    index, rows = _rows(planner, at, suffix, body, w, t)
    outs: dict[int, list[Wire]] = {}
    started: dict[int, list[Wire]] = {}
    for j in (range(n - 1, -1, -1) if body.reverse else range(n)):
        started[j] = carry
        first = len(planner.steps)
        out = list(leaves_of(body.planner.apply(body.stage, packed((index[j], *consts, *carry, *rows[j])),
                                                lay.body_dom)))
        for s in planner.steps[first:]:
            s.at, s.suffix = at, f"{suffix} > step {j} > {s.where}"
        per_step = len(planner.steps) - first
        if not outs and (per_step < 2 or (first - start) + per_step * n + 1 > MAX_TASKS):
            del planner.steps[start:]  # one task a step runs nothing side by side; too many cost Dask more
            cod, c = planner.price(stage.node, t)
            return planner.emit_stage(stage, t, cod, c.work, w)
        carry, outs[j] = out[:nc], out[nc:]
    stacked = [[outs[j][m] for j in range(n)] for m in range(len(outs[0]))]
    if body.save:
        stacked += [[started[j][m] for j in range(n)] for m in range(nc)]
    return packed((*carry, *_stack(planner, at, suffix, stacked, leaves_of(body.cod)[nc:] + lay.carry)))


def _rows(planner: Planner, at: Location, suffix: str, body: Body, w: Wire, t: Type
          ) -> tuple[list[Wire], list[list[Wire]]]:
    """Per step, the wire of its index and those of its rows of the inputs: what the body does not read left
    out, constants cut here, and the rest cut by one light step (``add`` a constant to the start index,
    take each row of an input)."""
    lay, n = body.layout, body.length
    parts = list(leaves_of(w))
    first_x = 1 + body.nconst + body.ncarry
    reads = planner.demand(body.term, full(body.cod, True))
    reads = tuple(part(reads, i) for i in range(len(leaves_of(lay.body_dom))))
    cut: list[list[Wire] | None] = []  # per leaf, its wire at each step; None: cut by the step
    branches: list[Term] = []
    used = [False] * len(parts)

    def by_step(pos: int, term: Term) -> None:
        cut.append(None)
        branches.append(compose(term, identity if len(parts) == 1 else proj(pos, len(parts))))
        used[pos] = True

    i0 = parts[0]
    if not needed(reads[0]):
        cut.append([Unused(lay.i0)] * n)
    elif isinstance(i0, Ref):
        by_step(0, fork(*(compose(prim("add"), fork(identity, const(np.asarray(j, lay.i0.dtype))))
                          for j in range(n))))
    else:
        i = i0.value if isinstance(i0, Lit) else np.zeros((), lay.i0.dtype)
        cut.append([Lit(np.asarray(i + j, lay.i0.dtype)) for j in range(n)])
    for m, (x, row) in enumerate(zip(parts[first_x:], lay.rows, strict=True)):
        if not needed(reads[first_x + m]):
            cut.append([Unused(row)] * n)
        elif isinstance(x, Ref):
            by_step(first_x + m, fork(*(prim("index", idx=j) for j in range(n))))
        elif isinstance(x, Lit):
            cut.append([Lit(x.value[j]) for j in range(n)])
        else:
            cut.append([Zero(row)] * n)
    made: list[Wire] = []
    if branches:
        term = branches[0] if len(branches) == 1 else fork(*branches)
        cod, c = cost_of(planner, term, t)
        out = planner.emit(term, at, suffix + " > rows", w, used[0] if len(parts) == 1 else tuple(used), t, cod,
                           c.work, "scan rows")
        made = [out] if len(branches) == 1 else list(cast(tuple, out))
    pieces = iter(made)
    wires = [c if c is not None else list(cast(tuple, next(pieces))) for c in cut]
    return wires[0], [[c[j] for c in wires[1:]] for j in range(n)]


def _stack(planner: Planner, at: Location, suffix: str, stacked: list[list[Wire]], like: tuple) -> list[Wire]:
    """The wires of the stacked ``y`` s (and saved carries): one light step stacks each along a new axis."""
    if not stacked:
        return []
    dom = tuple(tuple(like[m] for _ in column) for m, column in enumerate(stacked))
    term = prim("stack", axis=0) if len(stacked) == 1 else cross(*[prim("stack", axis=0)] * len(stacked))
    t: Type = dom[0] if len(stacked) == 1 else dom
    cod, c = cost_of(planner, term, t)
    columns = tuple(tuple(column) for column in stacked)
    out = planner.emit(term, at, suffix + " > stack", columns if len(columns) > 1 else columns[0], full(t, True), t,
                       cod, c.work, "scan stack")
    return list(leaves_of(out))


def cost_of(planner: Planner, term: Term, t: Type) -> tuple[Type, Seconds]:
    """A step the planner makes itself: its codomain and cost in seconds."""
    return infer(term, t), priced(planner.secs, cost(term, t))
