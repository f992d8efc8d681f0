"""Caches keyed by terms, bounded by entries and by the bytes of the constants their keys hold.

A term's constants are numpy arrays (:func:`catterms.terms.const`), and a cache entry keyed by a term
keeps them alive: 256 entries of a term with a 100 MB constant hold 25 GB, where ``functools.lru_cache``
counts them as 256. :func:`cached` is an LRU bounded by entry count, like ``lru_cache(maxsize=...)``, and
every cache it makes also shares one process-wide byte budget: when the constants held by the entries
of all caches together pass it, the least recently used entries that hold constants go first, whichever
cache they are in. The budget is ``$CATTERMS_CACHE_MB`` MiB (default 512) or :func:`set_cache_limit`.

An entry weighs the constants of the terms among its arguments and of its result, if that is a term (a
derivative term). Each term is weighed once: the weight is remembered by the term's hash (computed at
construction), and a term's hash covers its constants' digests, so a term hashing like one already
weighed has the same constants. A hit costs a dict lookup and, for an entry that holds constants, a
move in the shared LRU order: O(1), as ``lru_cache``'s.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import count
from typing import Any, NamedTuple, ParamSpec, Protocol, TypeVar

from .terms import Term

P = ParamSpec("P")
R = TypeVar("R", covariant=True)

#: Weights remembered by term hash (ints only: it keeps no term alive), the oldest forgotten first.
WEIGHTS_REMEMBERED = 1 << 14

_MISSING = object()
_lock = threading.Lock()
_weights: dict[int, int] = {}
#: Entries that hold constants, least recently used first: token → (cache, key, bytes).
_weighted: OrderedDict[int, tuple[LRU, Hashable, int]] = OrderedDict()
_tokens = count(1)
_held = 0


def _budget_from_env() -> int:
    mb = os.environ.get("CATTERMS_CACHE_MB", "512")
    try:
        return max(0, int(float(mb) * (1 << 20)))
    except ValueError:
        raise ValueError(f"CATTERMS_CACHE_MB must be a number of MiB, got {mb!r}") from None


_budget = _budget_from_env()


class CacheInfo(NamedTuple):
    """``lru_cache``'s ``cache_info()`` fields, and the bytes of constants this cache's entries hold."""

    hits: int
    misses: int
    maxsize: int
    currsize: int
    bytes: int


def constant_bytes(term: Term) -> int:
    """The bytes of ``term``'s constant arrays, each distinct node counted once, those of the loop bodies its
    primitives hold included; remembered per term."""
    h = hash(term)
    known = _weights.get(h)
    if known is not None:
        return known
    total = sum(node.value.nbytes for node in term.nodes(bodies=True) if node.value is not None)
    remember(term, total)
    return total


def remember(term: Term, nbytes: int) -> None:
    """``term``'s constants weigh ``nbytes``, as a walk made anyway found (a type check's): :func:`constant_bytes`
    then answers without a walk of its own."""
    with _lock:
        if len(_weights) >= WEIGHTS_REMEMBERED:
            del _weights[next(iter(_weights))]
        _weights[hash(term)] = nbytes


def weight(args: tuple, result: Any) -> int:
    """What an entry weighs: the constants of the terms among ``args`` and of ``result``."""
    total = sum(constant_bytes(a) for a in args if isinstance(a, Term))
    return total + (constant_bytes(result) if isinstance(result, Term) else 0)


def set_cache_limit(nbytes: int) -> None:
    """The process-wide budget, in bytes, for the constants held by every :func:`cached` cache (0: keep no
    entry that holds constants); entries over it are evicted now."""
    global _budget
    if nbytes < 0:
        raise ValueError(f"a cache limit is a number of bytes >= 0, got {nbytes!r}")
    with _lock:
        _budget = int(nbytes)
        _shrink()


def cache_limit() -> int:
    """The process-wide budget in bytes (see :func:`set_cache_limit`)."""
    return _budget


def _shrink() -> None:
    """Evict the least recently used entries that hold constants until they fit the budget (lock held)."""
    global _held
    while _held > _budget and _weighted:
        _, (cache, key, nbytes) = _weighted.popitem(last=False)
        del cache.data[key]
        cache.bytes -= nbytes
        _held -= nbytes


class LRU:
    """A mapping bounded by ``entries`` and, through the shared budget, by the constants its keys and
    values hold. ``get`` marks an entry as recently used; ``put`` may evict entries of any cache."""

    def __init__(self, entries: int) -> None:
        if entries < 1:
            raise ValueError(f"a cache needs room for at least one entry, got {entries!r}")
        self.entries = entries
        self.data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()  # key → (value, token or 0)
        self.hits = self.misses = self.bytes = 0

    def get(self, key: Hashable, default: Any = None) -> Any:
        with _lock:
            # taken out and put back under the caller's key, not moved to the end: an equal term that is
            # another object (compiled again, decoded from the wire) would be compared node by node on every
            # lookup until it is the key itself
            found = self.data.pop(key, None)  # values are (value, token) pairs, never None
            if found is None:
                self.misses += 1
                return default
            self.hits += 1
            self.data[key] = found
            if found[1]:
                _weighted[found[1]] = (self, key, _weighted[found[1]][2])
                _weighted.move_to_end(found[1])
            return found[0]

    def peek(self, key: Hashable, default: Any = None) -> Any:
        """The value under ``key``, or ``default``, without counting a hit or a miss or marking it as used:
        for a caller that reuses what this cache holds if it is there (its own cache counts the call)."""
        with _lock:
            found = self.data.get(key)
        return default if found is None else found[0]

    def put(self, key: Hashable, value: Any, nbytes: int) -> None:
        """Keep ``value`` under ``key``; ``nbytes``: the constants it holds (see :func:`weight`)."""
        global _held
        with _lock:
            if key in self.data:
                self._drop(key)
            if nbytes > _budget:
                return  # it would evict every other entry and then itself
            token = next(_tokens) if nbytes else 0
            self.data[key] = (value, token)
            if token:
                _weighted[token] = (self, key, nbytes)
                self.bytes += nbytes
                _held += nbytes
            while len(self.data) > self.entries:
                self._drop(next(iter(self.data)))
            _shrink()

    def _drop(self, key: Hashable) -> None:
        global _held
        _, token = self.data.pop(key)
        if token:
            nbytes = _weighted.pop(token)[2]
            self.bytes -= nbytes
            _held -= nbytes

    def clear(self) -> None:
        with _lock:
            for key in list(self.data):
                self._drop(key)
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self.data)

    def info(self) -> CacheInfo:
        return CacheInfo(self.hits, self.misses, self.entries, len(self.data), self.bytes)


class Cached(Protocol[P, R]):
    """A function wrapped by :func:`cached`: called as the function, with its cache's controls."""

    @property
    def __wrapped__(self) -> Callable[P, R]: ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def cache_clear(self) -> None: ...

    def cache_info(self) -> CacheInfo: ...


def cached(entries: int) -> Callable[[Callable[P, R]], Cached[P, R]]:
    """``functools.lru_cache(maxsize=entries)`` for functions of terms, sharing the process-wide byte budget
    (module docstring); the result has ``cache_clear()``, ``cache_info()`` (with ``bytes``) and ``__wrapped__``."""

    def decorate(fn: Callable[P, R]) -> Cached[P, R]:
        cache = LRU(entries)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = (args, tuple(kwargs.items())) if kwargs else args
            value = cache.get(key, _MISSING)
            if value is _MISSING:
                value = fn(*args, **kwargs)
                cache.put(key, value, weight(args + tuple(kwargs.values()), value))
            return value

        wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
        wrapper.cache_info = cache.info  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
