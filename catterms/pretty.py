"""Pretty-printing: the functor from terms to strings in the paper's point-free notation.

``∘`` binds tighter than ``△``, ``×`` and ``▽`` (Haskell's ``.`` is infixr 9, ``&&&``/``***`` infixr 3),
so the paper's ``cosSinProd`` renders as ``(cos △ sin) ∘ mul`` and ``magSqr`` as
``add ∘ (mul ∘ (exl △ exl) △ mul ∘ (exr △ exr))``.

Each node's text is a rope (a string, or a tuple of ropes) joined once at the end, without recursion:
joining strings at every level would copy the text once per level of nesting, quadratic in depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .boundary import boundary
from .category import Category, interpret
from .labels import const_text, dup_text, inj_text, jam_text, prim_text, proj_text
from .prims import Rule
from .terms import Term, set_repr

Rope = str | tuple
Doc = tuple[Rope, int]  # (text, precedence)

ATOM, COMPOSE, PRODUCT = 10, 9, 3


def _wrap(doc: Doc, above: int) -> Rope:
    text, prec = doc
    return ("(", text, ")") if prec <= above else text


def _joined(sep: str, ropes: Sequence[Rope]) -> Rope:
    parts: list[Rope] = []
    for r in ropes:
        parts += [sep, r] if parts else [r]
    return tuple(parts)


def _text(rope: Rope) -> str:
    out: list[str] = []
    stack = [rope]
    while stack:
        r = stack.pop()
        if isinstance(r, str):
            out.append(r)
        else:
            stack.extend(reversed(r))
    return "".join(out)


class Pretty(Category[Doc]):
    """Terms as point-free text."""

    def id(self) -> Doc:
        return "id", ATOM

    def compose(self, fs: Sequence[Doc]) -> Doc:
        return _joined(" ∘ ", [_wrap(f, COMPOSE - 1) for f in reversed(fs)]), COMPOSE

    def _product(self, op: str, fs: Sequence[Doc]) -> Doc:
        return _joined(f" {op} ", [_wrap(f, PRODUCT) for f in fs]), PRODUCT

    def cross(self, fs: Sequence[Doc]) -> Doc:
        return self._product("×", fs)

    def fork(self, fs: Sequence[Doc]) -> Doc:
        return self._product("△", fs)

    def join(self, fs: Sequence[Doc]) -> Doc:
        return self._product("▽", fs)

    def proj(self, i: int, n: int) -> Doc:
        return proj_text(i, n), ATOM

    def dup(self, n: int) -> Doc:
        return dup_text(n), ATOM

    def jam(self, n: int) -> Doc:
        return jam_text(n), ATOM

    def inj(self, i: int, n: int, like: tuple | None) -> Doc:
        return inj_text(i, n), ATOM

    def prim(self, rule: Rule, params: dict[str, Any]) -> Doc:
        return prim_text(rule.name, params), ATOM

    def const(self, value: Any) -> Doc:
        return const_text(value), ATOM


PRETTY = Pretty()


@boundary
def pretty(term: Term) -> str:
    """The term in point-free notation, e.g. ``(cos △ sin) ∘ mul``."""
    return _text(interpret(term, PRETTY)[0])


set_repr(pretty)
