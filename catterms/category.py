"""The Category protocol and the one fold that interprets a term in any instance of it.

Every meaning of a term — its type, its value, its derivative in forward or reverse mode, its cost, its
rendering, its Dask plan — is a functor from terms into some category, fixed by where it sends the
generators: ``id``, ``∘``, ``×``, the projections, ``dup``, ``jam``, the injections, primitives and
constants. :func:`fold` folds a term bottom-up through such an instance, iteratively (terms may be
deeper than Python's recursion limit) and once per distinct node (a shared subterm is interpreted once).
An instance that needs only part of a term (the planner) is interpreted :func:`on_demand` instead: a
node's children are interpreted when its morphism first asks for them. A fold runs inside an entry
point (:mod:`catterms.boundary`), which has paused the cycle collector and raised the recursion limit.

``fork`` and ``join`` are derived here, once (paper §4.4): ``f △ g = (f × g) ∘ dup`` and
``f ▽ g = jam ∘ (f × g)``. An instance overrides them only to be faster, never to mean something else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, cast

from .caches import cached
from .errors import MissingRuleError
from .labels import label
from .prims import Rule, lookup
from .terms import Term

M = TypeVar("M")


class Location:
    """Where a node sits in a term: rendered lazily as a path such as ``compose[2] > fork[0] > sin``."""

    __slots__ = ("node", "parent", "index")

    def __init__(self, node: Term, parent: Location | None, index: int) -> None:
        self.node, self.parent, self.index = node, parent, index

    def label(self) -> str:
        return label(self.node)

    def __str__(self) -> str:
        steps: list[str] = []
        loc: Location | None = self
        while loc is not None and loc.parent is not None:
            steps.append(f"{loc.parent.node.op}[{loc.index}]")
            loc = loc.parent
        steps.reverse()
        steps.append(label(self.node))
        return " > ".join(steps)


class Category(Generic[M]):
    """An interpretation of terms. Subclasses give the generators; ``fork``/``join`` are derived."""

    def id(self) -> M:
        raise self.missing("id")

    def compose(self, fs: Sequence[M]) -> M:
        """``fs`` in application order: ``compose([f, g])`` is ``g ∘ f``."""
        raise self.missing("compose")

    def cross(self, fs: Sequence[M]) -> M:
        raise self.missing("cross")

    def proj(self, i: int, n: int) -> M:
        raise self.missing("proj")

    def dup(self, n: int) -> M:
        raise self.missing("dup")

    def jam(self, n: int) -> M:
        raise self.missing("jam")

    def inj(self, i: int, n: int, like: tuple | None) -> M:
        raise self.missing("inj")

    def prim(self, rule: Rule, params: dict[str, Any]) -> M:
        raise self.missing(f"primitive {rule.name}")

    def const(self, value: Any) -> M:
        raise self.missing("const")

    def missing(self, what: str) -> MissingRuleError:
        return MissingRuleError(f"the {type(self).__name__} interpretation has no rule for {what}")

    def fork(self, fs: Sequence[M]) -> M:
        return self.compose([self.dup(len(fs)), self.cross(fs)])

    def join(self, fs: Sequence[M]) -> M:
        return self.compose([self.cross(fs), self.jam(len(fs))])

    def at(self, m: M, node: Term, where: Location) -> M:
        """Hook called on every node's morphism with its location; instances that report errors use it."""
        return m


def sequence(fs: Sequence[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """Run ``fs`` one after the other (a composition in application order)."""
    if len(fs) == 2:
        f, g = fs
        return lambda x: g(f(x))

    def run(x: Any) -> Any:
        for f in fs:
            x = f(x)
        return x

    return run


_GENERATORS: dict[str, Callable[[Category[Any], Term, Sequence[Any]], Any]] = {
    "prim": lambda cat, node, ms: cat.prim(lookup(node.data[0]), dict(node.data[1])),
    "compose": lambda cat, node, ms: cat.compose(ms),
    "fork": lambda cat, node, ms: cat.fork(ms),
    "cross": lambda cat, node, ms: cat.cross(ms),
    "join": lambda cat, node, ms: cat.join(ms),
    "proj": lambda cat, node, ms: cat.proj(*node.data),
    "dup": lambda cat, node, ms: cat.dup(*node.data),
    "jam": lambda cat, node, ms: cat.jam(*node.data),
    "inj": lambda cat, node, ms: cat.inj(*node.data),
    "const": lambda cat, node, ms: cat.const(node.value),
    "id": lambda cat, node, ms: cat.id(),
}


class Locations(Sequence[Location]):
    """The locations of :func:`postorder`'s nodes, in the same order, found when first asked for: a fold
    hands each node its location, but a check needs one only to name a node, and the recursion limit
    (:func:`~catterms.boundary.headroom`) only counts the nodes."""

    __slots__ = ("term", "found")

    def __init__(self, term: Term) -> None:
        self.term = term
        self.found: list[Location] | None = None

    def _all(self) -> list[Location]:
        if self.found is None:
            self.found = located_nodes(self.term)
        return self.found

    def __len__(self) -> int:
        return len(self._all())

    def __getitem__(self, i: int) -> Location:  # type: ignore[override]
        return self._all()[i]

    def __iter__(self) -> Iterator[Location]:
        return iter(self._all())


@cached(entries=64)
def postorder(term: Term) -> tuple[list[Term], Locations]:
    """The distinct nodes of ``term``, children before parents, each with its (first) location.

    Every interpretation of a term walks it in this order, so the walk is done once per term and shared:
    a job type-checks, plans and compiles the same term."""
    nodes: list[Term] = []
    seen: set[int] = set()
    # a node, to visit, or a 1-tuple of one whose children are done, to emit
    stack: list[Any] = [term]
    pop, push, extend, emit, add = stack.pop, stack.append, stack.extend, nodes.append, seen.add
    while stack:
        node = pop()
        if type(node) is tuple:
            emit(node[0])
        elif id(node) not in seen:  # else a shared node pushed by two parents before either reached it
            add(id(node))
            push((node,))
            if node.args:
                extend(reversed(node.args))
    return nodes, Locations(term)


def located_nodes(term: Term) -> list[Location]:
    """The first location of each node of ``term``, in :func:`postorder`'s order (the same walk)."""
    where: list[Location] = []
    seen: set[int] = set()
    # (its location, whether its node's children are done): a node is emitted when popped the second time
    stack: list[tuple[Location, bool]] = [(Location(term, None, 0), False)]
    pop, push = stack.pop, stack.append
    while stack:
        loc, expanded = pop()
        node = loc.node
        if expanded:
            where.append(loc)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        push((loc, True))
        args = node.args
        for i in range(len(args) - 1, -1, -1):
            if id(args[i]) not in seen:
                push((Location(args[i], loc, i), False))
    return where


class Fold(Generic[M]):
    """A term folded into an instance: the morphism of every node it interpreted, by node identity, and
    the root they belong to (a fold of an equal term may have been cached: its nodes are these)."""

    __slots__ = ("root", "of")

    def __init__(self, root: Term, of: dict[int, M]) -> None:
        self.root, self.of = root, of

    @property
    def morphism(self) -> M:
        return self.of[id(self.root)]


def fold(term: Term, cat: Category[M]) -> Fold[M]:
    """Fold ``term`` into ``cat``: children first, each distinct node once, without recursion."""
    nodes, where = postorder(term)
    memo: dict[int, M] = {}
    at = None if type(cat).at is Category.at else cat.at
    for node, loc in zip(nodes, where):
        generator = _GENERATORS.get(node.op)
        if generator is None:
            raise ValueError(f"unknown term node {node.op!r}")
        morphism = generator(cat, node, [memo[id(a)] for a in node.args])
        memo[id(node)] = morphism if at is None else at(morphism, node, loc)
    return Fold(nodes[-1], memo)  # the root (the cached walk may be of an equal term: same meaning)


class _OnDemand(Generic[M]):
    """:func:`on_demand`'s memo: each distinct node interpreted once, when first asked for."""

    __slots__ = ("cat", "at", "memo")

    def __init__(self, cat: Category[M]) -> None:
        self.cat = cat
        self.at = None if type(cat).at is Category.at else cat.at
        self.memo: dict[int, M] = {}

    def of(self, node: Term, where: Location | None) -> M:
        m = self.memo.get(id(node))
        if m is None:
            generator = _GENERATORS.get(node.op)
            if generator is None:
                raise ValueError(f"unknown term node {node.op!r}")
            m = generator(self.cat, node, Parts(self, node, where) if node.args else [])
            if self.at is not None:
                m = self.at(m, node, cast(Location, where))
            self.memo[id(node)] = m
        return m


class Parts(Sequence[M]):
    """A node's children as :func:`on_demand` hands them to its generator: each is interpreted when
    first asked for, so children the instance never asks for cost nothing."""

    __slots__ = ("fold", "node", "where")

    def __init__(self, fold: _OnDemand[M], node: Term, where: Location | None) -> None:
        self.fold, self.node, self.where = fold, node, where  # no location for an instance without ``at``

    def __len__(self) -> int:
        return len(self.node.args)

    def __getitem__(self, i: int) -> M:  # type: ignore[override]
        a = self.node.args[i]  # IndexError ends iteration
        fold = self.fold
        m = fold.memo.get(id(a))
        if m is not None:
            return m
        return fold.of(a, None if fold.at is None else Location(a, self.where, i))


def on_demand(term: Term, cat: Category[M]) -> M:
    """``term``'s morphism in ``cat``, interpreting a node only when its parent's morphism asks for it
    (the generators receive :class:`Parts`). For instances that need only part of a term: the planner
    does not go into a subterm too light to split. The calls nest as deep as the instance asks."""
    fold = _OnDemand(cat)
    return fold.of(term, None if fold.at is None else Location(term, None, 0))


def interpret(term: Term, cat: Category[M]) -> M:
    """The morphism of ``term`` in ``cat`` (see :func:`fold`)."""
    return fold(term, cat).morphism


@cached(entries=512)
def folded(term: Term, cat: Category[M]) -> Fold[M]:
    """:func:`fold`, cached per (term, instance): terms are immutable and hash in O(1)."""
    return fold(term, cat)
