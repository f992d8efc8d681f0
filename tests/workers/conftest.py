"""Fixtures of the workers suite; the catterms suite's term strategies are importable as ``strategies``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "catterms"))
