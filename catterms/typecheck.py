"""Type inference: the functor from terms to functions on objects, each node priced on the way.

A term's morphism here maps a domain object to its codomain object and the node's estimated cost
(:mod:`catterms.cost`), checking every node on the way. The first node that cannot accept its input
raises :class:`~catterms.errors.TermTypeError` with the node's path in the term and both types; nothing
runs before a term has passed this check.

Each node remembers what it found for the types it was checked at (:class:`Typed`), so the check of a
DAG visits a shared node once per type, and the planner (``workers.plan``) reads any node's type and
cost from the check a job has already paid for instead of walking the term again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .boundary import boundary
from .caches import LRU, cached, constant_bytes, remember
from .category import Category, Fold, Location, located_nodes, postorder
from .cost import FREE, Cost, parallel, priced, serial, summed
from .errors import TermTypeError
from .prims import Rule, lookup
from .terms import Term, node_bodies
from .types import Array, Type, differentiable, show

Typing = tuple[Type, Cost]
NodeRule = Callable[["Typed", Type, "Memo", "Prims"], Typing]


def _tuple(what: str, t: Type, n: int) -> tuple:
    if not isinstance(t, tuple) or len(t) != n:
        raise TermTypeError(f"{what} expects a {n}-tuple, got {show(t)}")
    return t


#: A check's memo: each node's Typed by node identity (a DAG's shared node is checked once per type)
Memo = dict[int, "Typed"]
#: ... and what each primitive without parameters gave on the last type it met: equal primitives (a ``sin``
#: in each of a thousand branches) are typed and priced once
Prims = dict[str, tuple[Type, Typing]]


class Typed:
    """A node's check: ``check(t)`` is its codomain and cost on ``t``, found once per type.

    A check made by :func:`checked` or :func:`typing` makes each node's Typed when its parent first checks
    it, so a term is walked once, by its check (no fold first); a node's location, needed only to name it,
    is found when asked for (the first path to it, as :func:`~catterms.category.postorder` gives it)."""

    __slots__ = ("node", "kids", "root", "first", "more", "_where")

    def __init__(self, node: Term, kids: list[Typed] | None, root: Term | None, where: Location | None = None) -> None:
        # no reference to the memo that holds it: a cycle would leave the nodes of every check to the collector
        self.node, self.kids, self.root, self._where = node, kids, root, where
        # the first type checked and what it gave, as one pair: a node nearly always sees one type, and
        # threads checking the same node at once each see a whole pair or none
        self.first: tuple[Type, Typing] | None = None
        self.more: dict[Type, Typing] | None = None  # any others: a shared node used at several types

    def check(self, t: Type, memo: Memo | None = None, prims: Prims | None = None) -> Typing:
        """The node's codomain and cost on ``t``; within the check of a term, its ``memo`` has the Typed
        of every node it reached, and ``prims`` what each primitive gave."""
        first = self.first
        if first is not None and (first[0] is t or first[0] == t):
            return first[1]
        if self.more is not None and t in self.more:
            return self.more[t]
        rule = _RULES.get(self.node.op)
        if rule is None:
            raise ValueError(f"unknown term node {self.node.op!r}")
        if memo is None or prims is None:
            memo, prims = {}, {}
        try:
            found = rule(self, t, memo, prims)
        except TermTypeError as e:
            if getattr(e, "where", None) is None:
                located = TermTypeError(f"at {self.where}: {e}")
                located.where = str(self.where)  # type: ignore[attr-defined]
                raise located from None
            raise
        if first is None:
            self.first = (t, found)
        else:
            if self.more is None:
                self.more = {}
            self.more[t] = found
        return found

    @property
    def where(self) -> Location:
        """The node's (first) location in the term checked."""
        if self._where is None:
            assert self.root is not None, "a folded node has its location"
            nodes, where = postorder(self.root)
            # the walk cached may be of an equal term, whose nodes are others
            located = where if nodes[-1] is self.root else located_nodes(self.root)
            self._where = next(loc for loc in located if loc.node is self.node)
        return self._where

    @property
    def computes(self) -> bool:
        """Whether the node calls anything (a primitive or a sum) — the same at every type; a checked
        node's only (a node not checked yet has no answer)."""
        assert self.first is not None, "not checked yet"
        return self.first[1][1].calls > 0


def _kids(typed: Typed, memo: Memo) -> list[Typed]:
    """The children's Typed, made at their first check (a shared child has one, made by its first parent)."""
    root = typed.root
    # a Typed made for a child met before is dropped: one dict operation per child, not two
    kids = typed.kids = [memo.setdefault(id(a), Typed(a, None, root)) for a in typed.node.args]
    return kids


# --- the rules, one per generator: a node's codomain and cost on t, from its children's -----------------


def _id(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    return t, FREE


def _compose(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    kids = iter(typed.kids or _kids(typed, memo))
    t, c = next(kids).check(t, memo, prims)
    for k in kids:
        t, more = k.check(t, memo, prims)
        if more is not FREE:  # plumbing adds nothing: no new Cost for it
            c = serial(c, more)
    return t, c


def _cross(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    kids = typed.kids or _kids(typed, memo)
    outs = [k.check(c, memo, prims) for k, c in zip(kids, _tuple(f"a {len(kids)}-way cross", t, len(kids)))]
    return tuple([o for o, _ in outs]), parallel([c for _, c in outs])


def _fork(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    outs = [k.check(t, memo, prims) for k in typed.kids or _kids(typed, memo)]
    return tuple([o for o, _ in outs]), parallel([c for _, c in outs])


def _join(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    kids = typed.kids or _kids(typed, memo)
    outs = [k.check(c, memo, prims) for k, c in zip(kids, _tuple(f"a {len(kids)}-way join", t, len(kids)))]
    cod = _same(f"a {len(kids)}-way join", [o for o, _ in outs])
    return cod, parallel([c for _, c in outs], summed(len(kids), cod))


def _proj(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    i, n = typed.node.data
    return _tuple("projection", t, n)[i], FREE


def _dup(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    return (t,) * typed.node.data[0], FREE


def _jam(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    n = typed.node.data[0]
    cod = _same("jam", list(_tuple("jam", t, n)))
    return cod, summed(n, cod)


def _inj(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    i, n, like = typed.node.data
    if like is None:
        return (t,) * n, FREE
    if like[i] != t:
        raise TermTypeError(f"injection into {show(like)} expects {show(like[i])}, got {show(t)}")
    return like, FREE


def _prim(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    name, params = typed.node.data
    # one with parameters is mostly unique (a scale by its own constant): remembering each costs more than it saves
    seen = None if params else prims.get(name)
    if seen is not None and (seen[0] is t or seen[0] == t):
        return seen[1]
    rule, given = lookup(name), dict(params)
    cod = rule.type(t, **given)
    found = cod, priced(rule, t, cod, given)
    if not params:
        prims[name] = t, found
    return found


def _const(typed: Typed, t: Type, memo: Memo, prims: Prims) -> Typing:
    value = typed.node.value
    return Array(value.shape, value.dtype), FREE


_RULES: dict[str, NodeRule] = {
    "id": _id, "compose": _compose, "cross": _cross, "fork": _fork, "join": _join, "proj": _proj, "dup": _dup,
    "jam": _jam, "inj": _inj, "prim": _prim, "const": _const,
}


class Types(Category[Any]):
    """Terms as functions from domain objects to codomain objects and costs, as a fold builds them.

    A morphism is a node's :class:`Typed`, whose check applies its op's rule (``_RULES``) to its
    children's: the generators hand on the children's Typed (which ``Category``'s parameter cannot
    express), and :meth:`at` makes the node's. :func:`checked` and :func:`typing` make the same Typed on
    demand instead, as the check reaches each node."""

    def id(self) -> list:
        return []

    def compose(self, fs: Sequence[Typed]) -> list:
        return list(fs)

    def cross(self, fs: Sequence[Typed]) -> list:
        return list(fs)

    def fork(self, fs: Sequence[Typed]) -> list:
        return list(fs)

    def join(self, fs: Sequence[Typed]) -> list:
        return list(fs)

    def proj(self, i: int, n: int) -> list:
        return []

    def dup(self, n: int) -> list:
        return []

    def jam(self, n: int) -> list:
        return []

    def inj(self, i: int, n: int, like: tuple | None) -> list:
        return []

    def prim(self, rule: Rule, params: dict[str, Any]) -> list:
        return []

    def const(self, value: Any) -> list:
        return []

    def at(self, m: list, node: Term, where: Location) -> Typed:
        return Typed(node, m, None, where)


def _same(what: str, ts: list[Type]) -> Type:
    for t in ts[1:]:
        if t != ts[0]:
            raise TermTypeError(f"{what} adds components of different types: {show(ts[0])} and {show(t)}")
    return ts[0]


TYPES = Types()


def _unchecked(term: Term) -> Fold[Typed]:
    """A check of ``term`` to come: its root's Typed (the others are made as the check reaches them)."""
    return Fold(term, {id(term): Typed(term, None, term)})


def _weighed(term: Term, fold: Fold[Typed]) -> None:
    """Tell the caches what ``term``'s constants weigh, from its check, which reached every node: a walk of
    the term for that alone took a sixth of the check's time. A loop's body is a term of its own, checked
    and weighed once."""
    nodes = [t.node for t in fold.of.values()]
    remember(term, sum([n.value.nbytes for n in nodes if n.value is not None])
             + sum([constant_bytes(b) for n in nodes if n.op == "prim" for b in node_bodies(n)]))


#: The checks :func:`checked` keeps, per term (each node learns each type it meets): an LRU of its own,
#: not :func:`~catterms.caches.cached`, so that a check is kept only once it has passed, and weighed by it
_KEPT = LRU(512)


@boundary
def checked(term: Term, dom: Type) -> Fold[Typed]:
    """``term`` checked on ``dom``: every node's :class:`Typed`, each knowing the types it was checked at.
    Raises :class:`TermTypeError` if the term is ill-typed."""
    key = (term,)
    fold = _KEPT.get(key)
    if fold is not None:
        fold.morphism.check(dom, fold.of, {})
        return fold
    fold = _unchecked(term)
    fold.morphism.check(dom, fold.of, {})
    _weighed(term, fold)
    _KEPT.put(key, fold, constant_bytes(term))
    return fold


@cached(entries=1024)
@boundary
def typing(term: Term, dom: Type) -> Typing:
    """The codomain of ``term`` on ``dom`` and its estimated cost; raises :class:`TermTypeError` if it is
    ill-typed. The nodes' checks are not kept (only :func:`checked`, for a job's planner, keeps them): freed
    before the cycle collector resumes, a few objects per node are never scanned by it. A check
    :func:`checked` keeps is read instead of checking again (a job's derivative term asks for its term's
    codomain after the job's admission check)."""
    kept = _KEPT.peek((term,))
    first = None if kept is None else kept.morphism.first
    if first is not None and first[0] == dom:
        return first[1]
    fold = _unchecked(term)
    found = fold.morphism.check(dom, fold.of, {})
    _weighed(term, fold)  # for this call's cache entry
    return found


def require_scalar(cod: Type, dom: Type) -> None:
    """A gradient is of a term with a float scalar output, with respect to an input that has a float part;
    refuse any other before anything runs."""
    if not (isinstance(cod, Array) and cod.shape == () and cod.differentiable):
        raise TermTypeError(f"grad needs a float scalar output, but the term returns {show(cod)}; "
                            "use vjp (a cotangent of the output's type) or jacobian")
    if not differentiable(dom):
        raise TermTypeError(f"grad with respect to {show(dom)}, which has no float part: integer and boolean "
                            "values have no derivative (pass floats, e.g. x.astype(float), to differentiate)")


def infer(term: Term, dom: Type) -> Type:
    """The codomain of ``term`` on domain ``dom``; raises :class:`TermTypeError` if it is ill-typed."""
    return typing(term, dom)[0]


def cost(term: Term, dom: Type) -> Cost:
    """Estimated cost of evaluating ``term`` on ``dom``; raises :class:`TermTypeError` if it is ill-typed."""
    return typing(term, dom)[1]
