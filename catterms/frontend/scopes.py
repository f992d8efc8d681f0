"""Stage 2, analysis: where each shared value is bound, and which variables each scope reads.

The traced DAG becomes a term by giving every computed node a *scope*: the node's own operation, its
operands, and the values bound just there. The rules (sharing is explicit):

* A computed node with two or more uses is *shared*: it becomes a variable, computed once and copied.
  It is bound at its **immediate dominator**, the innermost node that every path from the result to it
  passes through — the innermost point covering all of its uses. A value private to one branch is
  therefore bound inside that branch, and independent branches stay independent. A value whose
  dominator is itself a shared value is bound where that one is, a level before it (``let u = (let v =
  … in …)`` becomes ``let v = … ; let u = …``): a reverse pass's cotangents, each the dominator of the
  one before, would otherwise nest scope in scope, and every scope would start again from the whole
  environment, reading its residuals deeper and deeper (a term quadratic in the number of steps).
* A tuple nested in the result is packaging, not a computation: what it would bind is bound at the
  result's scope. Bound at the tuple, it would make the tuple a scope of its own, ready only as a whole:
  in a reverse pass the gradient of a weight read at every step (one part of the tuple of the input's
  cotangents) would wait, with every step's cotangent, for the end, instead of floating into the pass's
  levels as a running total.
* Every other computed node has one use and is written inline, inside its user. The private nodes
  reached from a scope's operands through private nodes are its *region*; a private node that binds values
  of its own is the scope of its own region (and floats, below, only as a whole).
* The values bound at one node are grouped in *levels*: a level only reads earlier levels, so a level's
  values are independent and become branches of one fork.
* **Float-in.** A private node of a region whose scope has levels is *ready* at level
  ``r = 1 + (the highest level of that scope it reads, through its inline operands)``, ``0`` if it reads
  none. When ``1 ≤ r`` and its user is ready only later (``r < r(user)``, the scope's own body counting
  as ready after its last level), it is bound at level ``r`` of the scope like a shared value, instead of
  waiting inline in the body. Its operands can then die early: in an unrolled recurrence
  ``h = tanh(h·w + x[t]); tot = tot + sum(h)`` every ``hₜ`` is shared and bound at the result, and without
  float-in the final sum would keep all of them alive through every level (a term quadratic in the number
  of steps); with it, each level binds ``hₜ`` and the running total, and the term grows by a constant per
  step. A node ready at level 0 (it reads nothing bound there) stays inline, so scopes with one level —
  the paper's examples — are unchanged. Nor does a node float that lets nothing die early (every
  variable it reads is still read where its user is made, :meth:`_Analyser.idle`): it would only be one
  more variable to carry, such as a layer's transposed activation next to the activation itself.
* Chains of ``add`` whose inner links have one use, bind nothing and keep one dtype become one n-ary sum
  (the K independent losses of a sum become K siblings, not a nested spine) — except a link that floats:
  it keeps the association the program wrote (the running total above stays a running total, so at each
  level only the total so far is live). A link where a value is bound stays a node of its own, so that
  value stays inside the part of the sum that uses it.

* Accumulations of at least ``REORDER_AT`` terms written out of the order their terms can be made (a
  reverse pass sums a cotangent in forward order while it makes the terms backwards) are first put in
  that order (:func:`_reorder_accumulations`), so that float-in makes them running totals.

Variables are the function's inputs, the shared values and the floated ones; constants are free to repeat.
Everything here is a loop over the nodes in topological order, nothing recurses on the DAG, and the work
is near-linear in the program's size: dominators come from jump pointers (O(log n) per query, not a walk
up a chain of dominators), and a private node hands its set of free variables on to its only user, which
merges the smaller sets into the largest.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from .graph import Node


@dataclass
class Scope:
    """How one node becomes a term: ``body ∘ binder[m-1] ∘ … ∘ binder[0]``."""

    args: list[Node]  # the operands; for an n-ary sum, the flattened chain
    levels: list[list[Node]]  # the values bound here (shared and floated), level by level
    last: dict[Node, int]  # the last level that reads each variable (len(levels) for the body)
    reads: list[set[Node]] | None = None  # reads[j]: the variables the values of level j read

    def live(self, x: Node, j: int) -> bool:
        """Whether ``x`` is still needed once level ``j`` is bound."""
        return self.last.get(x, -1) > j


@dataclass
class Analysis:
    order: list[Node]  # the nodes that become terms of their own, operands before users
    scopes: dict[Node, Scope]
    bound: set[Node]  # the computed values that are variables: the shared ones and the floated ones
    floated: set[Node]  # private values bound at a level of their scope (float-in)


def _reachable(root: Node) -> list[Node]:
    """The nodes the result depends on, in topological order (node numbers are creation order)."""
    seen = {root.index: root}
    stack = [root]
    while stack:
        for a in stack.pop().args:
            if a.index not in seen:
                seen[a.index] = a
                stack.append(a)
    return [seen[i] for i in sorted(seen)]


def _dominators(order: list[Node], users: dict[Node, list[Node]]) -> dict[Node, Node]:
    """Immediate dominators of the computed nodes, for the DAG rooted at ``order[-1]``.

    In a DAG a node's immediate dominator is the nearest common ancestor of its users in the dominator
    tree, and users come before their operands in reverse topological order, so one pass suffices. The
    common ancestors are found with Myers' jump pointers (each node also points to an ancestor at most
    about twice as far up), O(log n) per query: walking up one dominator at a time would cost the length
    of a chain of single-use nodes, quadratic on a long running sum.
    """
    root = order[-1]
    idom: dict[Node, Node] = {root: root}
    depth: dict[Node, int] = {root: 0}
    jump: dict[Node, Node] = {root: root}

    def meet(a: Node, b: Node) -> Node:
        if depth[a] < depth[b]:
            a, b = b, a
        target = depth[b]
        while depth[a] > target:
            a = jump[a] if depth[jump[a]] >= target else idom[a]
        while a is not b:
            if jump[a] is not jump[b]:
                a, b = jump[a], jump[b]
            else:
                a, b = idom[a], idom[b]
        return a

    for v in reversed(order[:-1]):
        if not v.computed:
            continue
        first, *rest = users[v]
        d = first
        for u in rest:
            d = meet(d, u)
        idom[v] = d
        depth[v] = depth[d] + 1
        j = jump[d]
        jump[v] = jump[j] if depth[d] - depth[j] == depth[j] - depth[jump[j]] else d
    del idom[root]
    return idom


def _is_add(v: Node) -> bool:
    return v.kind == "prim" and v.name == "add"


def _uniform(v: Node) -> bool:
    """An ``add`` whose operands all have its dtype, so that ``jam`` can sum them after broadcasting."""
    return all(a.array.dtype == v.array.dtype for a in v.args)


def _flattened(v: Node, absorbed: set[Node], floated: set[Node]) -> list[Node]:
    """``v``'s operands, with absorbed ``add`` links that do not float replaced by their operands."""
    out: list[Node] = []
    stack = list(reversed(v.args))
    while stack:
        a = stack.pop()
        if a in absorbed and a not in floated:
            stack.extend(reversed(a.args))
        else:
            out.append(a)
    return out


REORDER_AT = 4  # accumulations of at least this many terms, written out of order, are put in order


def _accumulating(v: Node) -> bool:
    """An ``add``, or an ``update`` that adds into its array: links of an accumulation."""
    return v.kind == "prim" and (v.name == "add" or (v.name == "update" and dict(v.params).get("how") == "add"))


def _reorder_accumulations(nodes: list[Node], users: dict[Node, list[Node]]) -> bool:
    """Put long accumulations in the order their terms are made; whether anything changed.

    A reverse pass accumulates a cotangent in the order of the forward program (``((c₀ + c₁) + c₂)``, an
    ``update … add`` per step into the gradient of a stacked input), while it makes the terms in the
    opposite order: written as recorded, every term would wait for the last one, live to the end. A
    maximal tree of ``add`` links of one type whose inner links have one use (or a spine of ``update …
    add`` links into one array), with at least :data:`REORDER_AT` terms that its evaluation does not take
    in the order they can be made (:func:`_consumed`: ``c₀ + (c₁ + c₂)`` takes its first term last),
    becomes a left spine over its terms sorted by node number — addition commutes, up to rounding — which
    float-in then binds as a running total. The links keep their nodes (and numbers), so the order
    stays topological: the k-th link in number has at least k+1 terms below it. Programs that accumulate
    in the order they compute, such as every sum a user writes, are left alone.
    """
    changed = False
    height: dict[Node, int] = {}  # the longest path from an input: when a term can be made at the earliest
    for v in nodes:
        height[v] = 1 + max((height[a] for a in v.args), default=-1)

    def made_at(term: tuple[Any, ...]) -> int:  # a term: one node, or an update's with its params
        return max(height[a] for a in term if isinstance(a, Node))
    for root in reversed(nodes):
        if not _accumulating(root) or _inner_link(root, users):
            continue
        if root.name == "add":
            if any(a.type != root.type for a in root.args):
                continue
            links: list[Node] = []
            terms: list[tuple[Any, ...]] = []  # each link's operands: one node, or an update's with its params
            stack: list[tuple[Node, Node | None]] = [(root, None)]
            while stack:  # operands left to right: ``terms`` in the written order
                a, user = stack.pop()
                # a link whose operands have another type (an f32 sum inside an f64 one) is a term: re-linked
                # in a new order it would keep its old type over operands of the other
                if user is None or (a.type == root.type and _is_add_link(a, user, users)
                                    and all(c.type == root.type for c in a.args)):
                    links.append(a)
                    stack.extend((c, a) for c in reversed(a.args))
                else:
                    terms.append((a,))
            eaten = _consumed(root, set(links))
        else:
            links, terms, v = [], [], root
            while True:
                links.append(v)
                terms.append(v.args[1:] + (v.params,))
                inner = v.args[0]
                if not (_accumulating(inner) and inner.name == "update" and users[inner] == [v]):
                    break
                v = inner
            terms.reverse()
            eaten = terms
        if len(terms) < REORDER_AT:
            continue
        made = [made_at(t) for t in eaten]
        if all(a <= b for a, b in zip(made, made[1:])):
            continue
        key = [made_at(t) for t in terms]
        order = sorted(range(len(terms)), key=key.__getitem__)
        links.sort(key=lambda n: n.index)
        changed = True
        if root.name == "add":
            prev = terms[order[0]][0]
            for link, k in zip(links, order[1:]):
                link.args = (prev, terms[k][0])
                prev = link
        else:
            prev = _update_base(root, users)
            for link, k in zip(links, order):
                *vals, params = terms[k]
                link.args, link.params = (prev, *vals), params
                prev = link
    if changed:  # number the nodes in a topological order again, as close to the old one as can be
        waiting = {v: sum(1 for a in v.args) for v in nodes}
        users_now: dict[Node, list[Node]] = {v: [] for v in nodes}
        for v in nodes:
            for a in v.args:
                users_now[a].append(v)
        heap = [(v.index, k, v) for k, v in enumerate(nodes) if not waiting[v]]
        heapq.heapify(heap)
        renumbered: list[Node] = []
        while heap:
            _, _, v = heapq.heappop(heap)
            renumbered.append(v)
            for u in users_now[v]:
                waiting[u] -= 1
                if not waiting[u]:
                    heapq.heappush(heap, (u.index, id(u), u))
        for i, v in enumerate(renumbered):
            v.index = i
        nodes[:] = renumbered
    return changed


def _consumed(root: Node, links: set[Node]) -> list[tuple[Node]]:
    """The terms of a tree of ``add`` links in the order its evaluation takes them: a link's own terms once
    the links below it are done (``a + (b + c)`` takes ``b``, ``c``, then ``a``: the order of a sum that a
    reverse pass writes right-nested, its first term made last)."""
    out: list[tuple[Node]] = []
    stack = [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            out.extend((a,) for a in v.args if a not in links)
        else:
            stack.append((v, True))
            stack.extend((a, False) for a in reversed(v.args) if a in links)
    return out


def _is_add_link(a: Node, user: Node, users: dict[Node, list[Node]]) -> bool:
    return a.kind == "prim" and a.name == "add" and users[a] == [user]


def _inner_link(v: Node, users: dict[Node, list[Node]]) -> bool:
    """Whether ``v`` is an inner link of a longer accumulation (its root is found from above)."""
    if len(users[v]) != 1:
        return False
    u = users[v][0]
    if v.name == "add":
        return u.kind == "prim" and u.name == "add" and v.type == u.type
    return _accumulating(u) and u.name == "update" and u.args[0] is v


def _update_base(root: Node, users: dict[Node, list[Node]]) -> Node:
    v = root
    while True:
        inner = v.args[0]
        if not (_accumulating(inner) and inner.name == "update" and users[inner] == [v]):
            return inner
        v = inner


class _Analyser:
    """The state of one analysis; :meth:`run` visits the nodes once, operands before users."""

    def __init__(self, root: Node, barred: frozenset[Node] = frozenset()) -> None:
        self.barred = barred  # private nodes that do not float (see idle)
        self.nodes = nodes = _reachable(root)
        self.users: dict[Node, list[Node]] = {v: [] for v in nodes}
        users = self.users
        for v in nodes:
            for a in v.args:
                users[a].append(v)
        if _reorder_accumulations(nodes, users):
            self.users = users = {v: [] for v in nodes}
            for v in nodes:
                for a in v.args:
                    users[a].append(v)
        self.shared = {v for v in nodes if v.computed and len(users[v]) > 1}
        self.idom = idom = _dominators(nodes, users)
        for v, d in idom.items():  # a nested tuple of the result binds nothing (module docstring)
            while d.kind == "tuple" and d is not root:
                d = idom[d]
            idom[v] = d
        for v in reversed(nodes):  # users first: a value bound where a variable is made goes with it
            up = idom.get(v)
            if up in self.shared:
                idom[v] = idom[up]
        self.bound_at: dict[Node, list[Node]] = {}  # the shared values bound at each scope
        for v in nodes:
            if v in self.shared:
                self.bound_at.setdefault(self.idom[v], []).append(v)
        self.root = root
        self.heads = self.shared | self.bound_at.keys() | {root}  # the scopes of regions
        # the scope whose region each private computed node lies in
        self.owner: dict[Node, Node] = {}
        for v in reversed(nodes):
            if v.computed and v is not root and v not in self.shared:
                u = users[v][0]
                self.owner[v] = u if u in self.heads else self.owner[u]
        # the add links that join their user's n-ary sum, unless they float
        self.absorbable = {
            v for v in nodes
            if _is_add(v) and len(users[v]) == 1 and _is_add(users[v][0]) and v not in self.bound_at
            and _uniform(v) and _uniform(users[v][0])
        }
        self.variables = self.shared | {v for v in nodes if v.kind == "input"}  # floated values join them
        self.home: dict[Node, Node] = {s: self.idom[s] for s in self.shared}  # where each variable is bound
        self.level: dict[Node, int] = {}  # its level there
        self.ready: dict[Node, int] = {}  # each private node's ready level in its owner's scope
        self.floated: set[Node] = set()
        self.floated_at: dict[Node, list[Node]] = {}
        self.free: dict[Node, set[Node]] = {}  # the variables a scope reads from outside it
        self.scopes: dict[Node, Scope] = {}

    def _highest(self, variables: set[Node], where: Node) -> int:
        """The highest level of the scope ``where`` among ``variables`` (-1 for none)."""
        home, level, top = self.home, self.level, -1
        for t in variables:
            if home.get(t) is where and level[t] > top:
                top = level[t]
        return top

    def run(self) -> Analysis:
        shared, ready, level, home, heads = self.shared, self.ready, self.level, self.home, self.heads
        for v in self.nodes:
            if not v.computed:
                continue
            if v in heads:  # its own levels: the count of them
                after = 1 + max((level[s] for s in self.bound_at.get(v, ())), default=-1)
            else:  # ready when its operands are, in its owner's levels
                w, after = self.owner[v], 0
                for a in v.args:
                    r = (level[a] + 1 if home[a] is w else 0) if a in shared else ready.get(a, 0)
                    if r > after:
                        after = r
                ready[v] = after
            for c in v.args:  # a private operand ready before its user floats to its level
                if 1 <= ready.get(c, 0) < after and c not in shared and c not in self.barred:
                    self._float(c)
            if v not in self.absorbable:
                self._finish(v)
            if v in shared:
                level[v] = 1 + self._highest(self.free[v], self.idom[v])
            elif v in heads and v is not self.root:  # binds values of its own: ready as a whole
                ready[v] = 1 + self._highest(self.free[v], self.owner[v])
        order = [v for v in self.nodes if v in self.scopes]
        return Analysis(order, self.scopes, shared | self.floated, self.floated)

    def idle(self) -> frozenset[Node]:
        """The floated values that let nothing die early: every variable they read is read again where
        their user is made, or later. Bound inline instead, they cost no variable at the levels between
        (a layer's residual and its transpose would both be parked for the reverse pass)."""
        out = []
        for c in self.floated:
            w, u = self.home[c], self.users[c][0]
            scope = self.scopes[w]
            at = len(scope.levels) if u is w else self.ready[u]
            if all(scope.last.get(x, -1) >= at for x in self.free[c]):
                out.append(c)
        return frozenset(out)

    def _float(self, c: Node) -> None:
        w = self.owner[c]
        self.floated.add(c)
        self.variables.add(c)
        self.home[c], self.level[c] = w, self.ready[c]
        self.floated_at.setdefault(w, []).append(c)
        if c not in self.scopes:  # an add link, left open in case it joined its user's sum
            self._finish(c)

    def _finish(self, v: Node) -> None:
        """``v``'s scope: its operands (a sum flattened), its levels, and what it reads."""
        args = _flattened(v, self.absorbable, self.floated) if _is_add(v) else list(v.args)
        variables, free = self.variables, self.free
        need: set[Node] | None = None
        own: list[Node] = []
        for c in args:
            if c in variables:
                own.append(c)
            elif c.computed:  # a private operand's free set, used by nobody else: merged into the largest
                s = free.pop(c)
                if need is None:
                    need = s
                elif len(s) > len(need):
                    s |= need
                    need = s
                else:
                    need |= s
        if need is None:
            need = set(own)
        else:
            need.update(own)
        lets = self.bound_at.get(v, []) + self.floated_at.get(v, [])
        if not lets:
            free[v] = need
            self.scopes[v] = Scope(args, [], {})
            return
        levels: list[list[Node]] = [[] for _ in range(1 + max(self.level[s] for s in lets))]
        for w in sorted(lets, key=lambda w: w.index):
            levels[self.level[w]].append(w)
        # last uses, not live sets per level: a reverse pass keeps O(n) residuals live over O(n) levels
        last = dict.fromkeys(need, len(levels))
        reads = [set().union(*(free[s] for s in level)) for level in levels]
        for j in reversed(range(len(levels))):
            for x in reads[j]:
                last.setdefault(x, j)
            need |= reads[j]
        for level in levels:
            need.difference_update(level)
        free[v] = need
        self.scopes[v] = Scope(args, levels, last, reads)


def analyse(root: Node) -> Analysis:
    """Scopes for every node that becomes a term of its own; ``root`` is the function's result."""
    first = _Analyser(root)
    analysis = first.run()
    idle = first.idle()
    return _Analyser(root, idle).run() if idle else analysis
