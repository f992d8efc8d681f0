"""Stage 2, analysis: where each shared value is bound, and which variables each scope reads.

The traced DAG becomes a term by giving every computed node a *scope*: the node's own operation, its
operands, and the shared values bound just there. The rules (DESIGN.md idea 5):

* A computed node with two or more uses is *shared*: it becomes a variable, computed once and copied.
  It is bound at its **immediate dominator**, the innermost node that every path from the result to it
  passes through — the innermost point covering all of its uses. A value private to one branch is
  therefore bound inside that branch, and independent branches stay independent.
* Every other computed node has one use and is written inline, inside its user.
* Chains of ``add`` whose inner links have one use, bind nothing and keep one dtype become one n-ary sum
  (the K independent losses of a sum become K siblings, not a nested spine). A link where a value is
  bound stays a node of its own, so that value stays inside the part of the sum that uses it.
* The shared values bound at one node are grouped in *levels*: a level only reads earlier levels, so a
  level's values are independent and become branches of one fork.

Variables are the function's inputs and the shared values; constants are free to repeat. Everything
here is a loop over the nodes in topological order: nothing recurses on the DAG.
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Node


@dataclass
class Scope:
    """How one node becomes a term: ``body ∘ binder[m-1] ∘ … ∘ binder[0]``."""

    args: list[Node]  # the operands; for an n-ary sum, the flattened chain
    levels: list[list[Node]]  # shared values bound here, level by level
    live: list[set[Node]]  # live[j]: the variables still needed once level j is bound


@dataclass
class Analysis:
    order: list[Node]  # the nodes that become terms of their own, operands before users
    scopes: dict[Node, Scope]
    shared: set[Node]


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

    Users come before their operands in reverse topological order, so one pass suffices (Cooper,
    Harvey and Kennedy's intersection, specialised to acyclic graphs).
    """
    rank = {v: i for i, v in enumerate(reversed(order))}
    idom: dict[Node, Node] = {}
    for v in reversed(order[:-1]):
        if not v.computed:
            continue
        first, *rest = users[v]
        d = first
        for u in rest:
            while d is not u:
                while rank[d] > rank[u]:
                    d = idom[d]
                while rank[u] > rank[d]:
                    u = idom[u]
        idom[v] = d
    return idom


def _is_add(v: Node) -> bool:
    return v.kind == "prim" and v.name == "add"


def _uniform(v: Node) -> bool:
    """An ``add`` whose operands all have its dtype, so that ``jam`` can sum them after broadcasting."""
    return all(a.type.dtype == v.type.dtype for a in v.args)


def _flattened(v: Node, absorbed: set[Node]) -> list[Node]:
    """``v``'s operands, with absorbed ``add`` links replaced by their operands, left to right."""
    out: list[Node] = []
    stack = list(reversed(v.args))
    while stack:
        a = stack.pop()
        if a in absorbed:
            stack.extend(reversed(a.args))
        else:
            out.append(a)
    return out


def _levels(lets: list[Node], free: dict[Node, set[Node]]) -> list[list[Node]]:
    """Group ``lets`` (in topological order) so that each level reads only earlier levels."""
    level: dict[Node, int] = {}
    for s in lets:
        level[s] = 1 + max((level[t] for t in free[s] if t in level), default=-1)
    groups: list[list[Node]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for s in lets:
        groups[level[s]].append(s)
    return groups


def analyse(root: Node) -> Analysis:
    """Scopes for every node that becomes a term of its own; ``root`` is the function's result."""
    nodes = _reachable(root)
    users: dict[Node, list[Node]] = {v: [] for v in nodes}
    for v in nodes:
        for a in v.args:
            users[a].append(v)
    shared = {v for v in nodes if v.computed and len(users[v]) > 1}
    idom = _dominators(nodes, users)
    bound_at: dict[Node, list[Node]] = {}
    for v in nodes:
        if v in shared:
            bound_at.setdefault(idom[v], []).append(v)
    absorbed = {
        v for v in nodes
        if _is_add(v) and len(users[v]) == 1 and _is_add(users[v][0]) and v not in bound_at
        and _uniform(v) and _uniform(users[v][0])
    }

    free: dict[Node, set[Node]] = {}  # the variables a scope reads from outside it
    scopes: dict[Node, Scope] = {}
    order = [v for v in nodes if v.computed and v not in absorbed]
    for v in order:
        args = _flattened(v, absorbed) if _is_add(v) else list(v.args)
        need: set[Node] = set()
        for c in args:
            if c.kind == "input" or c in shared:
                need.add(c)
            elif c.computed:
                need |= free[c]
        levels = _levels(bound_at.get(v, []), free)
        live: list[set[Node]] = [set()] * len(levels)
        for j in reversed(range(len(levels))):
            live[j] = need
            need = need.difference(levels[j]).union(*(free[s] for s in levels[j]))
        free[v] = need
        scopes[v] = Scope(args, levels, live)
    return Analysis(order, scopes, shared)
