"""``catterms.scipy.linalg``: scipy.linalg's names on traced arrays."""

from __future__ import annotations

__all__: list[str] = []
