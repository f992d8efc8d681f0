"""docs/numpy.md is generated from the code (``python -m catterms.surface``) and must match it."""

from __future__ import annotations

from pathlib import Path

from catterms.surface import markdown

PAGE = Path(__file__).resolve().parents[2] / "docs" / "numpy.md"


def test_the_surface_page_matches_the_code() -> None:
    assert PAGE.read_text() == markdown(), "regenerate it: python -m catterms.surface > docs/numpy.md"


def test_the_page_lists_every_public_primitive_and_function() -> None:
    text = markdown()
    assert "| `where` |" in text and "| `cnp.where` |" in text and "`cnp.linalg." in text
