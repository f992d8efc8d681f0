"""The primitive table's test cases, one module per family (each owns its rows).

``CASES``: primitive name -> list of ``(params, input maker, independent numpy reference)``. Inputs may
mix float arrays with integer and boolean ones (traced indices, masks); derivatives are checked on the
float parts.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable

Case = tuple[dict, Callable, Callable]
CASES: dict[str, list[Case]] = {}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name == "gen":
        continue
    _module: Any = importlib.import_module(f"{__name__}.{_info.name}")
    for _name, _cases in _module.CASES.items():
        if _name in CASES:
            raise ValueError(f"primitive {_name!r} has cases in two modules")
        CASES[_name] = _cases
