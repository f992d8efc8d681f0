"""The one exception family of catterms.

Every failure a user can cause ends in a subclass of :class:`CattermsError`, so a service can catch one
class and still tell a bad term (:class:`TermTypeError`) from a bad message (:class:`WireFormatError`)
or a function the front end cannot compile (:class:`TraceError`). Each subclass also derives from the
matching builtin, so ``except TypeError`` and ``except ValueError`` keep working for callers that never
heard of catterms.
"""

from __future__ import annotations


class CattermsError(Exception):
    """Base class of every error raised by catterms."""


class TermTypeError(CattermsError, TypeError):
    """A term is ill-typed for its input: names the node (its path in the term) and both types."""


class WireFormatError(CattermsError, ValueError):
    """A serialized term or value is malformed, hostile or over a limit; names the offending node."""


class TraceError(CattermsError, TypeError):
    """The front end met something it cannot turn into a term (e.g. data-dependent control flow)."""


class TraceAttributeError(TraceError, AttributeError):
    """A traced array lacks an attribute: a :class:`TraceError` that ``hasattr`` still reads as absent."""


class MissingRuleError(CattermsError, NotImplementedError):
    """An interpreter has no rule for a primitive; names both."""


class EvaluationError(CattermsError, ArithmeticError):
    """A primitive failed while running; names the primitive and its path in the term."""
