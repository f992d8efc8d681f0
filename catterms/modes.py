"""The modes of computation, once: what each takes and returns, for catterms, workers and the service.

A mode is named by a string, the same everywhere: in :func:`catterms.compiler.program`, in
``workers.Executor.submit`` and on the service's wire (``"value"``, ``"grad"``, ``"jvp"``, ``"vjp"``,
``"hvp"``). :data:`SPECS` says what each one needs besides the point ``x`` and what it returns:

=============  ===========  ==========================  =========================================
mode           needs        returns                     computed by
=============  ===========  ==========================  =========================================
``value``      —            ``y``                       the term
``grad``       —            ``(y, ∇f x)``, like ``x``   reverse mode, cotangent 1 (scalar ``y``)
``jvp``        tangent      ``(y, dy)``, like ``y``     forward mode
``vjp``        cotangent    ``(y, dx)``, like ``x``     reverse mode
``hvp``        tangent      ``(∇f x, ∇²f x · v)``       forward mode over the gradient (a job only)
``jvp_batch``  tangents     ``(y, dys)``                ``jvp`` on a stack of tangents (a program only)
``vjp_batch``  cotangents   ``(y, dxs)``                ``vjp`` on a stack of cotangents (a program only)
=============  ===========  ==========================  =========================================

A tangent is like the input ``x``, a cotangent like the value ``y``. Code branches on these properties
(:attr:`ModeSpec.reverse`, :attr:`ModeSpec.needs`, …), not on the names.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, cast

Mode = Literal["value", "grad", "jvp", "vjp", "hvp", "jvp_batch", "vjp_batch"]


class ModeSpec(NamedTuple):
    """What one mode takes and returns."""

    #: The direction it takes besides ``x``: a ``tangent`` (like ``x``), a ``cotangent`` (like ``y``), or none.
    needs: Literal["tangent", "cotangent"] | None
    #: Its result's derivative part: like the ``input`` (``x``), like the ``output`` (``y``), or none.
    derivative: Literal["input", "output"] | None
    #: Pushes tangents forward (forward mode).
    forward: bool
    #: Pulls cotangents back (reverse mode).
    reverse: bool
    #: Only for a term with a float scalar output (a gradient).
    scalar: bool
    #: A job runs it (``workers.Executor``, the service; as the value of its derivative term,
    #: :func:`catterms.derivatives.job_term`); the others are compiled programs only.
    job: bool
    #: The mode it runs on a stack of directions, for a batched mode.
    batches: Mode | None = None
    #: Its result's value part: the term's ``output``, or (hvp) the ``gradient``, like the input.
    value: Literal["output", "gradient"] = "output"


#: Every mode, in the order the service lists them.
SPECS: dict[str, ModeSpec] = {
    "value": ModeSpec(None, None, forward=False, reverse=False, scalar=False, job=True),
    "grad": ModeSpec(None, "input", forward=False, reverse=True, scalar=True, job=True),
    "jvp": ModeSpec("tangent", "output", forward=True, reverse=False, scalar=False, job=True),
    "vjp": ModeSpec("cotangent", "input", forward=False, reverse=True, scalar=False, job=True),
    "hvp": ModeSpec("tangent", "input", forward=True, reverse=True, scalar=True, job=True, value="gradient"),
    "jvp_batch": ModeSpec("tangent", "output", forward=True, reverse=False, scalar=False, job=False,
                          batches="jvp"),
    "vjp_batch": ModeSpec("cotangent", "input", forward=False, reverse=True, scalar=False, job=False,
                          batches="vjp"),
}


def modes(**where: object) -> tuple[Mode, ...]:
    """The modes whose :class:`ModeSpec` has these field values, in :data:`SPECS` order:
    ``modes(job=True)`` is what a job may ask for."""
    return tuple(cast(Mode, m) for m, spec in SPECS.items() if all(getattr(spec, k) == v for k, v in where.items()))
