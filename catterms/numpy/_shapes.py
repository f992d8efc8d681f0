"""Shapes, joining and construction with numpy's names: reshape, transpose, broadcast_to, concatenate,
stack."""

from __future__ import annotations

from typing import Any, Sequence

from ..prims import TABLE
from ._wrap import Tracer, apply, constant, operand_type

__all__ = ["broadcast_to", "concatenate", "reshape", "stack", "transpose"]


def transpose(x: Any, axes: Sequence[int] | None = None) -> Any:
    """Permute axes (reverse them when ``axes`` is None)."""
    return apply("transpose", (x,), axes=axes)


def reshape(x: Any, shape: Any) -> Any:
    """Reshape; one size may be -1."""
    return apply("reshape", (x,), shape=shape)


def broadcast_to(x: Any, shape: Any) -> Any:
    """Broadcast to a larger shape with numpy's rules."""
    return apply("broadcast_to", (x,), shape=shape)


def _join(name: str, arrays: Any, axis: int) -> Any:
    parts = tuple(arrays)
    if len(parts) != 1:
        return apply(name, parts, axis=axis)
    # A term has no 1-tuples, so one part is handled here, after the same shape check.
    rule = TABLE[name]
    cod = rule.type((operand_type(parts[0]),), **dict(rule.canonical({"axis": axis})))
    x = parts[0] if isinstance(parts[0], Tracer) else constant(parts[0])
    return x if name == "concatenate" else reshape(x, cod.shape)


def concatenate(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join arrays along an existing axis."""
    return _join("concatenate", arrays, axis)


def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join same-shaped arrays along a new axis."""
    return _join("stack", arrays, axis)
