"""Stage 2, emission: the traced DAG as a point-free term with explicit sharing.

Each scope of :mod:`.scopes` becomes ``body ∘ binderₘ₋₁ ∘ … ∘ binder₀``. A term reads its variables from
an *environment*: the function's input at first, then whatever the binders build. A :class:`Layout`
says where each variable sits in it, so a variable is a projection (``exl``, ``exr``, ``ex[i/n]`` or a
short chain of them; ``id`` for a bare environment). A binder for the values ``s₁ … sₖ`` of one level
(shared values, and the private ones that :mod:`.scopes` floats into that level; both are variables from
then on) is

* ``s₁ △ … △ sₖ`` (or just ``s₁``) when the rest only reads them — so the paper's ``cosSinProd`` comes
  out as ``(cos △ sin) ∘ mul``;
* ``id △ s₁ △ … △ sₖ`` when every variable of a flat environment is still needed;
* otherwise ``v₁ △ … △ vⱼ △ s₁ △ … △ sₖ`` over the variables still needed, which drops dead ones and
  keeps every projection chain short.

An operation is ``op ∘ (a₁ △ … △ aₙ)`` over its operands' terms, with two simplifications: a fork of the
projections of a tuple in order is that tuple (``mul ∘ (exl △ exr)`` is ``mul``), and when one
operand is a private computation and the others are constants, the computation moves out of the fork
(``add ∘ (id △ const 1.0) ∘ exp ∘ sin``), so a long run of such steps stays one flat composition and the
term's depth follows the program's data dependencies, not its length. An n-ary sum of equally typed
operands is ``jam[n] ∘ (…)``; its operands are broadcast to the sum's shape first if needed. Two-term sums
stay ``add``, so ``magSqr`` reads ``add ∘ (mul ∘ (exl △ exl) △ mul ∘ (exr △ exr))`` as in the paper.

Compositions are built as deques of stages and turned into terms once, when they become an operand of a
fork or the result: composing onto a finished ``compose`` node would copy it, and a chain of n steps
would cost O(n²). Every loop runs over the nodes in order; nothing recurses on the program. A binder
rebuilds only the variables still live, so the term's size is the program's size plus the live sets, which
float-in keeps small: an unrolled recurrence costs a constant number of nodes per step. A variable whose
next use is far (no level of the next ``PARK_AFTER`` reads it: a reverse pass's residuals) is *parked* in a
cons-list at the end of the environment, which a binder passes on whole (:func:`_park`), so derivative
terms cost a constant per step too; scopes that park nothing are laid out exactly as described above.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from typing import Any, Union

from ..category import gc_paused
from ..terms import Term, compose, fork, identity, jamn, prim, proj
from .graph import Node
from .scopes import Analysis, analyse

Tree = Union[Node, tuple]


class Layout:
    """The environment's shape: a variable, or a tuple of layouts; ``paths`` locates every variable.

    ``stack`` lists the *parked* variables, head first, when the environment ends in a cons-list
    ``(p₁, (p₂, … (pₘ₋₁, pₘ)))`` at ``spath`` (see :class:`_Parking`); it is empty otherwise.
    """

    __slots__ = ("paths", "depth", "stack", "spath")

    def __init__(self, paths: dict[Node, tuple[tuple[int, int], ...]], depth: int,
                 stack: tuple[Node, ...] = (), spath: tuple[tuple[int, int], ...] = ()) -> None:
        self.paths, self.depth, self.stack, self.spath = paths, depth, stack, spath

    @classmethod
    def of(cls, tree: Tree) -> Layout:
        """The layout of a nested tuple of variables (the function's input)."""
        paths: dict[Node, tuple[tuple[int, int], ...]] = {}
        depth = 0
        stack: list[tuple[Tree, tuple[tuple[int, int], ...]]] = [(tree, ())]
        while stack:
            t, path = stack.pop()
            if isinstance(t, tuple):
                stack.extend((c, path + ((i, len(t)),)) for i, c in reversed(list(enumerate(t))))
            else:
                paths[t] = path
                depth = max(depth, len(path))
        return cls(paths, depth)

    @classmethod
    def flat(cls, variables: list[Node]) -> Layout:
        """A bare variable, or a flat tuple of them."""
        if len(variables) == 1:
            return cls({variables[0]: ()}, 0)
        n = len(variables)
        return cls({v: ((i, n),) for i, v in enumerate(variables)}, 1)

    @classmethod
    def parked(cls, active: list[Node], stack: tuple[Node, ...]) -> Layout:
        """``(a₁, …, aₖ, (p₁, (p₂, … pₘ)))``, or the cons-list alone when nothing is active."""
        if not stack:
            return cls.flat(active)
        k = len(active)
        base = ((k, k + 1),) if k else ()
        paths = {a: ((i, k + 1),) for i, a in enumerate(active)}
        last = len(stack) - 1
        for i, p in enumerate(stack):
            paths[p] = base + ((1, 2),) * i + (((0, 2),) if i < last else ())
        return cls(paths, len(base) + len(stack), stack, base)

    def extended(self, new: list[Node]) -> Layout:
        """``(self, new₁, …, newₖ)``: the environment that ``id △ new₁ △ … △ newₖ`` builds."""
        n = 1 + len(new)
        paths = {v: ((0, n),) + p for v, p in self.paths.items()}
        paths.update({v: ((1 + i, n),) for i, v in enumerate(new)})
        return Layout(paths, self.depth + 1, self.stack, ((0, n),) + self.spath if self.stack else ())

    @property
    def variables(self) -> list[Node]:
        return list(self.paths)

    def access(self, v: Node) -> Term:
        """The projection chain that reads ``v``."""
        return compose(*(proj(i, n) for i, n in reversed(self.paths[v])))

    def tail(self, i: int) -> Term:
        """The projection chain that reads the cons-list from its ``i``-th cell on."""
        return compose(*(proj(a, n) for a, n in reversed(self.spath + ((1, 2),) * i)))


Chain = deque  # a composition under construction: its stages in application order, never ``compose``


def _stages(t: Term) -> Chain:
    return Chain(t.args if t.op == "compose" else () if t.op == "id" else (t,))


def _then(first: Chain, second: Chain) -> Chain:
    """``second ∘ first``, reusing the longer chain (each chain is used once), so building costs O(n log n)."""
    if len(first) >= len(second):
        first.extend(second)
        return first
    second.extendleft(reversed(first))
    return second


def _term(chain: Chain) -> Term:
    return compose(*reversed(chain))


def _eta(parts: list[Chain]) -> Chain | None:
    """``exl ∘ p △ exr ∘ p`` (any arity) is ``p``: a fork that rebuilds a tuple in order is the tuple."""
    n, prefix = len(parts), None
    for i, chain in enumerate(parts):
        if not chain or chain[-1].op != "proj" or chain[-1].data != (i, n):
            return None
        rest = list(chain)[:-1]
        if prefix is not None and rest != prefix:
            return None
        prefix = rest
    return Chain(prefix)


def _fork(parts: list[Chain], kinds: list[str]) -> Chain:
    """``p₁ △ … △ pₙ``, simplified as the module docstring says; ``kinds`` tells constants, variables and
    private computations apart."""
    tuple_ = _eta(parts)
    if tuple_ is not None:
        return tuple_
    varying = [i for i, k in enumerate(kinds) if k != "const"]
    if len(varying) == 1 and kinds[varying[0]] == "computed" and len(parts[varying[0]]) > 1:
        i = varying[0]
        others = (identity if j == i else _term(p) for j, p in enumerate(parts))
        return _then(parts[i], Chain((fork(*others),)))
    return Chain((fork(*map(_term, parts)),))


PARK_AFTER = 3  # a variable that no level of the next PARK_AFTER reads is parked (see _park)


def _park(scope: Any, entry: Layout) -> tuple[list[Layout], list[tuple[int, int]], Chain | None] | None:
    """The layouts of a scope that parks its long-lived variables, and per level the binder's recipe
    ``(pushes, reused)``; ``None`` when it parks nothing (and inherits no parked list): the flat plan.

    Once level ``j`` is bound, a variable still live that none of levels ``j+1 … j+PARK_AFTER`` reads is
    pushed onto the cons-list, soonest next use first, unless the body is that close; a parked variable
    comes back among the active ones when one of those levels reads it. A binder re-carries the active
    variables, pushes the new parked ones (a pair each), and passes on the part of the old list it keeps
    (``exr``s from its head); when a variable leaves the list from below its head, the cells above it are
    rebuilt, at the cost of its depth. Lifetimes nested as in a reverse pass (the residual bound last is
    needed first) always leave from the head: each level costs O(its own values + active variables).
    The body reads what stays parked where it lies, and a scope nested in it takes the list over.
    """
    m, reads = len(scope.levels), scope.reads
    if not entry.stack and m <= PARK_AFTER:
        return None
    uses: dict[Node, list[int]] = {}
    for j, r in enumerate(reads):
        for x in r:
            uses.setdefault(x, []).append(j)

    def next_use(x: Node, i: int) -> int:
        u = uses.get(x, ())
        k = bisect_left(u, i)
        return u[k] if k < len(u) else m

    stack = entry.stack
    parked = set(stack)
    active = [x for x in entry.paths if x not in parked]
    prelude = None
    if len(stack) > PARK_AFTER:  # read bottom first (a tangent pass after its primal): reversed, once
        nu = [next_use(p, 0) for p in stack]
        down = sum(a > b for a, b in zip(nu, nu[1:]))
        if down > PARK_AFTER and down > sum(a < b for a, b in zip(nu, nu[1:])):
            prelude, entry = _reversal(entry)
            stack = entry.stack
    layouts, recipes, pushed = [entry], [], False
    for j in range(m):
        i, live = j + 1, scope.live[j]
        soon = set().union(*reads[i:i + PARK_AFTER])
        far = i + PARK_AFTER <= m
        stay: list[Node] = []
        push: list[Node] = []
        for x in [x for x in active if x in live] + scope.levels[j]:
            (push if far and x not in soon else stay).append(x)
        keep = [p in live and p not in soon for p in stack]
        back = [p for p in stack if p in live and p in soon]
        reused = len(stack)
        while reused and keep[reused - 1]:
            reused -= 1
        push.sort(key=lambda x: (next_use(x, i), -x.index))
        pushed = pushed or bool(push)
        stack = tuple(push) + tuple(p for p, k in zip(stack[:reused], keep) if k) + stack[reused:]
        active = stay + back
        layouts.append(Layout.parked(active, stack))
        recipes.append((len(push), reused))
    if not pushed and not entry.stack:
        return None
    return layouts, recipes, prelude


def _reversal(entry: Layout) -> tuple[Chain, Layout]:
    """Stages that reverse the parked list, one cell each: ``(E, acc, (p, rest)) ↦ (E, (p, acc), rest)``
    with ``E`` the whole old environment (which still holds the active variables); and the layout after."""
    ex = lambda i, n=3: proj(i, n)  # noqa: E731
    old, m = entry.stack, len(entry.stack)
    P = entry.tail(0)
    stages = Chain((fork(identity, compose(proj(0, 2), P), compose(proj(1, 2), P)),))
    for _ in range(m - 2):
        stages.append(fork(ex(0), fork(compose(proj(0, 2), ex(2)), ex(1)), compose(proj(1, 2), ex(2))))
    stages.append(fork(ex(0), fork(ex(2), ex(1))))
    parked = set(old)
    active = [x for x in entry.paths if x not in parked]
    paths = {a: ((0, 2),) + entry.paths[a] for a in active}
    stack = tuple(reversed(old))
    for i, p in enumerate(stack):
        paths[p] = ((1, 2),) + ((1, 2),) * i + (((0, 2),) if i < m - 1 else ())
    return stages, Layout(paths, max((len(p) for p in paths.values()), default=0), stack, ((1, 2),))


def _parking_binder(before: Layout, after: Layout, made: dict[Node, Chain], pushes: int, reused: int) -> Chain:
    """The binder from ``before`` to ``after`` in a scope that parks (see :func:`_park`)."""

    def part(x: Node) -> Chain:
        return made[x] if x in made else _stages(before.access(x))

    k = len(after.paths) - len(after.stack)
    parts = [part(x) for x in list(after.paths)[:k]]
    if after.stack:
        old, keep = before.stack, set(after.stack)
        term: Term | None = identity if reused < len(old) else None
        drop = 0
        for i in reversed(range(reused)):
            if i == len(old) - 1:
                term = identity if old[i] in keep else None
            elif old[i] in keep:
                rest = () if term is None else (compose(term, *(proj(1, 2) for _ in range(drop + 1))),)
                term, drop = (fork(proj(0, 2), *rest) if rest else proj(0, 2)), 0
            elif term is not None:
                drop += 1
        rest_term = None if term is None else compose(term, *(proj(1, 2) for _ in range(drop)), before.tail(0))
        new = after.stack[:pushes]
        for x in reversed(new):
            rest_term = _term(part(x)) if rest_term is None else fork(_term(part(x)), rest_term)
        parts.append(Chain((rest_term,)))
    return parts[0] if len(parts) == 1 else Chain((fork(*map(_term, parts)),))


class _Emitter:
    """Layouts top-down (a node's environment is fixed by where it is used), then terms bottom-up."""

    def __init__(self, analysis: Analysis, inputs: Layout) -> None:
        self.an = analysis
        self.layouts: dict[Node, list[Layout]] = {}
        self.extends: dict[Node, list[bool]] = {}
        self.chains: dict[Node, Chain] = {}
        self.recipes: dict[Node, list[tuple[int, int]]] = {}
        self.preludes: dict[Node, Chain] = {}  # stages that reverse an inherited parked list  # per parking scope: (pushes, reused) per level
        self._plan(inputs)

    def _plan(self, inputs: Layout) -> None:
        env = {self.an.order[-1]: inputs}
        for v in reversed(self.an.order):
            scope = self.an.scopes[v]
            layout = env.pop(v)
            parked = _park(scope, layout) if scope.levels else None
            if parked is not None:
                layouts, self.recipes[v], prelude = parked
                if prelude is not None:
                    self.preludes[v] = prelude
                for level, lay in zip(scope.levels, layouts):
                    for s in level:
                        env[s] = lay
                layout, extends = layouts[-1], [False] * len(scope.levels)
            else:
                layouts, extends = [layout], []
                for level, live in zip(scope.levels, scope.live):
                    for s in level:
                        env[s] = layout
                    kept = [x for x in layout.variables if x in live]
                    extend = bool(kept) and len(kept) == len(layout.paths) and layout.depth <= 1
                    layout = layout.extended(level) if extend else Layout.flat(kept + level)
                    layouts.append(layout)
                    extends.append(extend)
            for c in scope.args:
                if c.computed and c not in self.an.bound:
                    env[c] = layout
            self.layouts[v], self.extends[v] = layouts, extends

    def _kind(self, c: Node) -> str:
        return "const" if c.kind == "const" else "var" if c.kind == "input" or c in self.an.bound else "computed"

    def _operand(self, c: Node, layout: Layout) -> Chain:
        kind = self._kind(c)
        if kind == "const":
            return Chain((c.term,))
        return _stages(layout.access(c)) if kind == "var" else self.chains.pop(c)

    def _binder(self, v: Node, j: int) -> Chain:
        level, before, after = self.an.scopes[v].levels[j], self.layouts[v][j], self.layouts[v][j + 1]
        made = {s: self.chains.pop(s) for s in level}
        if v in self.recipes:
            return _parking_binder(before, after, made, *self.recipes[v][j])
        if self.extends[v][j]:
            return Chain((fork(identity, *map(_term, made.values())),))
        parts = [made[x] if x in made else _stages(before.access(x)) for x in after.variables]
        return parts[0] if len(parts) == 1 else Chain((fork(*map(_term, parts)),))

    def _body(self, v: Node) -> Chain:
        scope, layout = self.an.scopes[v], self.layouts[v][-1]
        args = [self._operand(c, layout) for c in scope.args]
        kinds = [self._kind(c) for c in scope.args]
        if v.kind == "tuple":
            return _fork(args, kinds)
        if len(scope.args) > 2 and v.name == "add":
            widen = Chain((prim("broadcast_to", shape=v.type.shape),))
            args = [a if c.type == v.type else _then(a, widen.copy()) for c, a in zip(scope.args, args)]
            return _then(_fork(args, kinds), Chain((jamn(len(args)),)))
        op = Chain((proj(*v.params) if v.kind == "proj" else prim(v.name, **dict(v.params)),))
        return _then(args[0] if len(args) == 1 else _fork(args, kinds), op)

    def emit(self) -> Term:
        for v in self.an.order:
            chain = self.preludes.pop(v, Chain())
            for j in range(len(self.an.scopes[v].levels)):
                chain = _then(chain, self._binder(v, j))
            self.chains[v] = _then(chain, self._body(v))
        return _term(self.chains[self.an.order[-1]])


def lower(inputs: Any, root: Node) -> Term:
    """The term for the traced result ``root``; ``inputs`` is the nested tuple of input nodes."""
    layout = Layout.of(inputs)
    if root.kind == "const":
        return root.term
    if root.kind == "input":
        return layout.access(root)
    with gc_paused():  # a few objects per node, none freed: the collector's full scans would cost O(n²)
        return _Emitter(analyse(root), layout).emit()
