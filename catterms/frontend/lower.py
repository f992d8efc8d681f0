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
terms cost a constant per step too. What only the body reads (the parts of a gradient, made one per
level) and the function's input (a layer's weights, read by the forward and the reverse pass) are held in
a *bag* before that list instead, read where they lie at a logarithmic depth (:class:`Layout`), so they
do not lie between the list's head and the residuals below it. Scopes that park nothing are laid out
exactly as described above.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from typing import Any

from ..terms import Term, compose, fork, identity, jamn, prim, proj
from .graph import Node
from .scopes import Analysis, analyse

Tree = Node | tuple


Cells = tuple | None  # a parked list, head first, as linked cells ``(variable, rest)``
Path = tuple[tuple[int, int], ...]
# held variables: trees ``(size, tree, where each variable lies in it)``, smallest first (see Layout)
Bag = tuple[tuple[int, Tree, dict[Node, Path]], ...]


class Layout:
    """The environment's shape: a variable, or a tuple of layouts; ``paths`` locates its variables.

    An environment may end in a cons-list of *parked* variables ``(p₁, (p₂, … (pₘ₋₁, pₘ)))`` at
    ``spath`` (see :func:`_park`). ``cells`` is that list, head first, as linked cells ``(p, rest)``
    that the layouts of consecutive levels share, ``size`` its length, and ``paths`` then covers only the
    other, *active* variables: a level that pushes or pops k variables costs O(k), not O(m).

    Before the list, at ``bpath``, it may hold a ``bag`` of variables that only the body reads (a
    gradient's parts, made one per level of a reverse pass): perfect binary trees of pairs, smallest
    first, in a cons-list ``(t₁, (t₂, … tᵣ))``, grown as a binary counter grows. A level that adds one
    rebuilds O(1) trees on average, and the body reads each at depth O(log n), where the parked list's
    head would cost its depth at every level and the body O(n) each.
    """

    __slots__ = ("paths", "depth", "cells", "size", "spath", "bag", "bpath", "_depths")

    def __init__(self, paths: dict[Node, tuple[tuple[int, int], ...]], depth: int, cells: Cells = None,
                 size: int = 0, spath: tuple[tuple[int, int], ...] = (), bag: Bag = (),
                 bpath: tuple[tuple[int, int], ...] = ()) -> None:
        self.paths, self.depth, self.cells, self.size, self.spath = paths, depth, cells, size, spath
        self.bag, self.bpath = bag, bpath
        self._depths: dict[Node, int] | None = None

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
    def parked(cls, active: list[Node], cells: Cells, size: int, bag: Bag = ()) -> Layout:
        """``(a₁, …, aₖ, bag, (p₁, (p₂, … pₘ)))`` without the parts that are empty, a lone part bare."""
        if not size and not bag:
            return cls.flat(active)
        n = len(active) + bool(bag) + bool(size)

        def at(i: int) -> tuple[tuple[int, int], ...]:
            return ((i, n),) if n > 1 else ()

        paths = {a: at(i) for i, a in enumerate(active)}
        return cls(paths, 1 + size + len(bag), cells, size, at(n - 1) if size else (), bag,
                   at(len(active)) if bag else ())

    def active(self) -> Layout:
        """The same environment, its parked list left unread (for a scope that reads nothing parked)."""
        return Layout(self.paths, max(map(len, self.paths.values()), default=0))

    def extended(self, new: list[Node]) -> Layout:
        """``(self, new₁, …, newₖ)``: the environment that ``id △ new₁ △ … △ newₖ`` builds."""
        n = 1 + len(new)
        paths = {v: ((0, n),) + p for v, p in self.paths.items()}
        paths.update({v: ((1 + i, n),) for i, v in enumerate(new)})
        return Layout(paths, self.depth + 1)

    @property
    def variables(self) -> list[Node]:
        return list(self.paths)

    def parked_list(self) -> list[Node]:
        """The parked variables, head first."""
        out, cell = [], self.cells
        while cell is not None:
            out.append(cell[0])
            cell = cell[1]
        return out

    def held(self, v: Node) -> Path | None:
        """Where the bag holds ``v``, if it does: O(log n) trees to look in."""
        r = len(self.bag)
        for c, (_, _, where) in enumerate(self.bag):
            if v in where:
                return self.bpath + ((1, 2),) * c + (((0, 2),) if c < r - 1 else ()) + where[v]
        return None

    def access(self, v: Node) -> Term:
        """The projection chain that reads ``v``."""
        path = self.paths.get(v)
        if path is None and self.bag:
            path = self.held(v)
        if path is None:  # parked: found by a walk of the list, once per layout that reads one in place
            if self._depths is None:
                self._depths = {p: i for i, p in enumerate(self.parked_list())}
            return self.at(self._depths[v])
        return compose(*(proj(i, n) for i, n in reversed(path)))

    def at(self, i: int) -> Term:
        """The projection chain that reads the ``i``-th parked variable."""
        return _cell(self.spath, i, self.size)

    def tail(self, i: int) -> Term:
        """The projection chain that reads the cons-list from its ``i``-th cell on."""
        return _cells(self.spath, i)

    def trees(self, c: int) -> Term:
        """The projection chain that reads the bag from its ``c``-th tree on."""
        return _cells(self.bpath, c)

    def tree(self, c: int) -> Term:
        """The projection chain that reads the bag's ``c``-th tree."""
        return _cell(self.bpath, c, len(self.bag))


def _cells(base: Path, i: int) -> Term:
    """The projection chain that reads a cons-list at ``base`` from its ``i``-th cell on."""
    return compose(*(proj(a, n) for a, n in reversed(base + ((1, 2),) * i)))


def _cell(base: Path, i: int, n: int) -> Term:
    """The projection chain that reads the ``i``-th of the ``n`` items of a cons-list at ``base`` (the last
    cell is bare)."""
    return compose(proj(0, 2), _cells(base, i)) if i < n - 1 else _cells(base, i)


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
    n = len(parts)
    prefix: list[Term] | None = None
    for i, chain in enumerate(parts):
        if not chain or chain[-1].op != "proj" or chain[-1].data != (i, n):
            return None
        rest = list(chain)[:-1]
        if prefix is not None and rest != prefix:
            return None
        prefix = rest
    return None if prefix is None else Chain(prefix)


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


Recipe = tuple[list[Node], list[bool], dict[Node, int], list[Node], int]  # a parking binder's: see _park


def _bagged(bag: Bag, new: list[Node]) -> tuple[Bag, int]:
    """``bag`` with ``new`` added, as a binary counter adds ones (two trees of one size become a pair), and
    how many of its old trees the new ones took in."""
    if not new:
        return bag, 0
    trees, old = list(bag), len(bag)
    for x in new:
        size, tree, where = 1, x, {x: ()}  # type: tuple[int, Tree, dict[Node, Path]]
        while trees and trees[0][0] == size:
            if len(trees) == old:  # the old trees are the last ones: new ones go in front
                old -= 1
            _, first, at = trees.pop(0)
            tree, size = (first, tree), 2 * size
            where = {v: ((0, 2),) + p for v, p in at.items()} | {v: ((1, 2),) + p for v, p in where.items()}
        trees.insert(0, (size, tree, where))
    return tuple(trees), len(bag) - old


def _park(scope: Any, entry: Layout, direct: set[Node],
          whole: Tree | None = None) -> tuple[list[Layout], list[Recipe], Chain | None] | None:
    """The layouts of a scope that parks its long-lived variables, and per level the binder's recipe
    ``(pushed, kept, back, bagged, taken)``; ``None`` when it parks nothing (and inherits no parked list
    or bag): the flat plan.

    Once level ``j`` is bound, a variable still live that none of levels ``j+1 … j+PARK_AFTER`` reads is
    pushed onto the cons-list, soonest next use first, unless the body is that close; a parked variable
    comes back among the active ones when one of those levels reads it. A binder re-carries the active
    variables, pushes the new parked ones (a pair each), and passes on the list below the cells it walks:
    from the head down to the deepest variable coming back, and on through dead variables (``kept`` says
    which of the walked cells stay; ``back`` the depth each returning variable had). A variable leaving
    from below the head costs its depth; lifetimes nested as in a reverse pass (the residual bound last
    is needed first) always leave from the head: each level costs O(its own values + active variables),
    in the term and in the work here. The body reads what stays parked where it lies, and a scope nested
    in it takes the list over.

    A variable that only the body reads, itself (in ``direct``: not a scope nested in it, which would
    take the list over and pop it from the head), goes into the bag instead (``bagged``; its trees took in
    ``taken`` old ones), where it does not lie between the list's head and the residuals below it. The
    bag is passed on whole while the scope reads any of it. With ``whole``, the tree of the function's
    input that ``entry`` lays out, the input itself is the bag's one tree: an input read late (a layer's
    weights, by the reverse pass) is read where it lies, not parked under every residual.
    """
    m, reads = len(scope.levels), scope.reads
    if whole is not None:
        entry = Layout({}, entry.depth, bag=((0, whole, Layout.of(whole).paths),))
    # the last level that reads the bag
    until = max((j for x, j in scope.last.items() if entry.bag and entry.held(x) is not None), default=-1)
    bag = entry.bag if until >= 0 else ()
    inherits = whole is None and bool(entry.size or entry.bag)  # a list or bag to pass on from outside
    if not (inherits and (entry.size or bag)) and m <= PARK_AFTER:
        return None
    uses: dict[Node, list[int]] = {}
    for j, r in enumerate(reads):
        for x in r:
            uses.setdefault(x, []).append(j)

    def next_use(x: Node, i: int) -> int:
        u = uses.get(x, ())
        k = bisect_left(u, i)
        return u[k] if k < len(u) else m

    prelude = None
    if entry.size > PARK_AFTER:  # read bottom first (a tangent pass after its primal): reversed, once
        nu = [next_use(p, 0) for p in entry.parked_list()]
        down = sum(a > b for a, b in zip(nu, nu[1:]))
        if down > PARK_AFTER and down > sum(a < b for a, b in zip(nu, nu[1:])):
            prelude, entry = _reversal(entry)
    active, cells, size = list(entry.paths), entry.cells, entry.size
    parked = set(entry.parked_list())
    layouts, recipes, pushed = [entry], [], False
    for j in range(m):
        i = j + 1
        soon = set().union(*reads[i:i + PARK_AFTER])
        far = i + PARK_AFTER <= m
        stay: list[Node] = []
        push: list[Node] = []
        held: list[Node] = []
        for x in [x for x in active if scope.live(x, j)] + scope.levels[j]:
            (stay if not far or x in soon else held if x in direct and next_use(x, i) == m else push).append(x)
        near = reads[i] if i < m else set()  # a parked variable comes back for the level that reads it
        wanted = sum(1 for x in near if x in parked)
        kept: list[bool] = []
        back: dict[Node, int] = {}
        top: list[Node] = []
        while cells is not None and (len(back) < wanted or not scope.live(cells[0], j)):
            x, cells = cells
            keep = scope.live(x, j) and x not in near
            if x in near:
                back[x] = len(kept)
            kept.append(keep)
            if keep:
                top.append(x)
            else:
                parked.discard(x)
        size -= len(kept) - len(top)
        for x in reversed(top):
            cells = (x, cells)
        push.sort(key=lambda x: (next_use(x, i), -x.index))
        for x in reversed(push):
            cells = (x, cells)
        parked.update(push)
        size += len(push)
        if until <= j:
            bag = ()
        bag, taken = _bagged(bag, held)
        if held:
            until = m
        pushed = pushed or bool(push) or bool(held)
        active = stay + list(back)
        layouts.append(Layout.parked(active, cells, size, bag))
        recipes.append((push, kept, back, held, taken))
    if not pushed and not inherits:
        return None
    return layouts, recipes, prelude


def _reversal(entry: Layout) -> tuple[Chain, Layout]:
    """Stages that reverse the parked list, one cell each: ``(E, acc, (p, rest)) ↦ (E, (p, acc), rest)``
    with ``E`` the whole old environment (which still holds the active variables); and the layout after."""
    ex = lambda i, n=3: proj(i, n)  # noqa: E731
    old = entry.parked_list()
    P = entry.tail(0)
    stages = Chain((fork(identity, compose(proj(0, 2), P), compose(proj(1, 2), P)),))
    for _ in range(len(old) - 2):
        stages.append(fork(ex(0), fork(compose(proj(0, 2), ex(2)), ex(1)), compose(proj(1, 2), ex(2))))
    stages.append(fork(ex(0), fork(ex(2), ex(1))))
    paths = {a: ((0, 2),) + p for a, p in entry.paths.items()}
    cells: Cells = None
    for p in old:
        cells = (p, cells)
    return stages, Layout(paths, max(entry.depth + 1, 1 + len(old)), cells, len(old), ((1, 2),), entry.bag,
                          ((0, 2),) + entry.bpath)


def _parking_binder(before: Layout, after: Layout, made: dict[Node, Chain], pushed: list[Node],
                    kept: list[bool], back: dict[Node, int], bagged: list[Node], taken: int) -> Chain:
    """The binder from ``before`` to ``after`` in a scope that parks (see :func:`_park`)."""

    def part(x: Node) -> Chain:
        if x in made:
            return made[x]
        return _stages(before.at(back[x]) if x in back else before.access(x))

    parts = [part(x) for x in after.paths]
    if after.bag:
        parts.append(Chain((_bag_term(before, after.bag, taken, part) if bagged else before.trees(0),)))
    if after.size:
        walked = len(kept)
        term: Term | None = identity if walked < before.size else None  # the list below the walked cells
        drop = 0
        for i in reversed(range(walked)):
            if i == before.size - 1:
                term = identity if kept[i] else None
            elif kept[i]:
                rest = () if term is None else (compose(term, *(proj(1, 2) for _ in range(drop + 1))),)
                term, drop = (fork(proj(0, 2), *rest) if rest else proj(0, 2)), 0
            elif term is not None:
                drop += 1
        rest_term = None if term is None else compose(term, *(proj(1, 2) for _ in range(drop)), before.tail(0))
        for x in reversed(pushed):
            rest_term = _term(part(x)) if rest_term is None else fork(_term(part(x)), rest_term)
        parts.append(Chain((rest_term,)))
    return parts[0] if len(parts) == 1 else Chain((fork(*map(_term, parts)),))


def _bag_term(before: Layout, bag: Bag, taken: int, part: Any) -> Term:
    """The bag ``bag``, built from ``before``'s: its new trees from the new variables (``part``) and the
    ``taken`` old trees they took in, then the old trees after those, passed on whole (none where the old
    bag was let go: nothing reads it any more)."""
    old = {id(t): c for c, (_, t, _) in enumerate(before.bag[:taken])}
    kept = len(before.bag) - taken if before.bag and bag[-1][1] is before.bag[-1][1] else 0

    def tree(t: Tree) -> Term:  # a pair nests as deep as the bag is wide: O(log n)
        if id(t) in old:
            return before.tree(old[id(t)])
        if isinstance(t, tuple):
            return fork(tree(t[0]), tree(t[1]))
        return _term(part(t))

    fresh = [tree(t) for _, t, _ in bag[:len(bag) - kept]]
    term = before.trees(taken) if kept else fresh.pop()
    for t in reversed(fresh):
        term = fork(t, term)
    return term


def _direct(an: Analysis, v: Node) -> set[Node]:
    """The variables that ``v``'s body reads itself or through inline operands, not in a nested scope's levels."""
    out: set[Node] = set()
    stack = list(an.scopes[v].args)
    while stack:
        c = stack.pop()
        if c.kind == "input" or c in an.bound:
            out.add(c)
        elif c.computed and not an.scopes[c].levels:
            stack.extend(an.scopes[c].args)
    return out


def _reads_parked(scope: Any, layout: Layout) -> bool:
    """Whether ``scope`` reads a variable that ``layout`` holds parked."""
    bound = {s for level in scope.levels for s in level}
    return any(x not in layout.paths and x not in bound for x in scope.last)


class _Emitter:
    """Layouts top-down (a node's environment is fixed by where it is used), then terms bottom-up."""

    def __init__(self, analysis: Analysis, inputs: Layout, tree: Tree) -> None:
        self.an = analysis
        self.tree = tree  # the function's input, which the result's scope may hold whole (see _park)
        self.layouts: dict[Node, list[Layout]] = {}
        self.extends: dict[Node, list[bool]] = {}
        self.chains: dict[Node, Chain] = {}
        self.recipes: dict[Node, list[Recipe]] = {}  # per parking scope, its binders' (see _park)
        self.preludes: dict[Node, Chain] = {}  # stages that reverse an inherited parked list
        self._plan(inputs)

    def _plan(self, inputs: Layout) -> None:
        env = {self.an.order[-1]: inputs}
        for v in reversed(self.an.order):
            scope = self.an.scopes[v]
            layout = env.pop(v)
            if (layout.size or layout.bag) and scope.levels and not _reads_parked(scope, layout):
                layout = layout.active()  # its first binder drops the list, unread
            whole = self.tree if v is self.an.order[-1] else None
            parked = _park(scope, layout, _direct(self.an, v), whole) if scope.levels else None
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
                for j, level in enumerate(scope.levels):
                    for s in level:
                        env[s] = layout
                    kept = [x for x in layout.variables if scope.live(x, j)]
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
            widen = Chain((prim("broadcast_to", shape=v.array.shape),))
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
        assert root.term is not None  # a const node always has its term
        return root.term
    if root.kind == "input":
        return layout.access(root)
    return _Emitter(analyse(root), layout, inputs).emit()
