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
float-in keeps small: an unrolled recurrence costs a constant number of nodes per step.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Union

from ..category import gc_paused
from ..terms import Term, compose, fork, identity, jamn, prim, proj
from .graph import Node
from .scopes import Analysis, analyse

Tree = Union[Node, tuple]


class Layout:
    """The environment's shape: a variable, or a tuple of layouts; ``paths`` locates every variable."""

    __slots__ = ("paths", "depth")

    def __init__(self, paths: dict[Node, tuple[tuple[int, int], ...]], depth: int) -> None:
        self.paths, self.depth = paths, depth

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

    def extended(self, new: list[Node]) -> Layout:
        """``(self, new₁, …, newₖ)``: the environment that ``id △ new₁ △ … △ newₖ`` builds."""
        n = 1 + len(new)
        paths = {v: ((0, n),) + p for v, p in self.paths.items()}
        paths.update({v: ((1 + i, n),) for i, v in enumerate(new)})
        return Layout(paths, self.depth + 1)

    @property
    def variables(self) -> list[Node]:
        return list(self.paths)

    def access(self, v: Node) -> Term:
        """The projection chain that reads ``v``."""
        return compose(*(proj(i, n) for i, n in reversed(self.paths[v])))


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


class _Emitter:
    """Layouts top-down (a node's environment is fixed by where it is used), then terms bottom-up."""

    def __init__(self, analysis: Analysis, inputs: Layout) -> None:
        self.an = analysis
        self.layouts: dict[Node, list[Layout]] = {}
        self.extends: dict[Node, list[bool]] = {}
        self.chains: dict[Node, Chain] = {}
        self._plan(inputs)

    def _plan(self, inputs: Layout) -> None:
        env = {self.an.order[-1]: inputs}
        for v in reversed(self.an.order):
            scope = self.an.scopes[v]
            layout = env.pop(v)
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
            chain = Chain()
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
