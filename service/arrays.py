"""Values in files, for the command line: ``.npy``, ``.npz`` and catterms wire values.

A value is an array or a nested tuple of arrays. In an ``.npz`` a nested tuple is spelled with dotted
index paths as keys: ``x = (a, (b, c))`` is stored as ``0``, ``1.0``, ``1.1``; under a prefix, as
``value.0``, ``value.1.0``, … An ``.npz`` whose keys are not index paths (e.g. ``np.savez(f, a, b)``) is
the flat tuple of its arrays in stored order, or the array itself when it holds one. Any other file is
read as a wire-format value (``ct.wire.dumps_value``), which carries any structure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from catterms import trees, wire


def flatten(value: Any, prefix: str = "") -> dict[str, np.ndarray]:
    """``{dotted path: array}`` for a nested tuple (``{prefix: array}`` for an array)."""
    head = (prefix,) if prefix else ()
    return {".".join(head + tuple(map(str, path))): np.asarray(v) for path, v in trees.paths(value)}


def unflatten(arrays: dict[str, np.ndarray], prefix: str = "") -> Any:
    """Inverse of :func:`flatten` for the keys under ``prefix``."""
    if prefix in arrays:
        return arrays[prefix]
    head = f"{prefix}." if prefix else ""
    children = {k[len(head):].split(".", 1)[0] for k in arrays if k.startswith(head)}
    if not children or not all(c.isdigit() for c in children):
        raise ValueError(f"no value stored under {prefix or 'the top level'!r}")
    n = max(int(c) for c in children) + 1
    if len(children) != n:
        raise ValueError(f"the tuple under {prefix or 'the top level'!r} has missing components")
    return tuple(unflatten(arrays, f"{head}{i}") for i in range(n))


def _is_path(key: str) -> bool:
    return all(part.isdigit() for part in key.split("."))


def load(path: str | Path) -> Any:
    """Read a value from ``.npy``, ``.npz`` or a wire-format value file."""
    path = Path(path)
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        if arrays and all(_is_path(k) for k in arrays):
            return unflatten(arrays)
        values = tuple(arrays.values())
        return values[0] if len(values) == 1 else values
    return wire.loads_value(path.read_bytes())


def save(path: str | Path, **values: Any) -> Path:
    """Write named values (None skipped) into one ``.npz``, nested tuples under dotted paths."""
    arrays: dict[str, np.ndarray] = {}
    for name, value in values.items():
        if value is not None:
            arrays.update(flatten(value, name))
    path = Path(path)
    np.savez(path, **arrays)
    return path
