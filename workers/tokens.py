"""Dask's token for a term: structural, so equal terms get equal tokens in every process.

Dask names a graph by tokenizing what it holds, the terms in its tasks included. The token is a digest
of the term's node table (each distinct node once, children by index, as the wire format orders them;
a constant by its dtype, shape and content digest), kept per term by a :func:`~catterms.caches.cached`
cache, so a term submitted again — every job of a plan the Executor has cached — costs a lookup.
Registered with ``dask.base.normalize_token`` when this module is imported (:mod:`workers.graph` does).
"""

from __future__ import annotations

import hashlib

from dask.base import normalize_token

from catterms.caches import cached
from catterms.terms import Term


@cached(entries=1024)
def token(term: Term) -> str:
    """The hex digest of ``term``'s structure: equal for equal terms, in any process."""
    index: dict[int, int] = {}
    table: list[tuple[str, tuple, tuple[int, ...]]] = []
    for node in term.nodes():
        index[id(node)] = len(table)
        table.append((node.op, node.data, tuple([index[id(a)] for a in node.args])))
    # a node's data holds only strings, numbers, tuples, array types and digests, whose repr is canonical
    return hashlib.blake2b(repr(table).encode(), digest_size=16).hexdigest()


@normalize_token.register(Term)
def _normalize(term: Term) -> tuple[str, str]:
    return "catterms.Term", token(term)
