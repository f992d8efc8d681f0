"""Values in files for the CLI: .npy, .npz with dotted index paths, wire-format value files."""

from __future__ import annotations

import numpy as np
import pytest

from catterms import wire
from service import arrays

NESTED = (np.arange(3.0), (np.eye(2), np.float64(4.0)))


def same(a, b) -> bool:
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(same, a, b))
    return np.array_equal(a, b)


def test_flatten_and_unflatten_are_inverse():
    flat = arrays.flatten(NESTED, "value")
    assert sorted(flat) == ["value.0", "value.1.0", "value.1.1"]
    assert same(arrays.unflatten(flat, "value"), NESTED)
    assert same(arrays.unflatten(arrays.flatten(NESTED)), NESTED)


def test_load_each_kind(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(4.0))
    assert same(arrays.load(tmp_path / "a.npy"), np.arange(4.0))
    arrays.save(tmp_path / "nested.npz", x=NESTED)
    with np.load(tmp_path / "nested.npz") as z:
        paths = {k[2:]: z[k] for k in z.files}
    np.savez(tmp_path / "paths.npz", **paths)
    assert same(arrays.load(tmp_path / "paths.npz"), NESTED)
    np.savez(tmp_path / "flat.npz", np.ones(2), np.zeros(3))
    assert same(arrays.load(tmp_path / "flat.npz"), (np.ones(2), np.zeros(3)))
    np.savez(tmp_path / "one.npz", w=np.ones(2))
    assert same(arrays.load(tmp_path / "one.npz"), np.ones(2))
    (tmp_path / "v.ctv").write_bytes(wire.dumps_value(NESTED))
    assert same(arrays.load(tmp_path / "v.ctv"), NESTED)


def test_gaps_in_a_tuple_are_refused():
    with pytest.raises(ValueError, match="missing"):
        arrays.unflatten({"0": np.ones(1), "2": np.ones(1)})
