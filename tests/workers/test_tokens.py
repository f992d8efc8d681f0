"""Dask's token for a term (``workers.tokens``): structural, the same in every process, cheap the second time."""

from __future__ import annotations

import os
import subprocess
import sys

from dask.base import tokenize

import catterms as ct
import workers.graph  # noqa: F401  (the module that puts terms into graphs registers the token)
from workers.tokens import token

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = "ct.compose(ct.prim('sum'), ct.fork(ct.prim('sin'), ct.compose(ct.scale(2.0), ct.const([1.0, 2.0]))))"


def _built() -> ct.Term:
    return eval(BUILD, {"ct": ct})


def test_equal_terms_get_equal_tokens_and_different_terms_different_ones() -> None:
    a, b = _built(), _built()
    assert a is not b and tokenize(a) == tokenize(b)
    assert tokenize(ct.compose(ct.prim("cos"), a)) != tokenize(a)
    assert token(ct.const([1.0, 2.0])) != token(ct.const([1.0, 3.0]))  # constants by content
    assert token(ct.scale(2.0)) != token(ct.scale(3.0))


def test_the_token_is_the_same_in_another_process() -> None:
    code = f"import catterms as ct, workers.graph; from dask.base import tokenize; print(tokenize({BUILD}))"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": ROOT}  # another string-hash salt
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == tokenize(_built())


def test_a_term_deeper_than_the_recursion_limit_tokenizes() -> None:
    # a fixed depth: other tests raise the process's recursion limit (catterms.category.headroom), so a
    # depth read off it could be hundreds of thousands
    deep = ct.identity
    for i in range(6000):
        deep = ct.compose(ct.prim("sin"), ct.fork(deep, ct.scale(float(i))))
    assert deep.depth > 6000
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default, far below the term's depth
    try:
        assert tokenize(deep) == tokenize(deep)
    finally:
        sys.setrecursionlimit(before)
