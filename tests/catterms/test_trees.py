"""``catterms.trees``, the one walker over "a leaf or a nested tuple": flattening and rebuilding round trip,
paths agree with ``pick``, ``map`` zips several trees, on hypothesis-drawn nests, empty tuples and deep ones;
and the walkers built on it (types, tangents, the wire, the service's ``.npz`` keys) keep their answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import types
from test_house import import_graph

from catterms import trees, wire
from catterms.derivatives import filled, nones
from catterms.errors import WireFormatError
from catterms.types import Array, is_type, leaves

#: Nested tuples of integers (the leaves numbered by position, so order mistakes show), empty tuples among them.
NESTS = st.recursive(st.integers(), lambda inner: st.lists(inner, max_size=4).map(tuple), max_leaves=12)
SOME = settings(max_examples=50, deadline=None)


def deep(n: int, leaf: Any = 0) -> Any:
    """``leaf`` inside ``n`` nested 1-tuples."""
    t = leaf
    for _ in range(n):
        t = (t,)
    return t


@SOME
@given(NESTS)
def test_unflatten_inverts_leaves(tree: Any) -> None:
    assert trees.unflatten(tree, trees.leaves(tree)) == tree
    renumbered = trees.unflatten(tree, range(len(trees.leaves(tree))))
    assert trees.leaves(renumbered) == list(range(len(trees.leaves(tree))))


@SOME
@given(NESTS)
def test_paths_are_the_leaves_in_order_and_agree_with_pick(tree: Any) -> None:
    found = trees.paths(tree)
    assert [leaf for _, leaf in found] == trees.leaves(tree)
    assert all(trees.pick(tree, path) is leaf for path, leaf in found)
    assert trees.build(tree, lambda path, _: path) == trees.unflatten(tree, [p for p, _ in found])


@SOME
@given(NESTS)
def test_map_keeps_the_structure_and_zips_trees(tree: Any) -> None:
    doubled = trees.map(lambda a: 2 * a, tree)
    assert trees.leaves(doubled) == [2 * a for a in trees.leaves(tree)]
    assert trees.map(lambda a, b: a + b, tree, tree) == doubled
    assert trees.map(lambda a, b, c: a + b - c, tree, doubled, tree) == doubled


@SOME
@given(types())
def test_types_flatten_to_their_arrays(t: Any) -> None:
    assert is_type(t) and all(isinstance(a, Array) for a in leaves(t))
    assert trees.unflatten(t, leaves(t)) == t


def test_is_type_wants_arrays_at_every_leaf() -> None:
    assert is_type(()) and is_type((Array(()), ((), Array((2,)))))
    assert not is_type([Array(()), Array(())]) and not is_type((Array(()), (1.0,)))


def test_map_gives_a_whole_subtree_where_the_first_tree_has_a_leaf() -> None:
    assert trees.map(lambda a, b: (a, b), (1, 2), (3, (4, 5))) == ((1, 3), (2, (4, 5)))


def test_empty_tuples_have_no_leaves_and_keep_their_place() -> None:
    tree = ((), (1, ()), ())
    assert trees.leaves(()) == [] and trees.paths(()) == []
    assert trees.leaves(tree) == [1] and trees.paths(tree) == [((1, 0), 1)]
    assert trees.map(str, tree) == ((), ("1", ()), ())
    assert trees.unflatten(tree, ["x"]) == ((), ("x", ()), ())


def test_a_leaf_is_a_tree_of_one_at_the_empty_path() -> None:
    arr = np.arange(3)
    assert trees.leaves(arr) == [arr] and trees.paths(arr) == [((), arr)] and trees.pick(arr, ()) is arr
    assert trees.map(len, [1, 2]) == 2  # a list is a leaf
    assert trees.build(5, lambda path, leaf: (path, leaf), at=(2, 1)) == ((2, 1), 5)


def test_deep_nesting() -> None:
    very = deep(50_000, "x")  # flattening loops, it does not recurse
    assert trees.leaves(very) == ["x"]
    assert trees.paths(deep(3_000, "x")) == [((0,) * 3_000, "x")]
    nested = deep(300, 1)  # rebuilding recurses once per level, as the walkers it replaces did
    assert trees.map(lambda a: a + 1, nested) == deep(300, 2)
    assert trees.map(lambda a, b: a + b, nested, nested) == deep(300, 2)
    assert trees.unflatten(nested, [7]) == deep(300, 7)
    assert trees.pick(trees.build(nested, lambda path, _: len(path)), (0,) * 300) == 300


def test_filled_and_nones_are_inverse_on_a_mixed_type() -> None:
    t = (Array((2,)), (Array((), "int64"), Array((3,), "float32")))
    value = (np.ones(2), (None, np.ones(3, "float32")))
    full = filled(value, t)
    assert isinstance(full[1][0], np.ndarray) and full[1][0].dtype == np.int64 and full[1][0].shape == ()
    assert nones(full, t)[1][0] is None and nones(full, t)[0] is value[0]


def test_check_finite_names_the_leaf_by_its_path() -> None:
    value = (np.zeros(2), (np.zeros(1), np.array([0.0, np.inf])))
    with pytest.raises(WireFormatError, match=r"^dx\[1\]\[1\]: 1 non-finite entries"):
        wire.check_finite(value, "dx")
    wire.check_finite((None, np.zeros(3)), "dx")


def test_trees_imports_nothing_from_catterms() -> None:
    assert import_graph()["catterms.trees"] == {}
