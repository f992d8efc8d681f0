"""The public API for running terms outside catterms: planning, compiling and shipping them (``workers`` is
built on exactly these names; ``import catterms`` has the user's API).

* Checking a job: :func:`prepare` (normalise ``x`` and type-check the term on it), :func:`require_scalar`
  (refuse a gradient of a non-scalar), :func:`checked` (every node's :class:`Typed`: its types and cost,
  found once), :func:`summed` (the cost of adding up ``n`` values).
* Interpreting a term: the :class:`Category` protocol, interpreted :func:`on_demand` (a node's children
  only when its morphism asks for them), with each node's :class:`Location` and :func:`label`, the
  primitive table's :class:`Rule`. A fold runs inside a :func:`boundary` (an entry point: the cycle
  collector paused, the recursion limit raised for its term).
* Compiling: :func:`program` (a mode's straight-line function) and :func:`split` (reverse mode in two
  halves); :func:`hvp_term`, the Hessian-vector product as a term; :func:`job_term`, the term a job in a mode
  evaluates (its derivative term); :func:`loop_steps`, what a term's loops
  run.
* Values and types: :func:`zeros`, :func:`as_tangent`, :func:`filled` and :func:`nones` (tangent parts
  without a derivative as zeros and back), :func:`leaves` and :func:`show` of a type; :mod:`trees`, the
  walks over any "leaf or nested tuple" (types, values, wires): ``leaves``, ``paths``, ``map``, ``build``,
  ``unflatten``, ``pick``.
* Caching under catterms' shared byte budget: :func:`cached`, :class:`LRU`, :func:`constant_bytes`.

What each mode takes and returns is :mod:`catterms.modes`.
"""

from . import trees
from .api import prepare, require_scalar
from .boundary import boundary
from .caches import LRU, cached, constant_bytes
from .category import Category, Fold, Location, label, on_demand
from .compiler import program, split
from .control import loop_steps
from .cost import summed
from .derivatives import filled, hvp_term, job_term, nones
from .prims import Rule
from .trees import leaves
from .typecheck import Typed, checked
from .types import as_tangent, show
from .vectors import zeros

__all__ = [
    "Category", "Fold", "LRU", "Location", "Rule", "Typed", "as_tangent", "boundary", "cached", "checked",
    "constant_bytes", "filled", "hvp_term", "job_term", "label", "leaves", "loop_steps", "nones", "on_demand",
    "prepare", "program", "require_scalar", "show", "split", "summed", "trees", "zeros",
]
