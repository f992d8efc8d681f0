"""The one table of primitives.

Each primitive is one :class:`Rule`, defined once, next to its kin:

* ``impl(x, **params)`` — the numpy implementation, on an array (``arity`` 1), two arrays
  ``impl(a, b)`` (``arity`` 2, so numpy's ufuncs serve directly) or a tuple of arrays (``arity`` 0: any
  length ≥ 1). Lazy rules run ``impl`` even while generating code, on placeholders (see
  :mod:`catterms.codegen`): ``scatter`` and ``unsum`` build a lazy vector instead of computing, ``pow``
  emits the ufunc it picks (``np.square`` for squares, which the buffer pass can write in place);
  ``elementwise`` linear rules commute with broadcasting.
* ``type(dom, **params)`` — the shape rule: the codomain object for the domain object ``dom``, or a
  :class:`~catterms.errors.TermTypeError` naming both.
* ``deriv(lin, x, y, **params)`` — for non-linear primitives: the derivative at ``x`` (``y`` is the
  primal result, for reuse) as a linear map built in the linear category ``lin`` from *linear*
  primitives and ``lin``'s combinators. This single rule serves forward and reverse mode.
* ``transpose(lin, dom, **params)`` — for linear primitives only: the transposed map in ``lin``;
  ``dom`` is the domain's shape (or tuple of shapes). A linear primitive is its own derivative (Thm 3).
  A primitive whose result has no tangent (comparisons, ``argmax``) or is locally constant (``floor``,
  ``sign``) has :func:`no_derivative`.
* ``cost(dom, cod, **params)`` — estimated element operations, for the planner and cost reports
  (``blas`` rules count flops that numpy hands to BLAS).

Rules with ``public=False`` are the linear maps that derivatives are made of (``scale`` by an array,
``matmul_left``, ``scatter``, …); they never appear in a term and the wire format refuses them. A
derivative *term* records them by running their ``impl`` on the front end's tracers, so an ``impl`` (and a
helper a ``deriv`` computes coefficients with) must be numpy code that tracers accept: no in-place writes,
no ``np.asarray`` of an operand, no private numpy or scipy functions. Where the fast code for arrays needs
any of these, it calls another primitive of the table through :func:`applied`, which records that
primitive itself on staged values (``update`` for ``np.add.at``, ``solve_sylvester``, ``convolve``).
"""

# The package is the table (:mod:`.table`) with every rule module loaded into it.
from . import decomp, elementwise, indexing, linalg, logic, reductions, scans, signal, special, structure
from .table import *
